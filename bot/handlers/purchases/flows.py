"""NEWBUY: the facilitator opens a joint purchase by guided conversation (a flow on bot/flow.py), and the
one place a purchase is published, for the flow and the CLI alike."""

from __future__ import annotations

from datetime import datetime

from bot import parse
from bot.context import FACILITATOR, Ctx
from bot.flow import Flow, Step, StepError, open_flow
from bot.handlers.purchases.common import (
    FUTURE,
    deadline,
    example_date,
    parsed_values,
    qty,
    tell,
)
from bot.i18n import N_, NP_
from bot.parse import ParseError
from storage import purchases as store
from storage.clusters import Cluster
from storage.members import Member
from storage.purchases import Purchase, PurchaseError
from storage.segments import SegmentError, describe, parse_segment, select_members

QUESTIONS = {
    "item": N_("What will the group buy? For example: Fertiliser DAP"),
    "unit": N_("Sold by which unit? Send one and several, for example: bag/bags, or kg"),
    "whole": N_("Can a member pledge part of a {unit}? 1 No, whole {units} only, 2 Yes"),
    "price": N_("Price of one {unit} at the group rate, in {code}?"),
    "usual": N_("Usual price of one {unit} for a member buying alone? Send 0 if unknown."),
    "supplier": N_("Who is the supplier?"),
    "minimum": N_("Least the group must order in total, in {units}?"),
    "maximum": N_("Most the supplier can sell in total, in {units}? Send 0 for no limit."),
    "limit": N_("Most one member may pledge, in {units}? Send 0 for no limit."),
    "deadline": N_("When do pledges close? For example: {example}"),
    "pay_to": N_("How should members pay? For example: M-Pesa 0712 345 678 Asha Juma"),
    "segment": N_("Offer it to whom? Send all, or for example: sector:dairy location:Moshi"),
    "confirm": N_("1 Publish, 2 Discard"),
}
# The question asks "can a member pledge part?": 1 is No (whole units only), 2 is Yes; a yes or a no in any
# language answers it the same way.
WHOLE = [("whole", N_("Whole units only")), ("parts", N_("Parts allowed"))]
WHOLE_WORDS = {"whole": ["no", "hapana", "non", "አይ", "አይደለም"], "parts": ["yes", "ndiyo", "ndio", "oui", "አዎ"]}
PUBLISH = [("publish", N_("Publish")), ("discard", N_("Discard"))]
TEXT_LIMITS = {key: store.column_length(key) for key in ("item", "supplier", "pay_to")}  # the purchase's columns
NUMBER_OF_UNITS = N_("Please send a number of {units}, for example: 50")
PLAIN = N_("Please send an amount in {code}, for example: 45000")


def _fill(ctx: Ctx, values: dict) -> dict:
    return dict(unit=values.get("unit", ""), units=values.get("units", ""), code=ctx.currency,
                example=example_date(ctx))


def _whole(values: dict) -> bool:
    return values["whole"] == "whole"


# Readers: each turns an answer into a value or raises StepError; none writes to storage.


def _unit(ctx: Ctx, text: str, values: dict) -> str:
    one, _sep, several = text.partition("/")
    one, several = one.strip(), several.strip() or one.strip()
    if not (1 <= len(one) <= 12 and 1 <= len(several) <= 12) or " " in one + several:
        raise StepError(N_("Please send the unit as one short word, or one/several, for example: bag/bags"))
    values["units"] = several
    return one


def _money(ctx: Ctx, text: str, *, allow_zero: bool) -> int:
    try:
        return parse.amount(text, ctx.currency, allow_zero=allow_zero)
    except ParseError as exc:
        if exc.code in ("empty", "invalid"):
            raise StepError(PLAIN) from exc
        raise StepError(exc.msgid, **parsed_values(exc, ctx.currency)) from exc


def _price(ctx: Ctx, text: str, values: dict) -> int:
    return _money(ctx, text, allow_zero=False)


