"""The facilitators' dashboard: server-rendered pages with inline CSS and SVG, nothing fetched from elsewhere.

Login is a one-time code sent by the bot to the facilitator's own phone; the session cookie is a random
token (stored hashed), HttpOnly and SameSite=Strict, Secure when the public URL is https. Every POST
carries a CSRF token derived from the session and must come from our own origin. A facilitator sees only
the clusters they are an admin of; any other cluster is refused with nothing shown or changed.

Pages for a domain read its EXPORTS (the same rows the CSV export gives, dates in the cluster's timezone),
so a domain that is not installed yet simply shows nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import i18n, outbox, tables, webbody
from bot.config import Settings
from bot.logsafe import mask
from storage import broadcasts as bstore
from storage import dashboard_auth as auth
from storage import kpis as kpi_store
from storage import polls
from storage.clusters import Cluster, find_by_code
from storage.db import session_scope, utcnow
from storage.members import Member, MemberError, decide, find_member, normalise_phone
from storage.messages import OutboundMessage
from storage.models import export_registry

COOKIE = "cb_dash"
DEVICE_COOKIE = "cb_device"  # a browser an officer logged in from: spared the per-requester login limits
LANG_COOKIE = "cb_lang"  # the language chosen on the page, for this browser session; wins over the member record
DOMAIN = "dashboard"  # the gettext domain of the pages: bot/locales/<lang>/LC_MESSAGES/dashboard.po
TEMPLATES = Path(__file__).parent / "templates" / "dashboard"
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


def P_(msgid: str) -> str:
    """Marks a sentence of the pages for the dashboard catalog; the template translates it when shown.

    Not N_: that marks SMS messages, which are held to the one-segment budget; page text is not.
    """
    return msgid


KPI_LABELS = {  # key: (label, target, how it is counted)
    "committed": (P_("Committed members"), P_("at least 80 %% of participants"),
                  P_("members with a confirmed savings deposit, an event attended or a pledge to a joint purchase "
                     "in the last 12 months, or marked committed by the facilitator (COMMITTED) in that time, of "
                     "all active members except facilitators")),
    "industry": (P_("Firms and farms among committed"), P_("more than 70 %%, and at least one academia member"),
                 P_("committed members whose role is firm (firms and farms), of all committed members; academia: "
                    "committed members whose role is academia")),
    "contact": (P_("Personal contact, last 12 months"), P_("more than 40 %% (60 %% for excellence)"),
                P_("members with a visit or call logged (VISIT, CALL) in the last 12 months, of all active members "
                   "except facilitators")),
    "joint": (P_("Joint activities, last 12 months"), P_("more than 30 %% (events attended, joint purchases)"),
              P_("members who attended an event (checked in or marked present) or pledged to a joint purchase in "
                 "the last 12 months, of all active members except facilitators")),
    "women": (P_("Women among participants"), "",
              P_("active members except facilitators who gave their gender as female")),
    "engaged": (P_("Wrote to the bot, last 90 days"), "",
                P_("members who sent the bot a message in the last 90 days, of all active members except "
                   "facilitators")),
    "poll_response": (P_("Poll response rate"), "",
                      P_("members who answered, of members asked, in the poll rounds opened in the last 12 months")),
    "satisfaction": (P_("Satisfaction in polls"), "",
                     P_("answers of 4 or 5 to the overall satisfaction question, of all its answers, in the last 12 "
                        "months")),
    "savings": (P_("Savings held"), "", P_("the members' savings balances added up, today")),
    "loans_outstanding": (P_("Loans outstanding"), "", P_("what members still owe on their loans, today")),
    "purchase_savings": (P_("Saved by joint purchases, last 12 months"), "",
                         P_("the usual price less the pooled price, on every unit pledged to a purchase ordered in "
                            "the last 12 months")),
}
MONEY_KPIS = ("savings", "loans_outstanding", "purchase_savings")
PAGES = (("", P_("Overview")), ("members", P_("Members")), ("events", P_("Events")), ("purchases", P_("Purchases")),
         ("savings", P_("Savings")), ("polls", P_("Polls")), ("outbox", P_("Outbox")))
DOMAIN_KINDS = {"events": ("events", "rsvps"), "purchases": ("purchases", "pledges"),
                "savings": ("loans", "ledger"), "polls": ("polls",)}
KIND_TITLES = {"events": P_("Events"), "rsvps": P_("Rsvps"), "purchases": P_("Purchases"), "pledges": P_("Pledges"),
               "loans": P_("Loans"), "ledger": P_("Ledger"), "polls": P_("Polls")}
# A member's coded fields as the facilitator reads them; the words registration uses, in the same catalog.
LABELS = {
    "status": {"pending": P_("waiting for approval"), "active": P_("active"), "rejected": P_("not accepted"),
               "left": P_("left")},
    "gender": {"female": P_("Woman"), "male": P_("Man"), "other": P_("Other")},
    "role": {"firm": P_("Firm or farm"), "government": P_("Government"), "academia": P_("Academia"),
             "support": P_("Support organisation")},
}
REFUSED, NOT_FOUND = P_("Refused"), P_("Not found")
FORM_EXPIRED = P_("This form has expired or did not come from this dashboard. Nothing was changed. "
                  "Go back, reload the page and try again.")


class CompactLoader(FileSystemLoader):
    """Templates with each line's indentation and line break taken out before compiling, so they can be
    laid out for reading while the pages stay small: a space that matters is written as {{ " " }}."""

    def get_source(self, environment: Environment, template: str):
        source, filename, uptodate = super().get_source(environment, template)
        return "".join(line.strip() for line in source.splitlines()), filename, uptodate


@cache
def environment(lang: str) -> Environment:
    """One Jinja2 environment per language, built once: autoescaping on, the dashboard catalog installed.

    Per language rather than per request, because installing translations changes the environment and
    requests run in worker threads at the same time.
    """
    env = Environment(loader=CompactLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.domain_translations(DOMAIN, lang), newstyle=True)
    env.globals.update(pages=PAGES, languages=tuple(i18n.LANGUAGE_NAMES.items()), LABELS=LABELS)
    return env


@dataclass(frozen=True)
class Formats:
    """Numbers, money and moments in the reader's language and the cluster's country and timezone."""

    lang: str
    region: str = ""
    tz: str = "UTC"

    def number(self, value) -> str:
        return i18n.format_number(value, self.lang, self.region)

    def money(self, minor: int, currency: str) -> str:
        return i18n.format_money(minor, currency, self.lang, self.region)

    def moment(self, when: datetime) -> str:
        return i18n.format_timestamp(when, self.lang, self.tz, self.region)

    def day(self, when: datetime) -> str:
        return i18n.format_day(i18n.local_time(when, self.tz), self.lang, self.region)


def render(template: str, lang: str, *, status: int = 200, cluster: Cluster | None = None,
           member: Member | None = None, csrf: str = "", here: str = "", **context) -> HTMLResponse:
    """A page in the reader's language. `here` is where the language switch comes back to (none: no switch)."""
    formats = Formats(lang, cluster.region, cluster.timezone) if cluster else Formats(lang)
    text = environment(lang).get_template(template).render(
        lang=lang, cluster=cluster, member=member, csrf=csrf, here=here, f=formats, **context)
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def message(lang: str, heading: str, text: str, *, status: int, **context) -> HTMLResponse:
    """A page that only says something (refused, not found): both msgids are marked with P_ by the caller."""
    return render("message.html", lang, heading=heading, text=text, status=status, **context)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _charts():
    return environment("en").get_template("charts.html").module


