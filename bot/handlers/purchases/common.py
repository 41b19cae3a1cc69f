"""What every purchases module shares: the figures a message shows, how a purchase is named, and the one
table that turns a refusal's code into words.

Quantities travel as thousandths of a unit (storage.QTY_SCALE); money as Money in the purchase's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from babel.dates import format_date

from bot import i18n, outbox, parse, router, sms
from bot.context import Ctx
from bot.i18n import N_, Money
from bot.parse import ParseError
from storage import purchases as store
from storage.clusters import Cluster
from storage.members import Member
from storage.purchases import QTY_SCALE, Purchase

DEFAULT_CLOSING = time(18, 0)  # a deadline given as a date alone closes that evening, not at midnight
MAX_REFERENCE = 20  # a mobile-money receipt; anything longer is a sentence, not a reference

SAMPLES = {
    "item": "Fertiliser DAP 50kg",
    "unit": "bag",
    "units": "bags",
    "group_units": "bags",
    "price": "TSh 125,000",
    "usual": "TSh 140,000",
    "due": "TSh 1,250,000",
    "paid": "TSh 1,125,000",
    "owing": "TSh 125,000",
    "saving": "TSh 150,000",
    "pledged": "1,250",
    "minimum": "1,500",
    "maximum": "2,000",
    "quantity": "25",
    "left": "125",
    "supplier": "Yara Tanzania, Arusha",
    "pay_to": "Lipa na M-Pesa till 5123456 Kibosho Coffee Growers",  # 50, the column's length
    "digits": "1250000",
    "list": "MOSHI-004, MOSHI-017",
    "state": "called off",
}

STATUS_LABELS = {
    "open": N_("open"),
    "closed": N_("closed"),
    "ordered": N_("ordered"),
    "delivered": N_("delivered"),
    "cancelled": N_("called off"),
}
PAYMENT_STATUS = {"confirmed": N_("confirmed"), "declined": N_("declined"), "reported": N_("waiting")}


# Wording ------------------------------------------------------------------------------------------------


def qty(quantity: int, lang: str, region: str = "") -> str:
    value = (Decimal(quantity) / QTY_SCALE).normalize()
    return i18n.format_number(value if value else Decimal(0), lang, region)


def short_date(moment: datetime, lang: str, cluster: Cluster) -> str:
    local = i18n.local_time(moment, cluster.timezone)
    return format_date(local, "d MMM", locale=i18n.babel_locale(lang, cluster.region))


def figures(p: Purchase, pledged: int, lang: str, cluster: Cluster) -> dict:
    """The placeholders every purchase message shares, worded for one reader."""
    return dict(
        id=p.id,
        item=p.item,
        unit=p.unit,
        units=p.units,
        price=Money(p.unit_price, p.currency),
        usual=Money(p.individual_price, p.currency),
        pledged=qty(pledged, lang, cluster.region),
        minimum=qty(p.minimum, lang, cluster.region),
        when=p.deadline,
    )


def plain_money(minor: int, currency: str) -> str:
    """An amount as a member would type it back: 135000, or 12.50 when there are cents."""
    scale = 10 ** i18n.minor_digits(currency)
    return str(minor // scale) if minor % scale == 0 else store.money_text(minor, currency)


def kw(command: str, lang: str) -> str:
    return router.keyword(command, lang)


def example_date(ctx: Ctx) -> str:
    local = i18n.local_time(ctx.now + timedelta(days=7), ctx.timezone)
    return f"{local:%d/%m} 17:00"


def tell(
    session,
    member: Member,
    cluster: Cluster,
    msgid: str | i18n.Plural,
    p: Purchase,
    *,
    kind: str = "notice",
    batch: str = "",
    now: datetime | None = None,
    **extra,
) -> bool:
    """Notify one member about a purchase, with the shared figures in their own language."""
    values = figures(p, store.pledged_total(session, p.id), member.language, cluster)
    values.update(extra)
    return (
        outbox.notify(
            session, member, msgid, kind=kind, batch=batch or f"purchase-{p.id}", in_cluster=cluster, now=now,
            **values
        )
        is not None
    )


def fit(ctx: Ctx, msgid: str | i18n.Plural, items: list[str], **kwargs) -> str:
    """As many items as fit one segment inside a worded frame, then a count of the rest."""
    shown: list[str] = []
    for index, item in enumerate(items):
        rest = len(items) - index - 1
        candidate = ", ".join([*shown, item]) + (f" +{rest}" if rest else "")
        text = ctx.t(msgid, list=candidate, **kwargs)
        if not sms.fits(text) or len(text) > 160:
            break
        shown.append(item)
    hidden = len(items) - len(shown)
    return ctx.t(msgid, list=", ".join(shown) + (f" +{hidden}" if hidden else ""), **kwargs)


# Reading -------------------------------------------------------------------------------------------------


def deadline(text: str, ctx: Ctx) -> datetime:
    """A closing moment as the facilitator writes it; a date alone closes at DEFAULT_CLOSING."""
    return parse.moment(text, ctx.timezone, ctx.now, ctx.lang, default_time=DEFAULT_CLOSING)


def parsed_values(exc: ParseError, currency: str) -> dict:
    """The placeholders a parser's refusal may use: the currency, and its limit worded as money."""
    values = {"currency": currency.upper(), **exc.detail}
    if "limit" in exc.detail:
        values["limit"] = Money(int(exc.detail["limit"]), currency)
    return values


