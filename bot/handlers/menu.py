"""The menus a USSD dial shows, by role, as data: what each line opens or runs.

A menu line either opens another menu (an event's answers), begins a guided flow (registration, a
deposit to report) or runs a command of the command table with its arguments (`YES 12`, `CONFIRM 31`): the
same handler, storage rule and transaction as the command sent by SMS. Nothing here acts on its own; the
channel (bot/channels/ussd.py) pages the lines onto screens and keeps the session.

The forms below are flows of bot/flow.py that ask a command's arguments one screen at a time (SAVE's
amount and reference, BUY's quantity), check each answer with the parser the command uses, and end by
running the command. A form whose command records something the member should keep (a deposit noted, a
pledge's amount due) says so with `receipt`: the channel also sends that reply by SMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from bot import parse
from bot.context import ACTIVE, ADMIN, ANYONE, FACILITATOR, Ctx
from bot.flow import END, Flow, Step, StepError, begin
from bot.handlers.glossary import week_term
from bot.handlers.purchases.common import figures, plain_money, qty, short_date
from bot.handlers.registration import JOIN
from bot.handlers.savings.common import ceiling
from bot.i18n import N_, Money
from bot.parse import ParseError
from storage import events as event_store
from storage import purchases as purchase_store
from storage import savings as savings_store
from storage.members import Member

MAIN = "main"


@dataclass(frozen=True)
class Line:
    """One numbered line of a menu: its words, and what picking it does (exactly one of the three)."""

    label: str  # already worded
    menu: str = ""  # open this menu, with `arg`
    arg: str = ""
    flow: str = ""  # begin this flow, with `args` as what followed its keyword
    command: str = ""  # run this command with `args`
    args: str = ""
    show: Callable[[Ctx], None] | None = None  # or show this (a lookup that changes nothing)


@dataclass(frozen=True)
class Menu:
    title: str  # already worded
    lines: list[Line] = field(default_factory=list)
    empty: str = ""  # a command to run instead when there is nothing to list (its reply says so)


# ---------------------------------------------------------------- the menus

MAIN_TITLE = N_("{cluster}: choose")
STRANGER_TITLE = N_("Welcome. Choose:")
LABELS = {
    "balance": N_("Balance and loan"),
    "deposit": N_("Report a deposit"),
    "repayment": N_("Report a repayment"),
    "events": N_("Events"),
    "purchases": N_("Joint purchases"),
    "poll": N_("Answer the poll"),
    "terms": N_("Definitions"),
    "language": N_("Language"),
    "requests": N_("Deposits to confirm"),
    "registrations": N_("Registrations to approve"),
    "register": N_("Register"),
    "profile": N_("My registration"),
    "week": N_("Term of the week"),
    "search": N_("Look a term up"),
    "yes": N_("Yes, I will come"),
    "no": N_("No"),
    "maybe": N_("Maybe"),
    "confirm": N_("Confirm"),
    "decline": N_("Decline"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
}
TITLES = {
    "events": N_("Your events:"),
    "purchases": N_("Open joint purchases:"),
    "terms": N_("Definitions:"),
    "language": N_("Your language:"),
    "requests": N_("Waiting for you:"),
    "registrations": N_("Waiting for approval:"),
}
EVENT_TITLE = N_("{event}, {start}. Your answer:")
REQUEST_TITLE = {
    "deposit": N_("Deposit {id} from {number} {name}: {amount}"),
    "repayment": N_("Repayment {id} from {number} {name}: {amount}"),
}
REGISTRATION_TITLE = N_("{number} {name}, {business}")
LANGUAGE_LABELS = {"en": "English", "sw": "Kiswahili", "fr": "Francais", "am": "Amarigna"}


def main(ctx: Ctx, arg: str) -> Menu:
    """The first screen: what this person may do, an officer's work first, then a member's, most used first."""
    def line(key: str, **how) -> Line:
        return Line(ctx.t(LABELS[key]), **how)

    member = ctx.member
    if member is None or member.status in ("rejected", "left"):
        return Menu(ctx.t(STRANGER_TITLE), [line("register", flow=JOIN.name), line("terms", menu="terms"),
                                            line("language", menu="language")])
    title = ctx.t(MAIN_TITLE, cluster=ctx.cluster.name)
    if member.status != "active":
        return Menu(title, [line("profile", command="PROFILE"), line("terms", menu="terms"),
                            line("language", menu="language")])
    lines = [line("balance", command="BAL"), line("deposit", flow=SAVE_FORM.name),
             line("repayment", flow=REPAY_FORM.name), line("events", menu="events"),
             line("purchases", menu="purchases"), line("poll", command="POLL"), line("terms", menu="terms"),
             line("language", menu="language")]
    officer = []  # an officer dials for their work first: what waits for them heads the menu
    if member.admin_role == "facilitator":
        officer.append(line("registrations", menu="registrations"))
    if member.is_admin:
        officer.append(line("requests", menu="requests"))
    return Menu(title, officer + lines)


def events(ctx: Ctx, arg: str) -> Menu:
    rows = event_store.upcoming_for(ctx.session, ctx.member, ctx.now)
    lines = [Line(f"{event.title} {_day(ctx, event.starts_at)}", menu="event", arg=str(event.id))
             for event, _invitation in rows]
    return Menu(ctx.t(TITLES["events"]), lines, empty="EVENTS")


def event(ctx: Ctx, arg: str) -> Menu:
    found = event_store.get_event(ctx.session, ctx.cluster, int(arg))
    title = ctx.t(EVENT_TITLE, event=found.title, start=found.starts_at) if found else ""
    return Menu(title, [Line(ctx.t(LABELS[word]), command=word.upper(), args=arg)
                        for word in ("yes", "no", "maybe")])


def purchases(ctx: Ctx, arg: str) -> Menu:
    lines = []
    for p in purchase_store.open_offers(ctx.session, ctx.member, ctx.now):
        lines.append(Line(f"{p.item} {ctx.money(p.unit_price, p.currency)}/{p.unit}", flow=PLEDGE_FORM.name,
                          args=str(p.id)))
    return Menu(ctx.t(TITLES["purchases"]), lines, empty="BUY")


def terms(ctx: Ctx, arg: str) -> Menu:
    lines = [Line(ctx.t(LABELS["search"]), flow=DEFINE_FORM.name)]
    if ctx.cluster is not None and ctx.member is not None and ctx.member.status == "active":
        lines.insert(0, Line(ctx.t(LABELS["week"]), show=week_term))
    return Menu(ctx.t(TITLES["terms"]), lines)


def language(ctx: Ctx, arg: str) -> Menu:
    return Menu(ctx.t(TITLES["language"]), [Line(name, command="LANG", args=code)
                                            for code, name in LANGUAGE_LABELS.items()])


def requests(ctx: Ctx, arg: str) -> Menu:
    """The deposits and repayments waiting to be confirmed (CONFIRM says who may confirm which)."""
    lines = []
    for request in savings_store.pending_requests(ctx.session, ctx.cluster):
        member = ctx.session.get(Member, request.member_id)
        lines.append(Line(f"{request.id} {member.number} {ctx.money(request.amount_minor, request.currency)}",
                          menu="request", arg=str(request.id)))
    return Menu(ctx.t(TITLES["requests"]), lines, empty="SACCOS")


def request(ctx: Ctx, arg: str) -> Menu:
    found = ctx.session.get(savings_store.Request, int(arg))
    title = ""
    if found is not None and found.cluster_id == ctx.cluster.id:
        member = ctx.session.get(Member, found.member_id)
        title = ctx.t(REQUEST_TITLE[found.kind], id=found.id, number=member.number, name=member.name,
                      amount=Money(found.amount_minor, found.currency))
    return Menu(title, [Line(ctx.t(LABELS["confirm"]), command="CONFIRM", args=arg),
                        Line(ctx.t(LABELS["decline"]), command="DECLINE", args=arg)])


def registrations(ctx: Ctx, arg: str) -> Menu:
    waiting = ctx.session.exec(select(Member).where(Member.cluster_id == ctx.cluster.id,
                                                    Member.status == "pending").order_by(Member.id))
    lines = [Line(f"{m.number} {m.name}", menu="registration", arg=m.number) for m in waiting]
    return Menu(ctx.t(TITLES["registrations"]), lines, empty="")


def registration(ctx: Ctx, arg: str) -> Menu:
    found = ctx.session.exec(select(Member).where(Member.cluster_id == ctx.cluster.id,
                                                  Member.number == arg)).first()
    title = ctx.t(REGISTRATION_TITLE, number=found.number, name=found.name,
                  business=found.business or "-") if found else ""
    return Menu(title, [Line(ctx.t(LABELS["approve"]), command="APPROVE", args=arg),
                        Line(ctx.t(LABELS["reject"]), command="REJECT", args=arg)])


CHOICE = N_("Choose a number from 1 to {count}:")
NOTHING = N_("Nothing is waiting for you.")
GONE = N_("This is no longer there. Dial again for the menu.")

# Who may open each menu: the same access as the commands its lines run.
MENUS: dict[str, tuple[Callable[[Ctx, str], Menu], str]] = {
    MAIN: (main, ANYONE), "events": (events, ACTIVE), "event": (event, ACTIVE),
    "purchases": (purchases, ACTIVE), "terms": (terms, ANYONE), "language": (language, ANYONE),
    "requests": (requests, ADMIN), "request": (request, ADMIN),
    "registrations": (registrations, FACILITATOR), "registration": (registration, FACILITATOR),
}


def _day(ctx: Ctx, moment: datetime) -> str:
    return short_date(moment, ctx.lang, ctx.cluster)


# ---------------------------------------------------------------- forms: a command's arguments asked one by one

YES_NO = (("yes", N_("Yes")), ("no", N_("No")))
NOTHING_RECORDED = N_("Nothing was recorded.")
AMOUNT_QUESTION = {
    "SAVE": N_("How much did you deposit? Write the amount, e.g. 5000"),
    "REPAY": N_("How much did you repay? Write the amount, e.g. 5000"),
}
REFERENCE_QUESTION = N_("The payment reference (e.g. the M-Pesa code), or 1 if there is none:")
CONFIRM_QUESTION = {
    ("SAVE", True): N_("Report a deposit of {amount}, ref {ref}? 1 Yes, 2 No"),
    ("SAVE", False): N_("Report a deposit of {amount}? 1 Yes, 2 No"),
    ("REPAY", True): N_("Report a repayment of {amount}, ref {ref}? 1 Yes, 2 No"),
    ("REPAY", False): N_("Report a repayment of {amount}? 1 Yes, 2 No"),
}
QUANTITY_QUESTION = N_("{item}: {price}/{unit}, yours {quantity}. How many {units}?")
TERM_QUESTION = N_("Which term? Write a word, e.g. cluster")


def _refusal(ctx: Ctx, exc: ParseError) -> StepError:
    """A parser's refusal with the placeholders its words may use (the currency, a limit as money)."""
    values = {"currency": ctx.currency, **exc.detail}
    if "limit" in exc.detail:
        values["limit"] = Money(int(exc.detail["limit"]), ctx.currency)
    return StepError(exc.msgid, **values)


