"""USSD menus (Africa's Talking): one screen per gateway request, the session's place kept in the database.

The gateway posts `sessionId`, `phoneNumber`, `serviceCode`, `networkCode` and `text`, every answer of the
session so far joined by `*` ("" on the dial, then "1", "1*5000", ...), and shows the answer: `CON ` and
a screen that waits for an answer, or `END ` and a last screen. A screen is at most 160 characters of the
GSM-7 basic set (telcos render nothing else), so an Amharic member reads romanised Amharic.

Each request acts through `bot.engine.receive` like a message: the phone's SMS identity and member, the
same handlers, storage rules and transaction. Its one answer (the last part of `text`) is read here: at
a menu (bot/handlers/menu.py) a number opens a menu, begins a flow or runs a command; inside a flow the
answer goes to the flow as an SMS answer would. The session row (storage/ussd.py) keeps the menu's place
and the last screen in the same transaction, so a gateway retry of the same `text` gets the same screen
and acts once (the inbound id `ussd-<session>-<answers>` is deduplicated like any message).

Keys on every screen: `0` back (a menu up, or the flow's question before; at a flow's first question, the
menu it came from), `00` the main menu, `98` more (a long menu's next page; a long answer's MORE).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot import engine as bot_engine
from bot import flow, i18n, outbox, router, sms
from bot.config import Settings
from bot.context import Ctx, refusal_for
from bot.engine import Inbound
from bot.handlers import menu
from bot.handlers.glossary import MORE_HINT
from storage.db import session_scope, utcnow
from storage.glossary import GlossaryIndex
from storage.members import normalise_phone
from storage.ussd import UssdSession, find, record_end

log = logging.getLogger(__name__)

PATH = "/webhooks/africastalking/ussd"
END_PATH = "/webhooks/africastalking/ussd/end"  # the end-of-session notification ("events callback")
PROVIDER = "ussd"  # what the screens shown are recorded as (sent, never dispatched)
SCREEN = 160
TITLE, LINE = 100, 40  # what a menu's title and each of its lines may take of a screen
BACK, HOME, MORE = "0", "00", "98"
ZERO_ANSWERS = frozenset({"polls"})  # flows where 0 is an answer (a 0-10 score), not "back"
CHOICE, NOTHING, GONE = menu.CHOICE, menu.NOTHING, menu.GONE
SORRY = i18n.N_("Sorry, something went wrong. Please try again later.")


@dataclass(frozen=True)
class Dial:
    session_id: str
    phone: str
    text: str = ""
    service_code: str = ""
    network_code: str = ""


def dial_from_form(form: dict[str, str], settings: Settings) -> Dial | None:
    session_id, phone = form.get("sessionId", "").strip(), form.get("phoneNumber", "").strip()
    if not session_id or not phone:
        return None
    return Dial(session_id=session_id[:100], phone=normalise_phone(phone, settings.default_region) or phone[:32],
                text=form.get("text", "") or "", service_code=form.get("serviceCode", "")[:40],
                network_code=form.get("networkCode", "")[:16])


def answers(text: str) -> list[str]:
    """The session's answers in order: "" is the dial itself (no answer yet)."""
    return [part.strip() for part in text.split("*")] if text else []


# ---------------------------------------------------------------- the menu's place

@dataclass
class Place:
    """Where the session is: a stack of menus [name, arg, page] (the main menu at the bottom), and the
    flow whose question is on screen (''), which the conversations table holds like any SMS flow."""

    stack: list = field(default_factory=lambda: [[menu.MAIN, "", 0]])
    flow: str = ""

    @classmethod
    def load(cls, text: str) -> Place:
        data = json.loads(text or "{}")
        return cls(stack=data.get("stack") or [[menu.MAIN, "", 0]], flow=data.get("flow", ""))

    def dump(self) -> str:
        return json.dumps({"stack": self.stack, "flow": self.flow})


@dataclass
class Screen:
    text: str
    end: bool

    @property
    def answer(self) -> str:
        return ("END " if self.end else "CON ") + self.text