def precise(exc: ParseError) -> bool:
    """Whether a refusal says more than the command's usage: a member or an amount written wrongly,
    rather than missing (an amount in another currency, with cents, over the ceiling)."""
    return exc.kind == "member" and exc.code == "invalid" or exc.kind == "amount" and exc.code not in (
        "empty", "invalid")


def amount_and_receipt(text: str, currency: str) -> tuple[int, str]:
    """An amount and the receipt ref after it; a ref longer than a receipt is no ref, so the usage answers."""
    amount, ref = parse.amount_and_reference(text, currency)
    if len(ref) > MAX_REFERENCE:
        raise ParseError("invalid", "reference")
    return amount, ref


def misread(ctx: Ctx, exc: ParseError, usage: str, **values) -> None:
    """Reply to a message the parser refused: its own words where they say more than the command's
    usage (see precise), else the usage with `values`."""
    if precise(exc):
        ctx.reply(exc.msgid, **parsed_values(exc, ctx.currency))
    else:
        ctx.reply(usage, **values)


def lookup(ctx: Ctx, purchase_id: int) -> Purchase | None:
    """The purchase a message names, or None after a reply saying there is none."""
    purchase = store.get_purchase(ctx.session, ctx.cluster, purchase_id)
    if purchase is None:
        ctx.reply(
            "There is no purchase {id} in your cluster. Send {keyword} to see the open ones.",
            id=purchase_id,
            keyword=kw("BUY", ctx.lang),
        )
    return purchase


# Refusals: one table from a rule's code to the reply -------------------------------------------------------

Fill = Callable[[Ctx, Purchase, str], dict]


@dataclass(frozen=True)
class Refusal:
    """The reply to one refusal, and the placeholders it needs beyond the shared ones (from the rule's
    detail: what is left, what is due, the state it is in)."""

    msgid: str
    fill: Fill | None = None


def _mine(ctx: Ctx, p: Purchase, detail: str) -> dict:
    pledge = store.find_pledge(ctx.session, p.id, ctx.member.id)
    return {"quantity": qty(pledge.quantity if pledge else 0, ctx.lang, ctx.region)}


def _left(ctx: Ctx, p: Purchase, detail: str) -> dict:
    return {"left": qty(int(detail), ctx.lang, ctx.region)}


def _limit(ctx: Ctx, p: Purchase, detail: str) -> dict:
    return {"limit": qty(p.member_limit or 0, ctx.lang, ctx.region)}


def _owed(ctx: Ctx, p: Purchase, detail: str) -> dict:
    return {"due": Money(int(detail), p.currency)}


def _state(ctx: Ctx, p: Purchase, detail: str) -> dict:
    return {"state": ctx.t(STATUS_LABELS[p.status])}


def _payment_state(ctx: Ctx, p: Purchase, detail: str) -> dict:
    return {"state": ctx.t(PAYMENT_STATUS[detail])}