def _amount(ctx: Ctx, text: str, values: dict) -> int:
    try:
        return parse.amount(text, ctx.currency, ceiling_minor=ceiling(ctx))
    except ParseError as exc:
        raise _refusal(ctx, exc) from exc


def _reference(ctx: Ctx, text: str, values: dict) -> str:
    return "" if text.strip() in ("1", "") else parse.reference(text)


def _money_fill(ctx: Ctx, values: dict) -> dict:
    return {"amount": Money(values["amount"], ctx.currency), "ref": values.get("ref", "")}


def _report_form(command: str) -> Flow:
    def question(ctx: Ctx, values: dict) -> dict:
        return _money_fill(ctx, values)

    def finish(ctx: Ctx, values: dict) -> None:
        if values["confirm"] != "yes":
            ctx.reply(NOTHING_RECORDED)
            return
        ctx.run(command, f"{plain_money(values['amount'], ctx.currency)} {values['ref']}".strip())

    return Flow(
        f"menu.{command.lower()}",
        steps=[
            Step("amount", AMOUNT_QUESTION[command], reader=_amount),
            Step("ref", REFERENCE_QUESTION, reader=_reference),
            Step("confirm", CONFIRM_QUESTION[command, True], choices=YES_NO, listed=True, fill=question,
                 when=lambda v: bool(v.get("ref"))),
            Step("confirm_plain", CONFIRM_QUESTION[command, False], choices=YES_NO, listed=True, fill=question,
                 when=lambda v: not v.get("ref"), next=END),
        ],
        finish=lambda ctx, values: finish(ctx, {**values, "confirm": values.get("confirm")
                                                or values.get("confirm_plain")}),
        access=ACTIVE,
    )