def bar(value: float | None, threshold: float | None, width: int = 160) -> dict | None:
    """A share as a bar with the threshold marked: readable at a glance, a few hundred bytes."""
    if value is None:
        return None
    return {"width": width, "filled": round(min(max(value, 0), 1) * width), "label": _pct(value),
            "mark": None if threshold is None else round(threshold * width)}


def distribution_chart(options: list[str], counts: list[int], number: Callable = str) -> Markup:
    """Horizontal bars, one per answer option, with count and share."""
    total = sum(counts) or 1
    row_h, label_w, bar_w = 22, 150, 220
    rows = [{"y": i * row_h, "x": label_w, "label": label[:22], "width": round(count / total * bar_w),
             "colour": PALETTE[i % 8], "count": number(count), "share": count * 100 // total}
            for i, (label, count) in enumerate(zip(options, counts, strict=False))]
    return _charts().distribution(rows, label_w + bar_w + 80, max(len(options), 1) * row_h)


def trend_chart(options: list[str], rounds: list[dict]) -> Markup:
    """Each option's share of answers across rounds: one line per option, rounds left to right."""
    w, h, pad = 360, 140, 24
    step = (w - 2 * pad) / max(len(rounds) - 1, 1)
    lines = []
    for i, label in enumerate(options):
        points = []
        for j, rnd in enumerate(rounds):
            counts = rnd.get("counts", [])
            share = (counts[i] if i < len(counts) else 0) / (sum(counts) or 1)
            points.append(f"{pad + j * step:.0f},{h - pad - share * (h - 2 * pad):.0f}")
        lines.append({"colour": PALETTE[i % 8], "points": " ".join(points), "label": label})
    labels = [(f"{pad + j * step:.0f}", str(r.get("label", j + 1))[:12]) for j, r in enumerate(rounds)]
    return _charts().trend(lines, labels, w, h, pad)


def poll_charts(data: list[dict], lang: str, formats: Formats) -> list[dict]:
    """Polls as the polls domain gives them, ready for the page: each question's distribution in the last
    round, then the trend. A round without a label of its own is named in the reader's language."""
    translations = i18n.domain_translations(DOMAIN, lang)
    yes_no = [translations.gettext(P_("Yes")), translations.gettext(P_("No"))]
    found = []
    for poll in data:
        questions = []
        for q in poll.get("questions", []):
            rounds = [dict(r, label=r.get("label") or translations.gettext(P_("Round %(number)s"))
                           % {"number": formats.number(r["number"])}) for r in q.get("rounds") or []]
            options = yes_no if q.get("kind") == "yesno" else [str(o) for o in q.get("options", [])]
            entry = {"text": q.get("text", ""), "answers": None}
            if rounds:
                latest = rounds[-1]
                entry.update(round=latest["label"], answers=sum(latest.get("counts", [])),
                             distribution=distribution_chart(options, latest.get("counts", []), formats.number),
                             trend=trend_chart(options, rounds) if len(rounds) > 1 else None)
            questions.append(entry)
        found.append({"title": poll.get("title", ""), "questions": questions})
    return found


def poll_data(session: Session, cluster: Cluster) -> list[dict]:
    """Each poll's questions with the count of every answer per round, oldest round first (text answers
    are left out: a chart of free text means nothing, and they may name people). Rounds carry their number
    and yes/no questions their kind, so the page can word both in the reader's language."""
    found = []
    for poll in sorted(polls.cluster_polls(session, cluster), key=lambda p: p.id):
        results = [(rnd, polls.round_results(session, rnd)) for rnd in polls.rounds(session, poll)]
        questions = []
        for q in polls.questions(session, poll):
            if q.kind == "text" or q.scale is None:
                continue
            low, high = q.scale
            values = list(range(low, high + 1))
            labels = q.options_in("en") if q.kind == "choice" else [str(v) for v in values]
            rounds = []
            for rnd, result in results:
                answer = result.by_position().get(q.position)
                counts = [answer.distribution.get(v, 0) for v in values] if answer else [0] * len(values)
                rounds.append({"number": rnd.number, "counts": counts})
            questions.append({"text": q.text_in("en"), "kind": q.kind, "options": labels, "rounds": rounds})
        found.append({"title": poll.title, "questions": questions})
    return found


def _export_rows(session: Session, cluster: Cluster, kind: str, formats: Formats,
                 limit: int = PAGE_ROWS) -> tuple[list, list]:
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
        cells = ["" if v is None else v for v in row]
        currency = cells[where] if where is not None and cells[where] else cluster.currency
        for i in money:
            if isinstance(cells[i], int):
                cells[i] = formats.money(cells[i], currency)
        found.append(cells)
        if len(found) >= limit:
            break
    return [c.removesuffix("_minor") for c in columns], found


def local_path(target: str) -> str:
    """Where a language change goes back to: a dashboard page of ours, never another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or not parts.path.startswith("/dashboard"):
        return "/dashboard"
    return target


class Dashboard:
    """The routes share settings and database; each request runs its database work in a worker thread."""

    def __init__(self, settings: Settings, db: Engine):
        self.settings, self.db = settings, db
        self.secure = settings.public_base_url.startswith("https")

    # --- plumbing ------------------------------------------------------------------------------------
    async def form(self, request: Request) -> dict[str, str] | None:
        """The posted form, or None when it is malformed or over MAX_FORM (never read past it)."""
        try:
            return await webbody.read_form(request, MAX_FORM)
        except webbody.BodyTooLarge:
            return None

    def same_origin(self, request: Request) -> bool:
        """A POST must come from a page of ours: browsers send Origin (or Referer) with form posts."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin:
            return True
        host = urlsplit(origin).netloc
        return host in (request.headers.get("host", ""), urlsplit(self.settings.public_base_url).netloc)

    @staticmethod
    def requester(request: Request) -> str:
        """Who is asking, for the login limits: the client address (a proxy's X-Forwarded-For counts only
        from FORWARDED_ALLOW_IPS), stored hashed."""
        return auth.requester_key(request.client.host if request.client else "")

    def who(self, session: Session, request: Request) -> Member | None:
        return auth.session_member(session, request.cookies.get(COOKIE, ""), utcnow())

    @staticmethod
    def language(request: Request, member: Member | None = None) -> str:
        """The language chosen on the page this session, else the facilitator's own (their member record)."""
        for lang in (request.cookies.get(LANG_COOKIE, ""), member.language if member else ""):
            if lang in i18n.LANGUAGES:
                return lang
        return "en"

    @staticmethod
    def here(request: Request) -> str:
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")

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

    def guarded(self, show: Callable, *, post: bool = False):
        """Wrap a cluster page: login, cluster authorisation and (for POST) origin and CSRF checks.

        `show(session, request, page)` gets the request's `Page`: who is reading, which cluster, in which
        language, and the CSRF token its forms carry.
        """

        async def endpoint(request: Request) -> Response:
            form = await self.form(request) if post else {}
            token = request.cookies.get(COOKIE, "")
            if post and (form is None or not self.same_origin(request) or not auth.csrf_ok(token, form.get("csrf"))):
                return message(self.language(request), REFUSED, FORM_EXPIRED, status=403)

            def work() -> Response:
                with session_scope(self.db) as session:
                    member = self.who(session, request)
                    if member is None:
                        if post:
                            return message(self.language(request), REFUSED,
                                           P_("Please log in. Nothing was changed."), status=403)
                        return RedirectResponse("/dashboard", status_code=303)
                    lang = self.language(request, member)
                    cluster = self.allowed(session, member, request.path_params["code"])
                    if cluster is None:
                        return message(lang, REFUSED, P_("You are not a facilitator of this cluster. Nothing is "
                                                         "shown or changed."), status=403)
                    page = Page(lang, member, cluster, auth.csrf_token(token), self.here(request))
                    return show(session, request, page)

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

    def login_page(self, request: Request, notice: str = "", status: int = 200) -> Response:
        response = render("login.html", self.language(request), notice=notice, status=status, here="/dashboard")
        if request.cookies.get(COOKIE):
            response.delete_cookie(COOKIE, path="/dashboard")
        return response

    def code_page(self, request: Request, phone: str, notice: str = "", status: int = 200) -> Response:
        """No language switch here: it would lose the number typed; the login page has one."""
        return render("code.html", self.language(request), phone=phone, notice=notice, status=status)

    def _admins_for(self, session: Session, phone: str) -> list[Member]:
        return list(session.exec(select(Member).where(Member.phone == phone, Member.status == "active",
                                                      Member.admin_role.in_(("facilitator", "treasurer")))
                                 .order_by(Member.id)))

    async def login(self, request: Request) -> Response:
        form = await self.form(request)
        if form is None or not self.same_origin(request):
            return self.login_page(request, P_("That request was refused."), status=400)
        phone = normalise_phone(form.get("phone", ""), self.settings.default_region)
        if phone is None:
            return self.login_page(request, P_("That is not a valid phone number. Write it as +255712345678."),
                                   status=400)

        def work() -> None:
            with session_scope(self.db) as session:
                admins = self._admins_for(session, phone)
                if not admins:
                    return
                try:
                    code = auth.issue_code(session, admins[0], requester=self.requester(request),
                                           device_token=request.cookies.get(DEVICE_COOKIE, ""))
                except auth.LoginError:
                    return
                if code is None:  # a code went to this phone a moment ago: that one stays valid
                    return
                outbox.notify(session, admins[0], "Your dashboard login code is {code}. It works for 10 minutes. "
                              "Do not share it with anyone.", kind=LOGIN_KIND, code=code)

        await run_in_threadpool(work)
        dispatcher = getattr(request.app.state, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake.set()
        return self.code_page(request, phone)

    async def verify(self, request: Request) -> Response:
        form = await self.form(request)
        if form is None or not self.same_origin(request):
            return self.login_page(request, P_("That request was refused."), status=400)
        phone = normalise_phone(form.get("phone", ""), self.settings.default_region)
        code = form.get("code", "").strip()
        if phone is None:
            return self.login_page(request, P_("That is not a valid phone number."), status=400)
        if not (code.isdecimal() and len(code) == 6):
            return self.code_page(request, phone, P_("The code is the 6 digits the bot sent you."), status=400)

        def work() -> tuple[str, str] | None:
            with session_scope(self.db) as session:
                admins = self._admins_for(session, phone)
                if not admins:
                    return None
                try:
                    return auth.redeem_code(session, admins[0], code, requester=self.requester(request),
                                            device_token=request.cookies.get(DEVICE_COOKIE, ""))
                except auth.LoginError:
                    return None

        tokens = await run_in_threadpool(work)
        if tokens is None:
            return self.code_page(request, phone, P_("That code is wrong or has expired. Ask for a new one if "
                                                     "needed."), status=400)
        token, device = tokens
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(COOKIE, token, max_age=int(auth.SESSION_TTL.total_seconds()), path="/dashboard",
                            httponly=True, samesite="strict", secure=self.secure)
        if device:
            response.set_cookie(DEVICE_COOKIE, device, max_age=int(auth.DEVICE_TTL.total_seconds()),
                                path="/dashboard", httponly=True, samesite="strict", secure=self.secure)
        return response

    async def logout(self, request: Request) -> Response:
        form = await self.form(request)
        token = request.cookies.get(COOKIE, "")
        if form is None or not auth.csrf_ok(token, form.get("csrf")):
            return message(self.language(request), REFUSED, P_("This form has expired. Nothing was changed."),
                           status=403)

        def work() -> None:
            with session_scope(self.db) as session:
                auth.revoke(session, token)

        await run_in_threadpool(work)
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE, path="/dashboard")
        response.delete_cookie(LANG_COOKIE, path="/dashboard")  # the next person at this browser gets their own
        return response

    async def switch_language(self, request: Request) -> Response:
        """The language buttons: a POST from our own pages, with the session's CSRF token once logged in."""
        form = await self.form(request)
        token = request.cookies.get(COOKIE, "")
        lang = self.language(request)
        if form is None or not self.same_origin(request) or token and not auth.csrf_ok(token, form.get("csrf")):
            return message(lang, REFUSED, FORM_EXPIRED, status=403)
        chosen = form.get("lang", "")
        if chosen not in i18n.LANGUAGES:
            return message(lang, REFUSED, P_("That language is not available. Nothing was changed."), status=400)
        response = RedirectResponse(local_path(form.get("next", "")), status_code=303)
        response.set_cookie(LANG_COOKIE, chosen, path="/dashboard", httponly=True, samesite="strict",
                            secure=self.secure)
        return response

    # --- pages ---------------------------------------------------------------------------------------
    def overview(self, session: Session, request: Request, page: Page) -> Response:
        cluster, formats = page.cluster, page.formats
        kpis = []
        for k in kpi_store.compute(session, cluster, utcnow()):
            label, target, how = KPI_LABELS.get(k.key, (k.key, "", ""))
            money = None
            if k.amount is not None or k.key in MONEY_KPIS:
                money = "–" if k.amount is None else formats.money(k.amount, k.currency)
            kpis.append({"label": label, "target": target, "how": how, "money": money, "share": _pct(k.value),
                         "bar": bar(k.value, k.threshold), "numerator": k.numerator, "denominator": k.denominator,
                         "academia": k.academia, "met": k.met})
        counts = sorted(kpi_store.members_count(session, cluster).items())
        return page.render("overview.html", kpis=kpis, counts=counts, kinds=sorted(export_registry()))

    def members(self, session: Session, request: Request, page: Page) -> Response:
        cluster = page.cluster
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
        committed = kpi_store.committed_ids(session, cluster.id, utcnow())
        return page.render("members.html", q=q, rows=found[:PAGE_ROWS], base=f"/dashboard/c/{cluster.code}/members",
                           committed=committed, marks_from=utcnow() - kpi_store.YEAR,
                           decide=page.member.admin_role == "facilitator",
                           more=PAGE_ROWS if len(found) > PAGE_ROWS else 0,
                           notice=self._decided(session, request, page))

    def _decided(self, session: Session, request: Request, page: Page) -> str:
        """The line after approving or rejecting: worded here from the member's record, never from the URL,
        so a crafted link cannot put words of its own on the page."""
        done = request.query_params.get("done", "")
        target = find_member(session, page.cluster, request.query_params.get("number", "")) if done else None
        text = DECIDED.get(done)
        if target is None or text is None:
            return ""
        return page.gettext(text) % {"number": target.number, "name": target.name}

    def decide(self, verb: str):
        def show(session: Session, request: Request, page: Page) -> Response:
            cluster, member = page.cluster, page.member
            target = find_member(session, cluster, request.path_params["number"])
            base = f"/dashboard/c/{cluster.code}/members"
            if member.admin_role != "facilitator":
                return page.message(REFUSED, P_("Only a facilitator can approve members. Nothing was changed."),
                                    status=403)
            if target is None:
                return page.message(NOT_FOUND, P_("No such member in this cluster. Nothing was changed."),
                                    status=404)
            try:
                decide(session, target, "active" if verb == "approve" else "rejected", member)
            except MemberError:
                done = "decided"
            else:
                done = "approved" if verb == "approve" else "rejected"
                if verb == "approve":
                    outbox.notify(session, target, "Welcome to {cluster}! You are now a member, number {number}. "
                                  "Send HELP to see what you can do.", in_cluster=cluster, cluster=cluster.name,
                                  number=target.number)
                else:
                    outbox.notify(session, target, "Sorry, your request to join {cluster} was not accepted. "
                                  "Please talk to your facilitator.", in_cluster=cluster, cluster=cluster.name)
            return RedirectResponse(f"{base}?{urlencode({'done': done, 'number': target.number})}",
                                    status_code=303)

        return show

    def domain(self, slug: str, title: str):
        def show(session: Session, request: Request, page: Page) -> Response:
            kinds, totals, hidden, polls = DOMAIN_KINDS[slug], None, False, None
            if slug == "savings":
                totals = self._savings_totals(session, page)
                if page.member.admin_role != "treasurer":
                    kinds, hidden = (), True
            if slug == "polls":
                polls = poll_charts(poll_data(session, page.cluster), page.lang, page.formats)
            sections = [(KIND_TITLES[kind], *_export_rows(session, page.cluster, kind, page.formats))
                        for kind in kinds]
            return page.render("domain.html", heading=title, totals=totals, hidden=hidden, polls=polls,
                               sections=sections)

        return show

    def _savings_totals(self, session: Session, page: Page) -> list[tuple[str, str]]:
        found = [k for k in kpi_store.money(session, page.cluster, utcnow()) if k.key != "purchase_savings"]
        return [(KPI_LABELS[k.key][0], "–" if k.amount is None else page.formats.money(k.amount, k.currency))
                for k in found]

    def outbox(self, session: Session, request: Request, page: Page) -> Response:
        cluster = page.cluster
        broadcasts = []
        for b in bstore.recent(session, cluster):
            d = bstore.delivery(session, b)
            done, total = d["sent"] + d["delivered"] + d["failed"], sum(d.values())
            broadcasts.append({"id": b.id, "segment": b.segment, "text": b.text[:80], "status": b.status,
                               "recipients": b.recipients, "segments": b.segments_total,
                               "sent": d["sent"] + d["delivered"], "delivered": d["delivered"], "failed": d["failed"],
                               "queued": d["queued"], "bar": bar(done / total if total else None, None, 100)})
        status = sorted(session.exec(select(OutboundMessage.status, func.count())
                                     .where(OutboundMessage.cluster_id == cluster.id)
                                     .group_by(OutboundMessage.status)).all())
        recent = session.exec(select(OutboundMessage).where(OutboundMessage.cluster_id == cluster.id)
                              .order_by(OutboundMessage.id.desc()).limit(50))
        numbers = dict(session.exec(select(Member.id, Member.number).where(Member.cluster_id == cluster.id)).all())
        hidden = Markup('<span class="muted">%s</span>') % page.gettext(P_("(login code hidden)"))
        messages = [[page.formats.moment(m.created_at), numbers.get(m.member_id, mask(m.address)), m.kind, m.status,
                     m.segments, hidden if m.kind == LOGIN_KIND else m.text[:80], m.last_error[:60]] for m in recent]
        return page.render("outbox.html", status_counts=status, broadcasts=broadcasts, messages=messages)

    def export(self, session: Session, request: Request, page: Page) -> Response:
        cluster = page.cluster
        kind, fmt = request.path_params["kind"], request.path_params["fmt"]
        kinds = export_registry()
        if fmt == "xlsx" and kind == "all":
            buf = io.BytesIO()
            tables.write_xlsx(((name, *kinds[name](session, cluster)) for name in sorted(kinds)), buf)
            return Response(buf.getvalue(), headers={
                "Content-Disposition": f'attachment; filename="{cluster.code}-all.xlsx"', "Cache-Control": "no-store"},
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if kind not in kinds or fmt not in ("csv", "json"):
            return page.message(NOT_FOUND, P_("No such export."), status=404)
        out = io.StringIO()
        columns, rows = kinds[kind](session, cluster)
        (tables.write_csv if fmt == "csv" else tables.write_json)(columns, rows, out)
        return Response(out.getvalue(), media_type="text/csv" if fmt == "csv" else "application/json",
                        headers={"Content-Disposition": f'attachment; filename="{cluster.code}-{kind}.{fmt}"',
                                 "Cache-Control": "no-store"})


DECIDED = {
    "approved": P_("%(number)s %(name)s is now an active member."),
    "rejected": P_("%(number)s %(name)s was not accepted."),
    "decided": P_("%(number)s was already decided."),
}


@dataclass(frozen=True)
class Page:
    """What every cluster page is rendered with: reader, cluster, language, CSRF token, where it is."""

    lang: str
    member: Member
    cluster: Cluster
    csrf: str
    here: str

    @property
    def formats(self) -> Formats:
        return Formats(self.lang, self.cluster.region, self.cluster.timezone)

    def gettext(self, msgid: str) -> str:
        return i18n.domain_translations(DOMAIN, self.lang).gettext(msgid)

    def render(self, template: str, **context) -> HTMLResponse:
        return render(template, self.lang, cluster=self.cluster, member=self.member, csrf=self.csrf,
                      here=self.here, **context)

    def message(self, heading: str, text: str, *, status: int) -> HTMLResponse:
        return message(self.lang, heading, text, status=status, cluster=self.cluster, member=self.member,
                       csrf=self.csrf)


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
    found.append(Route("/dashboard/language", d.switch_language, methods=["POST"]))
    return found


def page_weight(text: str) -> int:
    """Bytes a page costs on the wire before compression: what the README states for slow connections."""
    return len(text.encode("utf-8"))