SENSIBLE = Refusal(N_("Please send a sensible number of {units}, for example: {keyword} {id} 2"))
AS_A_NUMBER = Refusal(N_("Please send how many as a number, for example: {keyword} {id} 2"))
WRONG_STATE = Refusal(N_("Purchase {id} is {state}, so that cannot be done now."), _state)
FUTURE = Refusal(N_("Please give a deadline in the future, for example: {example}"))
PAYMENT = {
    "not_payable": Refusal(N_("Purchase {id} ({item}) is not taking payments now.")),
    "gone": Refusal(N_("Purchase {id} ({item}) is not taking payments now.")),
    "over_due": Refusal(N_("That is more than is owed for {item}: {due} is left to pay."), _owed),
    "reference_used": Refusal(N_("The reference {ref} was already used. Please check it.")),
    None: Refusal(N_("Please send an amount above zero.")),
}

# {action: {code: Refusal}}; the None code is the action's last word. Codes are storage.purchases' rules,
# the shared parser's (the "quantity" action) and two of this domain's own readings ("unit", "full").
ERRORS: dict[str, dict[str | None, Refusal]] = {
    "pledge": {
        "closed": Refusal(N_("Purchase {id} ({item}) is not taking pledges any more.")),
        "gone": Refusal(N_("Purchase {id} ({item}) is not taking pledges any more.")),
        "not_offered": Refusal(N_("Purchase {id} was not offered to you.")),
        "negative": SENSIBLE,
        "too_large": SENSIBLE,
        "fraction": Refusal(N_("{item} comes in whole {units}: please send a whole number.")),
        "over_limit": Refusal(N_("Each member may pledge at most {limit} {units} of {item}."), _limit),
        "over_maximum": Refusal(N_("Only {left} {units} of {item} are left. Please pledge {left} or less."), _left),
        "full": Refusal(N_("{item} (purchase {id}) is full: no more {units} can be pledged.")),
        "unit": Refusal(N_("{item} is counted in {units}. Send how many {units}, for example: {keyword} {id} 2")),
        "no_pledge": Refusal(N_("You have no pledge for {item}; nothing changed.")),
        "same": Refusal(N_("You already pledged {quantity} {units} of {item}; nothing changed."), _mine),
        None: Refusal(N_("You have already paid more than that costs. Please talk to your facilitator.")),
    },
    "quantity": {  # how many, as the shared parser read it
        "negative": SENSIBLE,
        "decimals": Refusal(parse.MESSAGES[("quantity", "decimals")]),
        None: AS_A_NUMBER,
    },
    "paid": {**PAYMENT, "no_pledge": Refusal(N_("You have no pledge for {item}, so nothing is due."))},
    "received": {**PAYMENT, "no_pledge": Refusal(N_("{number} has no pledge for {item}, so nothing is due."))},
    "decide": {
        "already": Refusal(N_("Payment {id} is already {state}; nothing changed."), _payment_state),
        None: Refusal(N_("There is no reported payment {id}.")),
    },
    "advance": {
        "minimum_not_met": Refusal(
            N_("Purchase {id} has not reached its minimum: send EXTEND {id} and a date, or CANCELBUY {id}.")
        ),
        None: WRONG_STATE,
    },
    "extend": {"deadline_past": FUTURE, "past": FUTURE, None: WRONG_STATE},
    "collect": {
        "not_delivered": Refusal(N_("Purchase {id} is not delivered yet: send DELIVERED {id} first.")),
        "no_pledge": Refusal(N_("{number} has no pledge for {item}.")),
        None: Refusal(N_("{number} already collected {item}; nothing changed.")),
    },
}


def refuse(ctx: Ctx, action: str, code: str, p: Purchase | None = None, detail: str = "", **values) -> None:
    """Reply why `action` was refused, from ERRORS: the purchase's figures, then the entry's own."""
    table = ERRORS[action]
    refusal = table.get(code) or table[None]
    shared = dict(keyword=kw(ctx.command or "BUY", ctx.lang), example=example_date(ctx))
    if p is not None:
        shared.update(id=p.id, item=p.item, unit=p.unit, units=p.units)
    shared.update(values)
    if refusal.fill is not None:
        shared.update(refusal.fill(ctx, p, detail))
    ctx.reply(refusal.msgid, **shared)