SAVE_FORM = _report_form("SAVE")
REPAY_FORM = _report_form("REPAY")


def _pledge_start(ctx: Ctx) -> dict | None:
    try:
        purchase_id = parse.ident(ctx.args)
    except ParseError:
        purchase_id = 0
    purchase = purchase_store.get_purchase(ctx.session, ctx.cluster, purchase_id)
    if purchase is None or purchase.status != "open":
        ctx.run("BUY", "")  # the open purchases, or that none is open
        return None
    return {"purchase": purchase.id}


def _pledge_fill(ctx: Ctx, values: dict) -> dict:
    p = purchase_store.get_purchase(ctx.session, ctx.cluster, values["purchase"])
    mine = purchase_store.find_pledge(ctx.session, p.id, ctx.member.id)
    shown = figures(p, 0, ctx.lang, ctx.cluster)
    return {**shown, "quantity": qty(mine.quantity if mine else 0, ctx.lang, ctx.region)}


def _quantity(ctx: Ctx, text: str, values: dict) -> str:
    p = purchase_store.get_purchase(ctx.session, ctx.cluster, values["purchase"])
    try:
        parse.quantity(text, whole=p.whole_units, lang=ctx.lang, region=ctx.region, allow_zero=True)
    except ParseError as exc:
        raise _refusal(ctx, exc) from exc
    return text.strip()