def plain(text: str) -> str:
    """A screen in the GSM-7 basic set: spelt in GSM-7 where faithful, Ethiopic romanised, the extension
    characters replaced, anything else left out; held to SCREEN as a last resort (the catalog test keeps
    every screen within it)."""
    text = spell(text)
    if len(text) <= SCREEN:
        return text
    cut = text[: SCREEN - 2].rsplit(" ", 1)[0]
    log.warning("a USSD screen over %d characters was cut: %r", SCREEN, text)
    return cut + ".."


def spell(text: str) -> str:
    """The text in the GSM-7 basic set, whatever its length, line by line (sms.to_plain)."""
    return "\n".join(sms.to_plain(line) for line in text.split("\n"))


def page(title: str, lines: list[str], number: int, *, back: bool) -> tuple[str, bool]:
    """Page `number` of a menu: the title, as many numbered lines as fit with the keys after them, and
    whether more pages follow. Numbers run on across pages (page 2 starts where page 1 stopped)."""
    pages: list[list[int]] = [[]]
    for i in range(len(lines)):
        current = pages[-1]
        trial = _render(title, lines, [*current, i], more=True, back=back)
        if current and len(spell(trial)) > SCREEN:
            pages.append([i])
        else:
            current.append(i)
    number = min(number, len(pages) - 1)
    more = number < len(pages) - 1
    return _render(title, lines, pages[number], more=more, back=back), more


def _render(title: str, lines: list[str], shown: list[int], *, more: bool, back: bool) -> str:
    keys = [f"{MORE} >" if more else "", f"{BACK} <" if back else ""]
    body = [f"{i + 1} {_cut(lines[i])}" for i in shown]
    return "\n".join([title, *body, " ".join(k for k in keys if k)]).rstrip("\n")


def _cut(label: str, limit: int = LINE) -> str:
    """A menu line's words (an event's title) held to what a screen can show beside the others."""
    return label if len(label) <= limit else label[: limit - 2].rstrip() + ".."


# ---------------------------------------------------------------- one request

def respond(db: Engine, settings: Settings, dial: Dial, *, now: datetime | None = None,
            glossary: GlossaryIndex | None = None) -> str:
    """The gateway's answer to one request: "CON ..." or "END ..."."""
    now = now or utcnow()
    given = answers(dial.text)
    with session_scope(db) as session:
        row = find(session, dial.session_id)
        if row is not None and row.phone != dial.phone:  # a session is one phone's: never show or go on
            log.warning("USSD session %s asked for by another phone; refused", dial.session_id[:12])
            return Screen(plain(i18n.translate(settings.default_language, GONE)), end=True).answer
        if row is not None and (row.answers >= len(given) or row.ended) and row.screen:
            return row.screen  # a retry (or a late request of a session that ended): the same screen
    shown: list[Screen] = []

    def route(ctx: Ctx) -> None:
        shown.append(_advance(ctx, dial, given))

    digest = hashlib.sha1(dial.session_id.encode()).hexdigest()[:24]
    inbound = Inbound(channel="sms", address=dial.phone, text=given[-1] if given else "",
                      provider_id=f"ussd-{digest}-{len(given)}", provider=PROVIDER)
    outcome = bot_engine.receive(db, settings, inbound, now=now, reply_status="sent", glossary=glossary,
                                 route=route)
    if shown and not outcome.duplicate:
        return shown[-1].answer
    with session_scope(db) as session:  # a duplicate raced us, or the handler failed and was undone
        row = find(session, dial.session_id)
        if row is not None and row.answers >= len(given) and row.screen:
            return row.screen
    said = " ".join(r.text for r in outcome.replies)
    return Screen(plain(said or i18n.translate(settings.default_language, SORRY)), end=True).answer