def _usual(ctx: Ctx, text: str, values: dict) -> int:
    return _money(ctx, text, allow_zero=True)


def _quantity(ctx: Ctx, text: str, values: dict) -> int:
    """A total in the purchase's units: parts only where members may pledge parts."""
    try:
        value = parse.quantity(text, whole=_whole(values), lang=ctx.lang, region=ctx.region)
        store.check_quantity(value, _whole(values))
    except ParseError as exc:
        if exc.code in ("whole", "decimals"):
            raise StepError(exc.msgid) from exc
        raise StepError(NUMBER_OF_UNITS) from exc
    except PurchaseError as exc:
        raise StepError(NUMBER_OF_UNITS) from exc
    return value


def _minimum(ctx: Ctx, text: str, values: dict) -> int:
    value = _quantity(ctx, text, values)
    if value == 0:
        raise StepError(NUMBER_OF_UNITS)
    return value


def _maximum(ctx: Ctx, text: str, values: dict) -> int:
    value = _quantity(ctx, text, values)
    if value and value < values["minimum"]:
        raise StepError(N_("The most cannot be below the least ({minimum} {units}). Send it again, or 0."),
                        minimum=qty(values["minimum"], ctx.lang, ctx.region), units=values["units"])
    return value


def _limit(ctx: Ctx, text: str, values: dict) -> int:
    value = _quantity(ctx, text, values)
    if value and values["maximum"] and value > values["maximum"]:
        raise StepError(N_("One member cannot pledge more than the total most ({maximum} {units}). Send it again, "
                           "or 0."),
                        maximum=qty(values["maximum"], ctx.lang, ctx.region), units=values["units"])
    return value


def _deadline(ctx: Ctx, text: str, values: dict) -> str:
    try:
        return deadline(text, ctx).isoformat()
    except ParseError as exc:
        if exc.code == "past":
            raise StepError(FUTURE.msgid) from exc
        raise StepError(exc.msgid) from exc


def _segment(ctx: Ctx, text: str, values: dict) -> str:
    try:
        segment = parse_segment(text)
        members = select_members(ctx.session, ctx.cluster, segment)
    except SegmentError as exc:
        raise StepError(N_("I could not read that group. Send all, or for example: sector:dairy location:Moshi")) \
            from exc
    if not members:
        raise StepError(N_("No active member is in that group. Send another group, or all."))
    values["count"] = len(members)
    return describe(segment)


def _said(key: str) -> Step:
    """A question answered in a few words: the item, the supplier, how to pay."""
    return Step(key, QUESTIONS[key], fill=_fill, free_text=True, max_length=TEXT_LIMITS[key])


def _summarise(ctx: Ctx, values: dict) -> None:
    """What will be published, before the facilitator publishes it."""
    none = ctx.t("no limit")
    ctx.reply(
        # The usual price is skipped with 0 (unknown): then the summary says nothing of it.
        N_("{item} from {supplier}: {price} per {unit}, usually {usual}. Until {when}.")
        if values["usual"] else N_("{item} from {supplier}: {price} per {unit}. Until {when}."),
        item=values["item"],
        supplier=values["supplier"],
        unit=values["unit"],
        price=ctx.money(values["price"]),
        usual=ctx.money(values["usual"]),
        when=datetime.fromisoformat(values["deadline"]),
    )
    ctx.reply(  # how to pay has the second message's room: a till number and a name fit beside the figures
        NP_("Pay to {pay_to}. At least {minimum} {units}, at most {maximum}, {limit} per member. Offered to {count} "
            "member.",
            "Pay to {pay_to}. At least {minimum} {units}, at most {maximum}, {limit} per member. Offered to {count} "
            "members."),
        pay_to=values["pay_to"],
        units=values["units"],
        minimum=qty(values["minimum"], ctx.lang, ctx.region),
        maximum=qty(values["maximum"], ctx.lang, ctx.region) if values["maximum"] else none,
        limit=qty(values["limit"], ctx.lang, ctx.region) if values["limit"] else none,
        count=values["count"],
    )