PLEDGE_FORM = Flow(
    "menu.pledge",
    steps=[Step("quantity", QUANTITY_QUESTION, reader=_quantity, fill=_pledge_fill)],
    finish=lambda ctx, values: ctx.run("BUY", f"{values['purchase']} {values['quantity']}"),
    access=ACTIVE,
    start=_pledge_start,
)
DEFINE_FORM = Flow(
    "menu.define",
    steps=[Step("term", TERM_QUESTION, max_length=60, free_text=True)],
    finish=lambda ctx, values: ctx.run("DEF", values["term"]),
    access=ANYONE,
)


def _pledged(ctx: Ctx, values: dict) -> object:
    mine = purchase_store.find_pledge(ctx.session, values["purchase"], ctx.member.id)
    return mine.quantity if mine else None


def _requests(ctx: Ctx, values: dict) -> object:
    return len(list(ctx.session.exec(select(savings_store.Request.id).where(
        savings_store.Request.member_id == ctx.member.id))))


# What a form records that the member should keep: a snapshot taken before and after the form's command;
# when it changed, the reply is also sent by SMS.
RECEIPTS: dict[str, Callable[[Ctx, dict], object]] = {
    SAVE_FORM.name: _requests, REPAY_FORM.name: _requests, PLEDGE_FORM.name: _pledged,
}
FORMS = (SAVE_FORM, REPAY_FORM, PLEDGE_FORM, DEFINE_FORM)
COMMANDS: list = []  # the menus run other domains' commands; they add none
FLOWS = {form.name: form for form in FORMS}


def start(ctx: Ctx, name: str, args: str) -> None:
    """Begin flow `name` as its keyword with `args` would (JOIN, or a form)."""
    ctx.args = args
    ctx.command = name.upper()[:40]
    begin(ctx, ctx.table.flows[name])


SAMPLES = {"cluster": "Kibosho Coffee Growers", "event": "Coffee quality training", "start": "Tue 3 Dec 14:00",
           "id": "1234", "number": "KIBOSHO-123", "name": "Mwanaisha Athumani", "amount": "TSh 1,250,000",
           "business": "Athumani Coffee Processing", "ref": "QK12AB34CD", "item": "Fertiliser DAP 50kg",
           "price": "TSh 125,000", "unit": "bag", "units": "bags", "quantity": "25"}