def _advance(ctx: Ctx, dial: Dial, given: list[str]) -> Screen:
    """Act on the answers this session has not acted on yet (normally the last one) and store the place."""
    row = find(ctx.session, dial.session_id)
    if row is None:
        row = UssdSession(session_id=dial.session_id, phone=dial.phone, identity_id=ctx.identity.id,
                          service_code=dial.service_code, network_code=dial.network_code, created_at=ctx.now)
    elif row.phone != dial.phone:  # checked before too; here under the writer's lock
        return Screen(plain(ctx.t(GONE)), end=True)
    elif row.answers >= len(given) and row.screen:  # a twin request acted while this one waited
        return Screen(row.screen[4:], row.screen.startswith("END"))
    place = Place.load(row.state)
    ctx.lang = _screen_language(ctx)
    first = row.answers == 0 and not row.screen
    screen = show(ctx, place) if first else None  # the dial: the main menu (a stranger's offers registration)
    for answer in given[row.answers:]:  # normally the one new answer; a dial with answers in it, all of them
        if screen is not None and screen.end:
            break
        ctx.replies = []
        screen = step(ctx, place, answer)
    if screen is None:
        screen = show(ctx, place)
    row.answers, row.state, row.screen = len(given), place.dump(), screen.answer
    row.ended, row.updated_at = screen.end, ctx.now
    if screen.end:
        row.ended_at = ctx.now
    ctx.session.add(row)
    return screen


def _screen_language(ctx: Ctx) -> str:
    """Amharic members read romanised Amharic (am-Latn): a screen shows the GSM-7 basic set alone."""
    return i18n.screen_language(ctx.lang)


# ---------------------------------------------------------------- the answer read

def step(ctx: Ctx, place: Place, answer: str) -> Screen:
    """One answer applied to the session's place: the screen to show next."""
    if answer == HOME:
        _leave_flow(ctx, place)
        place.stack = [[menu.MAIN, "", 0]]
        return show(ctx, place)
    if place.flow:
        return _flow_answer(ctx, place, answer)
    name, arg, number = place.stack[-1][:3]
    found = _menu(ctx, name, arg)
    if found is None:
        return Screen(plain(ctx.t(GONE)), end=True)
    if answer == MORE:
        place.stack[-1][2] = number + 1
        return show(ctx, place)
    if answer == BACK:
        if len(place.stack) > 1:
            place.stack.pop()
        else:
            place.stack[-1][2] = 0
        return show(ctx, place)
    try:
        line = found.lines[int(answer) - 1] if answer.isdecimal() and int(answer) >= 1 else None
    except IndexError:
        line = None
    if line is None:
        return show(ctx, place, problem=ctx.t(CHOICE, count=len(found.lines)))
    if line.menu:
        place.stack.append([line.menu, line.arg, 0])
        return show(ctx, place)
    if line.flow:
        return _begin(ctx, place, line.flow, line.args)
    if line.show is not None:
        line.show(ctx)
    else:
        ctx.run(line.command, line.args)
    return _after(ctx, place, "")


def _menu(ctx: Ctx, name: str, arg: str) -> menu.Menu | None:
    """The menu as it is now, or None when it cannot be shown (its access, or what it names, is gone)."""
    build, access = menu.MENUS[name]
    if refusal_for(access, ctx.member) is not None:
        return None
    try:
        found = build(ctx, arg)
    except (ValueError, AttributeError):  # an argument that no longer names anything
        return None
    return found if found.title else None


def show(ctx: Ctx, place: Place, problem: str = "") -> Screen:
    """The menu on top of the stack, on its page; an empty list runs the command that says so."""
    name, arg, number = place.stack[-1][:3]
    found = _menu(ctx, name, arg)
    if found is None:
        return Screen(plain(ctx.t(GONE)), end=True)
    if not found.lines:
        if found.empty:
            ctx.run(found.empty, "")
            return _after(ctx, place, "")
        return Screen(plain(ctx.t(NOTHING)), end=True)
    title = _cut(spell(problem or found.title), TITLE)  # a long name in it never pushes the lines off
    text, _more = page(title, [spell(line.label) for line in found.lines], number, back=len(place.stack) > 1)
    return Screen(plain(text), end=False)


def _begin(ctx: Ctx, place: Place, name: str, args: str) -> Screen:
    """A menu line that begins a flow (registration, a form): its first question, or why not."""
    refusal = refusal_for(ctx.table.flows[name].access, ctx.member)
    if refusal:
        ctx.reply(refusal)
        return _after(ctx, place, "")
    menu.start(ctx, name, args)
    if ctx.conversation is not None and name in menu.RECEIPTS:
        # what the form's command will change, before it runs: the receipt is sent only if it changed
        place.stack[-1][3:] = [json.dumps(menu.RECEIPTS[name](ctx, ctx.data), default=str)]
    return _after(ctx, place, name)


