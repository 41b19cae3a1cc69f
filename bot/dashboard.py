"""The facilitators' dashboard: server-rendered pages with inline CSS and SVG, nothing fetched from elsewhere.

Login is a one-time code sent by the bot to the facilitator's own phone; the session cookie is a random
token (stored hashed), HttpOnly and SameSite=Strict, Secure when the public URL is https. Every POST
carries a CSRF token derived from the session and must come from our own origin. A facilitator sees only
the clusters they are an admin of; any other cluster is refused with nothing shown or changed.

Pages for a domain read its EXPORTS (the same rows the CSV export gives, dates in the cluster's timezone),
so a domain that is not installed yet simply shows nothing.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import i18n, outbox, tables
from bot.config import Settings
from bot.logsafe import mask
from storage import broadcasts as bstore
from storage import dashboard_auth as auth
from storage import kpis as kpi_store
from storage.clusters import Cluster, find_by_code
from storage.db import session_scope, utcnow
from storage.members import Member, MemberError, decide, find_member, normalise_phone
from storage.messages import OutboundMessage
from storage.models import export_registry

COOKIE = "cb_dash"
LOGIN_KIND = "login"  # the outbox kind of login codes: never shown to the other admins of the cluster
MAX_FORM = 8 * 1024
PAGE_ROWS = 200
PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#975a16", "#2c7a7b", "#9b2c2c")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
KPI_LABELS = {
    "committed": ("Committed members", "at least 80 % of participants"),
    "industry": ("Firms and farms among committed", "more than 70 %, and at least one academia member"),
    "contact": ("Personal contact, last 12 months", "more than 40 % (60 % for excellence)"),
    "joint": ("Joint activities, last 12 months", "more than 30 % (events attended, joint purchases)"),
    "women": ("Women among participants", ""),
    "engaged": ("Wrote to the bot, last 90 days", ""),
    "poll_response": ("Poll response rate", ""),
    "satisfaction": ("Satisfaction in polls", ""),
    "savings": ("Savings held", ""),
    "loans_outstanding": ("Loans outstanding", ""),
    "purchase_savings": ("Saved by joint purchases, last 12 months", ""),
}
PAGES = (("", "Overview"), ("members", "Members"), ("events", "Events"), ("purchases", "Purchases"),
         ("savings", "Savings"), ("polls", "Polls"), ("outbox", "Outbox"))
DOMAIN_KINDS = {"events": ("events", "rsvps"), "purchases": ("purchases", "pledges"),
                "savings": ("loans", "ledger"), "polls": ("polls",)}
CSS = """body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
header{background:#234e52;color:#fff;padding:.5em 1em}header a{color:#fff;margin-right:.8em}
main{padding:1em;max-width:70em}table{border-collapse:collapse;background:#fff;width:100%;margin:.5em 0}
td,th{border:1px solid #cbd5e0;padding:.25em .5em;text-align:left;vertical-align:top}
.ok{color:#22543d;font-weight:bold}.low{color:#9b2c2c;font-weight:bold}.muted{color:#718096}
form.inline{display:inline}button{padding:.2em .6em}.cards{display:flex;flex-wrap:wrap;gap:.5em}
.card{background:#fff;border:1px solid #cbd5e0;padding:.5em;min-width:14em}input,select{max-width:12em}
.flash{background:#fefcbf;padding:.5em;border:1px solid #d69e2e}"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def page(title: str, body: str, *, cluster: Cluster | None = None, member: Member | None = None,
         csrf: str = "", status: int = 200) -> HTMLResponse:
    nav = ""
    if cluster is not None:
        base = f"/dashboard/c/{esc(cluster.code)}"
        links = "".join(f'<a href="{base}/{slug}">{label}</a>' for slug, label in PAGES)
        nav = (f"<header><strong>{esc(cluster.name)}</strong> · {links}"
               f'<form class="inline" method="post" action="/dashboard/logout">'
               f'<input type="hidden" name="csrf" value="{esc(csrf)}"><button>Log out</button></form>'
               f'<span class="muted"> {esc(member.name if member else "")}</span></header>')
    text = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)} – clusterbot'
            f"</title><style>{CSS}</style></head><body>{nav}<main><h1>{esc(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def table(columns: list[str], rows: list[list], empty: str = "Nothing yet.") -> str:
    if not rows:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar(value: float | None, threshold: float | None, width: int = 160) -> str:
    """A share as a bar with the threshold marked: readable at a glance, a few hundred bytes."""
    if value is None:
        return ""
    filled = round(min(max(value, 0), 1) * width)
    mark = "" if threshold is None else (f'<line x1="{round(threshold * width)}" x2="{round(threshold * width)}" '
                                         f'y1="0" y2="14" stroke="#1a202c" stroke-width="2"/>')
    return (f'<svg width="{width}" height="14" role="img" aria-label="{_pct(value)}">'
            f'<rect width="{width}" height="14" fill="#e2e8f0"/><rect width="{filled}" height="14" '
            f'fill="#3182ce"/>{mark}</svg>')


def distribution_chart(options: list[str], counts: list[int]) -> str:
    """Horizontal bars, one per answer option, with count and share."""
    total = sum(counts) or 1
    row_h, label_w, bar_w = 22, 150, 220
    parts = []
    for i, (label, count) in enumerate(zip(options, counts, strict=False)):
        y = i * row_h
        width = round(count / total * bar_w)
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{esc(label[:22])}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{width}" height="16" fill="{PALETTE[i % 8]}"/>'
                     f'<text x="{label_w + width + 4}" y="{y + 15}" font-size="12">{count} '
                     f'({count * 100 // total} %)</text>')
    height = max(len(options), 1) * row_h
    return (f'<svg class="chart" width="{label_w + bar_w + 80}" height="{height}" role="img" '
            f'aria-label="distribution">{"".join(parts)}</svg>')


def trend_chart(options: list[str], rounds: list[dict]) -> str:
    """Each option's share of answers across rounds: one line per option, rounds left to right."""
    w, h, pad = 360, 140, 24
    step = (w - 2 * pad) / max(len(rounds) - 1, 1)
    lines, legend = [], []
    for i, label in enumerate(options):
        points = []
        for j, rnd in enumerate(rounds):
            counts = rnd.get("counts", [])
            total = sum(counts) or 1
            share = (counts[i] if i < len(counts) else 0) / total
            points.append(f"{pad + j * step:.0f},{h - pad - share * (h - 2 * pad):.0f}")
        lines.append(f'<polyline fill="none" stroke="{PALETTE[i % 8]}" stroke-width="2" '
                     f'points="{" ".join(points)}"/>')
        legend.append(f'<span style="color:{PALETTE[i % 8]}">■ {esc(label)}</span>')
    labels = "".join(f'<text x="{pad + j * step:.0f}" y="{h - 6}" font-size="11" text-anchor="middle">'
                     f'{esc(str(r.get("label", j + 1))[:12])}</text>' for j, r in enumerate(rounds))
    axis = (f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#a0aec0"/>'
            f'<text x="2" y="{pad}" font-size="10">100 %</text>')
    return (f'<svg class="chart trend" width="{w}" height="{h}" role="img" aria-label="trend">{axis}'
            f'{"".join(lines)}{labels}</svg><div>{" ".join(legend)}</div>')


def poll_charts(data: list[dict]) -> str:
    """Polls as the polls domain gives them: each question's distribution in the last round, then the trend."""
    if not data:
        return '<p class="muted">No polls yet.</p>'
    out = []
    for poll in data:
        out.append(f"<h2>{esc(poll.get('title', ''))}</h2>")
        for q in poll.get("questions", []):
            rounds = q.get("rounds") or []
            options = [str(o) for o in q.get("options", [])]
            out.append(f"<h3>{esc(q.get('text', ''))}</h3>")
            if not rounds:
                out.append('<p class="muted">No answers yet.</p>')
                continue
            latest = rounds[-1]
            out.append(f"<p class=muted>{esc(latest.get('label', ''))}: {sum(latest.get('counts', []))} "
                       f"answers</p>{distribution_chart(options, latest.get('counts', []))}")
            if len(rounds) > 1:
                out.append(f"<h4>Trend between rounds</h4>{trend_chart(options, rounds)}")
    return "".join(out)


def poll_data(session: Session, cluster: Cluster) -> list[dict]:
    """Each poll's questions with the count of every answer per round, oldest round first (text answers
    are left out: a chart of free text means nothing, and they may name people)."""
    try:
        from storage import polls
    except ImportError:
        return []
    if not hasattr(polls, "round_results"):
        return []
    found = []
    for poll in sorted(polls.cluster_polls(session, cluster), key=lambda p: p.id):
        results = [(rnd, polls.round_results(session, rnd)) for rnd in polls.rounds(session, poll)]
        questions = []
        for q in polls.questions(session, poll):
            if q.kind == "text" or q.scale is None:
                continue
            low, high = q.scale
            values = list(range(low, high + 1))
            labels = q.options_in("en") if q.kind == "choice" else (
                ["Yes", "No"] if q.kind == "yesno" else [str(v) for v in values])
            rounds = []
            for rnd, result in results:
                answer = result.by_position().get(q.position)
                counts = [answer.distribution.get(v, 0) for v in values] if answer else [0] * len(values)
                rounds.append({"label": f"Round {rnd.number}", "counts": counts})
            questions.append({"text": q.text_in("en"), "options": labels, "rounds": rounds})
        found.append({"title": poll.title, "questions": questions})
    return found


def _export_rows(session: Session, cluster: Cluster, kind: str, limit: int = PAGE_ROWS) -> tuple[list, list]:
    """A domain's export rows as table cells; amounts kept in minor units (columns `*_minor`) are shown as
    money, since a treasurer reading 10000000 for TSh 100,000 would be off by a factor of a hundred."""
    exporter = export_registry().get(kind)
    if exporter is None:
        return [], []
    columns, rows = exporter(session, cluster)
    money = [i for i, c in enumerate(columns) if c.endswith("_minor")]
    where = columns.index("currency") if "currency" in columns else None
    found = []
    for row in rows:
        cells = list(row)
        currency = cells[where] if where is not None and cells[where] else cluster.currency
        for i in money:
            if isinstance(cells[i], int):
                cells[i] = i18n.format_money(cells[i], currency, "en", cluster.region)
        found.append([esc(v) for v in cells])
        if len(found) >= limit:
            break
    return [c.removesuffix("_minor") for c in columns], found


class Dashboard:
    """The routes share settings and database; each request runs its database work in a worker thread."""

    def __init__(self, settings: Settings, db: Engine):
        self.settings, self.db = settings, db
        self.secure = settings.public_base_url.startswith("https")

    # --- plumbing ------------------------------------------------------------------------------------
    async def form(self, request: Request) -> dict[str, str] | None:
        if len(await request.body()) > MAX_FORM:
            return None
        try:
            data = await request.form()
        except Exception:
            return None
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def same_origin(self, request: Request) -> bool:
        """A POST must come from a page of ours: browsers send Origin (or Referer) with form posts."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin:
            return True
        host = urlsplit(origin).netloc
        return host in (request.headers.get("host", ""), urlsplit(self.settings.public_base_url).netloc)

    def who(self, session: Session, request: Request) -> Member | None:
        return auth.session_member(session, request.cookies.get(COOKIE, ""), utcnow())

    def allowed(self, session: Session, member: Member, code: str) -> Cluster | None:
        """The cluster named in the URL, only if this facilitator is an active admin of it."""
        cluster = find_by_code(session, code)
        if cluster is None:
            return None
        if member.cluster_id == cluster.id:
            return cluster
        if member.phone and session.exec(select(Member.id).where(
                Member.cluster_id == cluster.id, Member.phone == member.phone, Member.status == "active",
                Member.admin_role.in_(("facilitator", "treasurer")))).first():
            return cluster
        return None

    def guarded(self, render: Callable, *, post: bool = False):
        """Wrap a cluster page: login, cluster authorisation and (for POST) origin and CSRF checks."""

        async def endpoint(request: Request) -> Response:
            form = await self.form(request) if post else {}
            token = request.cookies.get(COOKIE, "")
            if post and (form is None or not self.same_origin(request) or not auth.csrf_ok(token, form.get("csrf"))):
                return page("Refused", "<p>This form has expired or did not come from this dashboard. "
                            "Nothing was changed. Go back, reload the page and try again.</p>", status=403)

            def work() -> Response:
                with session_scope(self.db) as session:
                    member = self.who(session, request)
                    if member is None:
                        if post:
                            return page("Refused", "<p>Please log in. Nothing was changed.</p>", status=403)
                        return RedirectResponse("/dashboard", status_code=303)
                    cluster = self.allowed(session, member, request.path_params["code"])
                    if cluster is None:
                        return page("Refused", "<p>You are not a facilitator of this cluster. Nothing is shown "
                                    "or changed.</p>", status=403)
                    return render(session, request, member, cluster, form, auth.csrf_token(token))

            return await run_in_threadpool(work)

        return endpoint

    # --- login ---------------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        def work() -> Response:
            with session_scope(self.db) as session:
                member = self.who(session, request)
                if member is None:
                    return self.login_page(request)
                cluster = session.get(Cluster, member.cluster_id)
                return RedirectResponse(f"/dashboard/c/{cluster.code}/", status_code=303)

        return await run_in_threadpool(work)

    def login_page(self, request: Request, message: str = "", status: int = 200) -> Response:
        flash = f'<p class="flash">{esc(message)}</p>' if message else ""
        body = (f"{flash}<p>Facilitators and treasurers: enter your phone number. The bot will send you a "
                f'one-time code.</p><form method="post" action="/dashboard/login"><label>Phone '
                f'<input name="phone" type="tel" autocomplete="tel" required maxlength="32"></label> '
                f"<button>Send me a code</button></form>")
        response = page("Dashboard login", body, status=status)
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path="/dashboard")
        return response

    def code_page(self, phone: str, message: str = "", status: int = 200) -> Response:
        flash = f'<p class="flash">{esc(message)}</p>' if message else ""
        body = (f"{flash}<p>If {esc(phone)} belongs to a facilitator or treasurer, the bot has sent a code "
                f'to it. It works for 10 minutes.</p><form method="post" action="/dashboard/verify">'
                f'<input type="hidden" name="phone" value="{esc(phone)}"><label>Code <input name="code" '
                f'inputmode="numeric" autocomplete="one-time-code" required maxlength="6"></label> '
                f'<button>Log in</button></form><p><a href="/dashboard">Use another number</a></p>')
        return page("Enter your code", body, status=status)

    def _admins_for(self, session: Session, phone: str) -> list[Member]:
        return list(session.exec(select(Member).where(Member.phone == phone, Member.status == "active",
                                                      Member.admin_role.in_(("facilitator", "treasurer")))
                                 .order_by(Member.id)))

    async def login(self, request: Request) -> Response:
        form = await self.form(request)
        if form is None or not self.same_origin(request):
            return self.login_page(request, "That request was refused.", status=400)
        phone = normalise_phone(form.get("phone", ""), self.settings.default_region)
        if phone is None:
            return self.login_page(request, "That is not a valid phone number. Write it as +255712345678.",
                                   status=400)

        def work() -> None:
            with session_scope(self.db) as session:
                admins = self._admins_for(session, phone)
                if not admins:
                    return
                try:
                    code = auth.issue_code(session, admins[0])
                except auth.LoginError:
                    return
                outbox.notify(session, admins[0], "Your dashboard login code is {code}. It works for 10 minutes. "
                              "Do not share it with anyone.", kind=LOGIN_KIND, code=code)

        await run_in_threadpool(work)
        dispatcher = getattr(request.app.state, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake.set()
        return self.code_page(phone)

    async def verify(self, request: Request) -> Response:
        form = await self.form(request)
        if form is None or not self.same_origin(request):
            return self.login_page(request, "That request was refused.", status=400)
        phone = normalise_phone(form.get("phone", ""), self.settings.default_region)
        code = form.get("code", "").strip()
        if phone is None:
            return self.login_page(request, "That is not a valid phone number.", status=400)
        if not (code.isdecimal() and len(code) == 6):
            return self.code_page(phone, "The code is the 6 digits the bot sent you.", status=400)

        def work() -> str | None:
            with session_scope(self.db) as session:
                admins = self._admins_for(session, phone)
                if not admins:
                    return None
                try:
                    return auth.redeem_code(session, admins[0], code)
                except auth.LoginError:
                    return None

        token = await run_in_threadpool(work)
        if token is None:
            return self.code_page(phone, "That code is wrong or has expired. Ask for a new one if needed.",
                                  status=400)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(COOKIE, token, max_age=int(auth.SESSION_TTL.total_seconds()), path="/dashboard",
                            httponly=True, samesite="strict", secure=self.secure)
        return response

    async def logout(self, request: Request) -> Response:
        form = await self.form(request)
        token = request.cookies.get(COOKIE, "")
        if form is None or not auth.csrf_ok(token, form.get("csrf")):
            return page("Refused", "<p>This form has expired. Nothing was changed.</p>", status=403)

        def work() -> None:
            with session_scope(self.db) as session:
                auth.revoke(session, token)

        await run_in_threadpool(work)
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    # --- pages ---------------------------------------------------------------------------------------
    def overview(self, session, request, member, cluster, form, csrf) -> Response:
        now = utcnow()
        rows = []
        for k in kpi_store.compute(session, cluster, now):
            label, target = KPI_LABELS.get(k.key, (k.key, ""))
            if k.amount is not None or k.key in ("savings", "loans_outstanding", "purchase_savings"):
                value = "–" if k.amount is None else esc(i18n.format_money(k.amount, k.currency, "en", cluster.region))
                rows.append([esc(label), value, "", "", '<span class="muted">–</span>'])
                continue
            counts = "" if k.numerator is None else f"{k.numerator} of {k.denominator}"
            if k.academia is not None:
                counts += f"; academia: {k.academia}"
            state = {True: '<span class="ok">met</span>', False: '<span class="low">not met</span>',
                     None: '<span class="muted">–</span>'}[k.met]
            rows.append([esc(label), f"{_pct(k.value)} {bar(k.value, k.threshold)}", esc(counts), esc(target), state])
        counts = kpi_store.members_count(session, cluster)
        summary = ", ".join(f"{n} {esc(s)}" for s, n in sorted(counts.items())) or "no members yet"
        exports = " · ".join(f'<a href="/dashboard/c/{esc(cluster.code)}/export/{esc(kind)}.csv">{esc(kind)}</a>'
                             for kind in sorted(export_registry()))
        body = (f"<p>Members: {summary}. Participants are active members other than facilitators.</p>"
                + table(["KPI", "value", "count", "target", "status"], rows, "No members yet.")
                + f'<h2>Exports</h2><p><a href="/dashboard/c/{esc(cluster.code)}/export/all.xlsx">Excel workbook '
                f"(all kinds)</a> · CSV: {exports}</p>")
        return page("Overview", body, cluster=cluster, member=member, csrf=csrf)

    def members(self, session, request, member, cluster, form, csrf) -> Response:
        q = {k: request.query_params.get(k, "").strip()[:60] for k in
             ("q", "status", "sector", "location", "gender", "role")}
        stmt = select(Member).where(Member.cluster_id == cluster.id)
        for key in ("status", "gender", "role"):
            if q[key]:
                stmt = stmt.where(getattr(Member, key) == q[key])
        for key in ("sector", "location"):
            if q[key]:
                stmt = stmt.where(func.lower(getattr(Member, key)) == q[key].lower())
        if q["q"]:
            like = f"%{q['q'].lower()}%"
            stmt = stmt.where(func.lower(Member.name).like(like) | func.lower(Member.number).like(like)
                              | func.lower(Member.business).like(like) | Member.phone.like(like))
        found = list(session.exec(stmt.order_by(Member.status != "pending", Member.id).limit(PAGE_ROWS + 1)))
        base = f"/dashboard/c/{esc(cluster.code)}/members"
        rows = []
        for m in found[:PAGE_ROWS]:
            action = ""
            if m.status == "pending" and member.admin_role == "facilitator":
                action = "".join(
                    f'<form class="inline" method="post" action="{base}/{esc(m.number)}/{verb}">'
                    f'<input type="hidden" name="csrf" value="{esc(csrf)}"><button name="go" value="1" '
                    f'id="{verb}-{esc(m.number)}">{label}</button></form> '
                    for verb, label in (("approve", "Approve"), ("reject", "Reject")))
            rows.append([esc(m.number), esc(m.name), esc(m.business), esc(m.sector), esc(m.location),
                         esc(m.gender), esc(m.role), esc(m.status), "yes" if m.committed else "",
                         "STOP" if m.opted_out else "", action])

        def choice(key: str, options: tuple[str, ...]) -> str:
            opts = "".join(f'<option value="{o}"{" selected" if q[key] == o else ""}>{o or "any"}</option>'
                           for o in ("", *options))
            return f'<label>{key} <select name="{key}">{opts}</select></label> '

        filters = (f'<form method="get" action="{base}"><label>search <input name="q" value="{esc(q["q"])}">'
                   f'</label> {choice("status", ("pending", "active", "rejected", "left"))}'
                   f'{choice("gender", ("female", "male", "other"))}'
                   f'{choice("role", ("firm", "government", "academia", "support"))}'
                   f'<label>sector <input name="sector" value="{esc(q["sector"])}"></label> '
                   f'<label>location <input name="location" value="{esc(q["location"])}"></label> '
                   f"<button>Filter</button></form>")
        flash = request.query_params.get("done", "")
        note = f'<p class="flash">{esc(flash[:120])}</p>' if flash else ""
        more = f'<p class="muted">Showing the first {PAGE_ROWS}; filter to see others.</p>' \
            if len(found) > PAGE_ROWS else ""
        body = note + filters + table(["number", "name", "business", "sector", "location", "gender", "role",
                                       "status", "committed", "opted out", ""], rows, "No member matches.") + more
        return page("Members", body, cluster=cluster, member=member, csrf=csrf)

    def decide(self, verb: str):
        def render(session, request, member, cluster, form, csrf) -> Response:
            target = find_member(session, cluster, request.path_params["number"])
            base = f"/dashboard/c/{cluster.code}/members"
            if member.admin_role != "facilitator":
                return page("Refused", "<p>Only a facilitator can approve members. Nothing was changed.</p>",
                            cluster=cluster, member=member, csrf=csrf, status=403)
            if target is None:
                return page("Not found", "<p>No such member in this cluster. Nothing was changed.</p>",
                            cluster=cluster, member=member, csrf=csrf, status=404)
            try:
                decide(session, target, "active" if verb == "approve" else "rejected", member)
            except MemberError:
                return RedirectResponse(f"{base}?{urlencode({'done': f'{target.number} was already decided.'})}",
                                        status_code=303)
            if verb == "approve":
                outbox.notify(session, target, "Welcome to {cluster}! You are now a member, number {number}. "
                              "Send HELP to see what you can do.", in_cluster=cluster, cluster=cluster.name,
                              number=target.number)
                done = f"{target.number} {target.name} is now an active member."
            else:
                outbox.notify(session, target, "Sorry, your request to join {cluster} was not accepted. "
                              "Please talk to your facilitator.", in_cluster=cluster, cluster=cluster.name)
                done = f"{target.number} {target.name} was not accepted."
            return RedirectResponse(f"{base}?{urlencode({'done': done})}", status_code=303)

        return render

    def domain(self, slug: str, title: str):
        def render(session, request, member, cluster, form, csrf) -> Response:
            parts = []
            kinds = DOMAIN_KINDS[slug]
            if slug == "savings":
                parts.append(self._savings_totals(session, cluster))
                if member.admin_role != "treasurer":
                    kinds = ()
                    parts.append('<p class="muted">Members\' ledgers and loans are shown to the treasurer.</p>')
            if slug == "polls":
                parts.append(poll_charts(self._poll_data(session, cluster)))
            for kind in kinds:
                columns, rows = _export_rows(session, cluster, kind)
                parts.append(f"<h2>{esc(kind.capitalize())}</h2>" + table(columns, rows))
            return page(title, "".join(parts), cluster=cluster, member=member, csrf=csrf)

        return render

    def _savings_totals(self, session, cluster) -> str:
        found = [k for k in kpi_store.money(session, cluster, utcnow()) if k.key != "purchase_savings"]
        rows = [[esc(KPI_LABELS[k.key][0]), "–" if k.amount is None else
                 esc(i18n.format_money(k.amount, k.currency, "en", cluster.region))] for k in found]
        return table(["total", "amount"], rows)

    def _poll_data(self, session, cluster) -> list[dict]:
        return poll_data(session, cluster)

    def outbox(self, session, request, member, cluster, form, csrf) -> Response:
        rows = []
        for b in bstore.recent(session, cluster):
            d = bstore.delivery(session, b)
            done = d["sent"] + d["delivered"] + d["failed"]
            total = sum(d.values())
            rows.append([str(b.id), esc(b.segment), esc(b.text[:80]), esc(b.status),
                         f"{b.recipients} members, {b.segments_total} SMS segments",
                         f"{d['sent'] + d['delivered']} sent, {d['delivered']} delivered, {d['failed']} failed, "
                         f"{d['queued']} waiting {bar(done / total if total else None, None, 100)}"])
        status = dict(session.exec(select(OutboundMessage.status, func.count())
                                   .where(OutboundMessage.cluster_id == cluster.id)
                                   .group_by(OutboundMessage.status)).all())
        recent = session.exec(select(OutboundMessage).where(OutboundMessage.cluster_id == cluster.id)
                              .order_by(OutboundMessage.id.desc()).limit(50))
        numbers = dict(session.exec(select(Member.id, Member.number).where(Member.cluster_id == cluster.id)).all())
        messages = [[esc(m.created_at.astimezone(ZoneInfo(cluster.timezone)).strftime("%d %b %H:%M")),
                     esc(numbers.get(m.member_id, mask(m.address))), esc(m.kind), esc(m.status), str(m.segments),
                     '<span class="muted">(login code hidden)</span>' if m.kind == LOGIN_KIND else esc(m.text[:80]),
                     esc(m.last_error[:60])] for m in recent]
        body = (f"<p>All messages: {', '.join(f'{n} {esc(s)}' for s, n in sorted(status.items())) or 'none'}.</p>"
                "<h2>Broadcasts</h2>" + table(["id", "segment", "text", "status", "reach", "delivery"], rows,
                                              "No broadcasts yet.")
                + "<h2>Latest messages</h2>" + table(["at", "to", "kind", "status", "segments", "text", "error"],
                                                     messages))
        return page("Outbox and delivery", body, cluster=cluster, member=member, csrf=csrf)

    def export(self, session, request, member, cluster, form, csrf) -> Response:
        kind, fmt = request.path_params["kind"], request.path_params["fmt"]
        kinds = export_registry()
        if fmt == "xlsx" and kind == "all":
            buf = io.BytesIO()
            tables.write_xlsx(((name, *kinds[name](session, cluster)) for name in sorted(kinds)), buf)
            return Response(buf.getvalue(), headers={
                "Content-Disposition": f'attachment; filename="{cluster.code}-all.xlsx"', "Cache-Control": "no-store"},
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if kind not in kinds or fmt not in ("csv", "json"):
            return page("Not found", "<p>No such export.</p>", cluster=cluster, member=member, csrf=csrf,
                        status=404)
        out = io.StringIO()
        columns, rows = kinds[kind](session, cluster)
        (tables.write_csv if fmt == "csv" else tables.write_json)(columns, rows, out)
        return Response(out.getvalue(), media_type="text/csv" if fmt == "csv" else "application/json",
                        headers={"Content-Disposition": f'attachment; filename="{cluster.code}-{kind}.{fmt}"',
                                 "Cache-Control": "no-store"})


def routes(settings: Settings, db: Engine) -> list[Route]:
    """The dashboard's routes, to be appended to the app's: `routes=[..., *dashboard.routes(settings, db)]`."""
    d = Dashboard(settings, db)
    base = "/dashboard/c/{code}"
    found = [
        Route("/dashboard", d.home),
        Route("/dashboard/", d.home),
        Route("/dashboard/login", d.login, methods=["POST"]),
        Route("/dashboard/verify", d.verify, methods=["POST"]),
        Route("/dashboard/logout", d.logout, methods=["POST"]),
        Route(base, d.guarded(d.overview)),
        Route(base + "/", d.guarded(d.overview)),
        Route(base + "/members", d.guarded(d.members)),
        Route(base + "/members/{number}/approve", d.guarded(d.decide("approve"), post=True), methods=["POST"]),
        Route(base + "/members/{number}/reject", d.guarded(d.decide("reject"), post=True), methods=["POST"]),
        Route(base + "/outbox", d.guarded(d.outbox)),
        Route(base + "/export/{kind}.{fmt}", d.guarded(d.export)),
    ]
    for slug, title in PAGES:
        if slug in DOMAIN_KINDS:
            found.append(Route(f"{base}/{slug}", d.guarded(d.domain(slug, title))))
    return found


def page_weight(text: str) -> int:
    """Bytes a page costs on the wire before compression: what the README states for slow connections."""
    return len(text.encode("utf-8"))