def _finish(ctx: Ctx, values: dict) -> None:
    if values["confirm"] != "publish":
        ctx.reply("Discarded; nothing was published.")
        return
    try:
        p, told = publish_purchase(ctx.session, ctx.cluster, values, ctx.member, ctx.now)
    except (PurchaseError, SegmentError):  # the deadline passed while the facilitator was answering
        ctx.reply(FUTURE.msgid, example=example_date(ctx))
        return
    ctx.reply(
        NP_("Purchase {id} ({item}) is open; {count} member was offered it.",
            "Purchase {id} ({item}) is open; {count} members were offered it."),
        id=p.id,
        item=p.item,
        count=told,
    )


NEWBUY = Flow(
    "purchases.new",
    steps=[
        _said("item"),
        Step("unit", QUESTIONS["unit"], reader=_unit, fill=_fill, free_text=True),
        Step("whole", QUESTIONS["whole"], fill=_fill, choices=WHOLE, aliases=WHOLE_WORDS, listed=True),
        Step("price", QUESTIONS["price"], reader=_price, fill=_fill),
        Step("usual", QUESTIONS["usual"], reader=_usual, fill=_fill, optional=True, default=0),
        _said("supplier"),
        Step("minimum", QUESTIONS["minimum"], reader=_minimum, fill=_fill),
        Step("maximum", QUESTIONS["maximum"], reader=_maximum, fill=_fill, optional=True, default=0),
        Step("limit", QUESTIONS["limit"], reader=_limit, fill=_fill, optional=True, default=0),
        Step("deadline", QUESTIONS["deadline"], reader=_deadline, fill=_fill),
        _said("pay_to"),
        Step("segment", QUESTIONS["segment"], reader=_segment, fill=_fill, free_text=True),
        Step("confirm", QUESTIONS["confirm"], choices=PUBLISH, listed=True, preface=_summarise),
    ],
    finish=_finish,
    keyword="NEWBUY",
    access=FACILITATOR,
    intro=N_("New joint purchase. What will the group buy? For example: Fertiliser DAP"),
)


def newbuy(ctx: Ctx) -> None:
    """NEWBUY starts afresh even in the middle of one: the facilitator is starting over (the answers so
    far are dropped), where the runner's own command would ask the open question again."""
    open_flow(ctx, NEWBUY, {})


def publish_purchase(
    session, cluster: Cluster, data: dict, actor: Member | None, now: datetime
) -> tuple[Purchase, int]:
    """Create the purchase, record whom it is offered to and queue the offers (the flow and the CLI)."""
    segment = parse_segment(data["segment"])
    p = store.create_purchase(
        session,
        cluster,
        item=data["item"],
        unit=data["unit"],
        units=data["units"],
        whole_units=_whole(data),
        unit_price=data["price"],
        individual_price=data["usual"],
        supplier=data["supplier"],
        pay_to=data["pay_to"],
        minimum=data["minimum"],
        maximum=data["maximum"] or None,
        member_limit=data["limit"] or None,
        deadline=datetime.fromisoformat(data["deadline"]),
        segment=describe(segment),
        created_by=actor,
        now=now,
    )
    told = 0
    for member in store.offer(session, p, select_members(session, cluster, segment), now):
        if p.individual_price > p.unit_price:
            msgid = N_(
                "New purchase {id}: {item}, {price} per {unit} (usually {usual}). Send BUY {id} and "
                "how many {units} by {when}."
            )
        else:
            msgid = N_(
                "New purchase {id}: {item}, {price} per {unit}. Send BUY {id} and how many {units} by {when}."
            )
        told += tell(session, member, cluster, msgid, p, kind="invitation", now=now)
    return p, told