def _flow_answer(ctx: Ctx, place: Place, answer: str) -> Screen:
    """An answer to the flow's question on screen, read by the engine's routing as an SMS answer."""
    conv = ctx.conversation
    name = place.flow
    if conv is None or conv.flow != name:  # the flow ended (expired, or finished by SMS meanwhile)
        place.flow = ""
        return show(ctx, place)
    text = answer
    if answer == BACK and name not in ZERO_ANSWERS:
        if not json.loads(conv.data or "{}").get(flow.HISTORY):
            _leave_flow(ctx, place)
            return show(ctx, place)
        text = router.keyword(flow.BACK, ctx.lang)
    elif answer == MORE:
        text = router.keyword("MORE", ctx.lang)
    values = dict(json.loads(conv.data or "{}"))
    ctx.text, ctx.args = text, ""
    bot_engine.route_text(ctx)
    return _after(ctx, place, name, values)


def _after(ctx: Ctx, place: Place, name: str, values: dict | None = None) -> Screen:
    """The screen after an action: its replies; CON when it left a question open (this request opened or
    moved a conversation), else END, the session done."""
    conv = ctx.conversation
    # a question waits when this request opened or moved a conversation (Ctx.set_step stamps it), or
    # when it answered the flow on screen and the flow asked again (a refusal moves nothing)
    waiting = conv is not None and (conv.updated_at == ctx.now or bool(name) and conv.flow == name)
    said = [r.text for r in ctx.replies]
    text = "\n".join(said)
    if len(spell(text)) > SCREEN and said:
        text = said[-1]  # an introduction and the first question: the question is what must show
    if waiting:
        place.flow = conv.flow
        hint = ctx.t(MORE_HINT)  # a long answer's "(MORE)": on a screen, the key that shows more
        if text.rstrip().endswith(hint):
            text = f"{text.rstrip()[: -len(hint)].rstrip()}\n{MORE} >"
        return Screen(plain(text), end=False)
    finished = place.flow or name
    if finished in menu.RECEIPTS and ctx.member is not None and values is not None:
        _receipt(ctx, place, finished, values)
    place.flow = ""
    return Screen(plain(text or ctx.t(NOTHING)), end=True)


def _receipt(ctx: Ctx, place: Place, name: str, values: dict) -> None:
    """What the member should keep, also by SMS: the form's reply when its command recorded something."""
    frame = place.stack[-1]
    before = frame[3] if len(frame) > 3 else None
    if json.dumps(menu.RECEIPTS[name](ctx, values), default=str) == before or not ctx.replies:
        return
    for reply in ctx.replies:
        outbox.queue(ctx.session, ctx.identity, reply.text, kind="receipt", member_id=ctx.member.id,
                     cluster_id=ctx.cluster.id if ctx.cluster else None)


def _leave_flow(ctx: Ctx, place: Place) -> None:
    if place.flow and ctx.conversation is not None and ctx.conversation.flow == place.flow:
        flow.leave(ctx, ctx.table.flows.get(place.flow))
    place.flow = ""


# ---------------------------------------------------------------- the end-of-session notification

def end_from_form(db: Engine, form: dict[str, str], settings: Settings, *, now: datetime | None = None) -> bool:
    """Record how a session ended and what it cost; False when the form names no session."""
    session_id = form.get("sessionId", "").strip()[:100]
    if not session_id:
        return False
    phone = normalise_phone(form.get("phoneNumber", ""), settings.default_region) or form.get("phoneNumber", "")[:32]
    with session_scope(db) as session:
        record_end(session, session_id, phone=phone, status=form.get("status", ""), cost=form.get("cost", ""),
                   duration_ms=_int(form.get("durationInMillis")), hops=_int(form.get("hopsCount")),
                   error=form.get("errorMessage", ""), now=now or utcnow())
    return True


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0
