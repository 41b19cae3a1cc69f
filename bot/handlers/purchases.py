"""Joint purchases by message: offers, pledges (BUY), payments (PAID), delivery, and the deadline job.

Storage keeps the rules (limits, maximum, what is due); this module reads members' words, words the
replies and tells pledgers what changed. Quantities travel as thousandths of a unit (storage.QTY_SCALE).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot import i18n, outbox, router, sms
from bot.context import ACTIVE, ADMIN, FACILITATOR, Command, Ctx, Flow
from bot.handlers.choices import buttons, pick
from bot.i18n import N_, Money
from bot.money import AmountError, parse_amount
from storage import members as member_store
from storage import purchases as store
from storage.clusters import Cluster
from storage.members import Member
from storage.purchases import QTY_SCALE, Purchase, PurchaseError
from storage.segments import SegmentError, describe, parse_segment, select_members

DEFAULT_CLOSING = time(18, 0)  # a deadline given as a date alone closes that evening, not at midnight

SAMPLES = {
    "item": "Fertiliser DAP 50kg",
    "unit": "bag",
    "units": "bags",
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
    "pay_to": "M-Pesa 0712 345 678 Asha",
    "digits": "1250000",
    "list": "MOSHI-004, MOSHI-017",
    "state": "called off",
}


# Reading members' words ---------------------------------------------------------------------------------


class QuantityError(ValueError):
    """Not a quantity; `code` is invalid or negative."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def parse_quantity(text: str) -> int:
    """A quantity as written (2, 2.5, 2,5, 1,000) in thousandths of a unit.

    A separator followed by exactly three digits groups thousands (1,000) unless the number starts
    with 0 (0.125); otherwise it marks decimals, at most three.
    """
    raw = (text or "").strip().replace(" ", "")
    if raw.startswith("-"):
        raise QuantityError("negative")
    if re.fullmatch(r"[1-9]\d{0,2}([.,])\d{3}(\1\d{3})*", raw):
        return int(re.sub(r"[.,]", "", raw)) * QTY_SCALE
    found = re.fullmatch(r"(\d{1,9})(?:[.,](\d{1,3}))?", raw)
    if found is None:
        raise QuantityError("invalid")
    whole, fraction = found.groups()
    return int(whole) * QTY_SCALE + int((fraction or "0").ljust(3, "0"))


_DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2,4}))?"),
)
_TIME = re.compile(r"(?P<h>\d{1,2})(?:[:.h](?P<min>\d{2}))?")


def parse_deadline(text: str, tz: str, now: datetime) -> datetime | None:
    """A local date and optional time (14/03, 14/03/2026 17:00, 2026-03-14 9:30) as aware UTC.

    Without a year the next such date is meant; without a time, DEFAULT_CLOSING. None if unreadable.
    """
    parts = (text or "").strip().split()
    if not 1 <= len(parts) <= 2:
        return None
    found = next((m for form in _DATE_FORMS if (m := form.fullmatch(parts[0]))), None)
    clock = _TIME.fullmatch(parts[1]) if len(parts) == 2 else None
    if found is None or len(parts) == 2 and clock is None:
        return None
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    year = found["y"]
    year_value = (int(year) + 2000 if len(year) == 2 else int(year)) if year else local_now.year
    hour, minute = (int(clock["h"]), int(clock["min"] or 0)) if clock else (DEFAULT_CLOSING.hour, 0)
    try:
        day = date(year_value, int(found["m"]), int(found["d"]))
        moment = datetime.combine(day, time(hour, minute), zone)
        if not year and moment <= local_now:
            moment = moment.replace(year=year_value + 1)
    except ValueError:
        return None
    return moment.astimezone(ZoneInfo("UTC"))


def _purchase_id(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isdecimal() and len(text) <= 9 else None


# Wording helpers ------------------------------------------------------------------------------------------


def qty(quantity: int, lang: str, region: str = "") -> str:
    value = (Decimal(quantity) / QTY_SCALE).normalize()
    return i18n.format_number(value if value else Decimal(0), lang, region)


def short_date(moment: datetime, lang: str, cluster: Cluster) -> str:
    local = i18n.local_time(moment, cluster.timezone)
    return format_date(local, "d MMM", locale=i18n.babel_locale(lang, cluster.region))


def _figures(p: Purchase, pledged: int, lang: str, cluster: Cluster) -> dict:
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


def _kw(command: str, lang: str) -> str:
    return router.keyword(command, lang)


def tell(
    session,
    member: Member,
    cluster: Cluster,
    msgid: str,
    p: Purchase,
    *,
    kind: str = "notice",
    batch: str = "",
    **extra,
) -> bool:
    """Notify one member about a purchase, with the shared figures in their own language."""
    figures = _figures(p, store.pledged_total(session, p.id), member.language, cluster)
    figures.update(extra)
    return (
        outbox.notify(
            session,
            member,
            msgid,
            kind=kind,
            batch=batch or f"purchase-{p.id}",
            in_cluster=cluster,
            **figures,
        )
        is not None
    )


def _fit(ctx: Ctx, msgid: str, items: list[str], **kwargs) -> str:
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


def _lookup(ctx: Ctx, text: str) -> Purchase | None:
    """The purchase a message names, or None after a reply saying there is none."""
    purchase_id = _purchase_id(text)
    purchase = store.get_purchase(ctx.session, ctx.cluster, purchase_id) if purchase_id else None
    if purchase is None:
        ctx.reply(
            "There is no purchase {id} in your cluster. Send {keyword} to see the open ones.",
            id=text.strip()[:10] or "?",
            keyword=_kw("BUY", ctx.lang),
        )
    return purchase


# Members: BUY ---------------------------------------------------------------------------------------------


def buy(ctx: Ctx) -> None:
    words = ctx.args.split()
    if not words:
        _list_open(ctx)
        return
    if _purchase_id(words[0]) is None or len(words) > 2:
        ctx.reply(
            "Send {keyword}, the purchase number and how many, for example: {keyword} 3 2. "
            "{keyword} alone lists open purchases.",
            keyword=_kw("BUY", ctx.lang),
        )
        return
    purchase = _lookup(ctx, words[0])
    if purchase is None:
        return
    if len(words) == 1:
        _show(ctx, purchase)
        return
    try:
        quantity = parse_quantity(words[1])
    except QuantityError as exc:
        if exc.code == "negative":
            _refuse_pledge(ctx, purchase, PurchaseError("negative"))
        else:
            ctx.reply(
                "Please send how many as a number, for example: {keyword} {id} 2",
                keyword=_kw("BUY", ctx.lang),
                id=purchase.id,
            )
        return
    _pledge(ctx, purchase, quantity)


def _list_open(ctx: Ctx) -> None:
    offers = store.open_offers(ctx.session, ctx.member, ctx.now)
    if not offers:
        ctx.reply("No joint purchase is open for you now. We will tell you when one opens.")
        return
    lines = [
        ctx.t(
            "{id} {item} {price}/{unit}: {pledged} of {minimum}, until {date}",
            date=short_date(p.deadline, ctx.lang, ctx.cluster),
            **_figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster),
        )
        for p in offers
    ]
    ctx.say(
        _fit(
            ctx,
            N_("Open: {list}. Send {keyword} and a number for details."),
            lines,
            keyword=_kw("BUY", ctx.lang),
        )
    )


def _show(ctx: Ctx, p: Purchase) -> None:
    mine = store.find_pledge(ctx.session, p.id, ctx.member.id)
    figures = _figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster)
    ctx.reply(
        "{id} {item}: {price}/{unit}. {pledged} of {minimum} pledged, yours {quantity}. Until {when}. "
        "Send {keyword} {id} and how many.",
        keyword=_kw("BUY", ctx.lang),
        quantity=qty(mine.quantity if mine else 0, ctx.lang, ctx.region),
        **figures,
    )


def _pledge(ctx: Ctx, p: Purchase, quantity: int) -> None:
    try:
        store.pledge(ctx.session, p.id, ctx.member, quantity, ctx.now)
    except PurchaseError as exc:
        _refuse_pledge(ctx, p, exc)
        return
    figures = _figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster)
    if quantity == 0:
        ctx.reply("Your pledge for {item} is withdrawn. Group: {pledged} of {minimum} {units}.", **figures)
        return
    figures.update(
        quantity=qty(quantity, ctx.lang, ctx.region),
        units=p.unit_word(quantity),
        due=Money(store.amount_due(p, quantity), p.currency),
    )
    saving = store.saving_for(p, quantity)
    if saving > 0:
        ctx.reply(
            "{quantity} {units} of {item}: {due}, you save {saving}. Group: {pledged} of {minimum}. "
            "Closes {when}.",
            saving=Money(saving, p.currency),
            **figures,
        )
    else:
        ctx.reply(
            "{quantity} {units} of {item}: {due} to pay. Group: {pledged} of {minimum}. Closes {when}.",
            **figures,
        )


def _refuse_pledge(ctx: Ctx, p: Purchase, exc: PurchaseError) -> None:
    figures = dict(id=p.id, item=p.item, units=p.units)
    code = exc.code
    if code in ("closed", "gone"):
        ctx.reply("Purchase {id} ({item}) is not taking pledges any more.", **figures)
    elif code == "not_offered":
        ctx.reply("Purchase {id} was not offered to you.", **figures)
    elif code in ("negative", "too_large"):
        ctx.reply(
            "Please send a sensible number of {units}, for example: {keyword} {id} 2",
            keyword=_kw("BUY", ctx.lang),
            **figures,
        )
    elif code == "fraction":
        ctx.reply("{item} comes in whole {units}: please send a whole number.", **figures)
    elif code == "over_limit":
        ctx.reply(
            "Each member may pledge at most {limit} {units} of {item}.",
            limit=qty(p.member_limit, ctx.lang, ctx.region),
            **figures,
        )
    elif code == "over_maximum":
        ctx.reply(
            "Only {left} {units} of {item} are left. Please pledge {left} or less.",
            left=qty(int(str(exc)), ctx.lang, ctx.region),
            **figures,
        )
    elif code == "no_pledge":
        ctx.reply("You have no pledge for {item}; nothing changed.", **figures)
    elif code == "same":
        mine = store.find_pledge(ctx.session, p.id, ctx.member.id)
        ctx.reply(
            "You already pledged {quantity} {units} of {item}; nothing changed.",
            quantity=qty(mine.quantity, ctx.lang, ctx.region),
            **figures,
        )
    else:
        ctx.reply("You have already paid more than that costs. Please talk to your facilitator.")


# Members: PAID --------------------------------------------------------------------------------------------


def _amount_and_ref(words: list[str], currency: str) -> tuple[int, str] | None:
    """The amount at the start of `words` (one word, or two as in 'TSh 45,000') and the reference after."""
    for width in (1, 2):
        if len(words) < width:
            break
        try:
            return parse_amount(" ".join(words[:width]), currency), " ".join(words[width:])
        except AmountError:
            continue
    return None


def paid(ctx: Ctx) -> None:
    words = ctx.args.split()
    parsed = _amount_and_ref(words[1:], ctx.currency) if words and _purchase_id(words[0]) else None
    if parsed is None or len(parsed[1]) > 20:
        ctx.reply(
            "Send {keyword}, the purchase number, the amount and the receipt ref, for example: "
            "{keyword} 3 45000 QK7H2",
            keyword=_kw("PAID", ctx.lang),
        )
        return
    purchase = _lookup(ctx, words[0])
    if purchase is None:
        return
    amount, ref = parsed
    try:
        payment = store.report_payment(ctx.session, purchase.id, ctx.member, amount, ref, ctx.now)
    except PurchaseError as exc:
        _refuse_payment(ctx, purchase, exc, ctx.member, ref)
        return
    account = store.account(ctx.session, purchase, ctx.member)
    left = account.due - account.paid - account.reported
    ctx.reply(
        "Thank you: {amount} for {item} noted, the treasurer will confirm. Left to pay after it: {due}.",
        amount=Money(amount, purchase.currency),
        item=purchase.item,
        due=Money(left, purchase.currency),
    )
    for admin in member_store.admins(ctx.session, ctx.cluster.id):
        outbox.notify(
            ctx.session,
            admin,
            "{number} paid {amount} for {item}, ref {ref}. PAYOK {id} if received, PAYNO {id} if not.",
            in_cluster=ctx.cluster,
            number=ctx.member.number,
            amount=Money(amount, purchase.currency),
            item=purchase.item,
            ref=ref or "-",
            id=payment.id,
        )


def _refuse_payment(ctx: Ctx, p: Purchase, exc: PurchaseError, member: Member, ref: str) -> None:
    figures = dict(id=p.id, item=p.item, number=member.number)
    own = member.id == ctx.member.id
    if exc.code in ("not_payable", "gone"):
        ctx.reply("Purchase {id} ({item}) is not taking payments now.", **figures)
    elif exc.code == "no_pledge":
        if own:
            ctx.reply("You have no pledge for {item}, so nothing is due.", **figures)
        else:
            ctx.reply("{number} has no pledge for {item}, so nothing is due.", **figures)
    elif exc.code == "over_due":
        ctx.reply(
            "That is more than is owed for {item}: {due} is left to pay.",
            due=Money(int(str(exc)), p.currency),
            **figures,
        )
    elif exc.code == "reference_used":
        ctx.reply("The reference {ref} was already used. Please check it.", ref=ref[:40])
    else:
        ctx.reply("Please send an amount above zero.")


# Treasurer and facilitator: payments --------------------------------------------------------------------


def payok(ctx: Ctx) -> None:
    _decide(ctx, confirm=True)


def payno(ctx: Ctx) -> None:
    _decide(ctx, confirm=False)


PAYMENT_STATUS = {"confirmed": N_("confirmed"), "declined": N_("declined"), "reported": N_("waiting")}


def _decide(ctx: Ctx, confirm: bool) -> None:
    payment_id = _purchase_id(router.split_first(ctx.args)[0])
    if payment_id is None:
        ctx.reply(
            "Send {keyword} and the payment number, for example: {keyword} 17",
            keyword=_kw(ctx.command, ctx.lang),
        )
        return
    try:
        payment = store.decide_payment(ctx.session, ctx.cluster, payment_id, ctx.member, confirm, ctx.now)
    except PurchaseError as exc:
        if exc.code == "already":
            ctx.reply(
                "Payment {id} is already {state}; nothing changed.",
                id=payment_id,
                state=ctx.t(PAYMENT_STATUS[str(exc)]),
            )
        else:
            ctx.reply("There is no reported payment {id}.", id=payment_id)
        return
    member = ctx.session.get(Member, payment.member_id)
    purchase = ctx.session.get(Purchase, payment.purchase_id)
    account = store.account(ctx.session, purchase, member)
    money = dict(
        amount=Money(payment.amount, purchase.currency),
        item=purchase.item,
        due=Money(account.outstanding, purchase.currency),
    )
    decided = (N_("Payment {id} confirmed: {amount} from {number} {name} for {item}.") if confirm
               else N_("Payment {id} declined: {amount} from {number} {name} for {item}."))
    ctx.reply(decided, id=payment.id, number=member.number, name=member.name, **money)
    if confirm:
        outbox.notify(
            ctx.session,
            member,
            "Your payment of {amount} for {item} is confirmed. Left to pay: {due}.",
            in_cluster=ctx.cluster,
            **money,
        )
    else:
        outbox.notify(
            ctx.session,
            member,
            "Your payment of {amount} for {item} (ref {ref}) was not confirmed. "
            "Please talk to the treasurer.",
            in_cluster=ctx.cluster,
            ref=payment.reference or "-",
            **money,
        )


def _purchase_and_member(ctx: Ctx, purchase_ref: str, member_ref: str) -> tuple[Purchase, Member] | None:
    """The purchase and the member an officer named, or None once the reply has said which is unknown."""
    purchase = _lookup(ctx, purchase_ref)
    if purchase is None:
        return None
    member = member_store.find_member(ctx.session, ctx.cluster, member_ref)
    if member is None:
        ctx.reply("No member {ref} in this cluster.", ref=member_ref[:24])
        return None
    return purchase, member


def received(ctx: Ctx) -> None:
    words = ctx.args.split()
    parsed = _amount_and_ref(words[2:], ctx.currency) if len(words) >= 3 and _purchase_id(words[0]) else None
    if parsed is None or len(parsed[1]) > 20:
        ctx.reply(
            "Send {keyword}, purchase number, member, amount and ref, for example: {keyword} 3 {example} "
            "45000 QK7H2",
            keyword=_kw("RECEIVED", ctx.lang),
            example=f"{ctx.cluster.code}-004",
        )
        return
    found = _purchase_and_member(ctx, words[0], words[1])
    if found is None:
        return
    purchase, member = found
    amount, ref = parsed
    try:
        store.record_payment(ctx.session, purchase.id, member, amount, ref, ctx.member, ctx.now)
    except PurchaseError as exc:
        _refuse_payment(ctx, purchase, exc, member, ref)
        return
    account = store.account(ctx.session, purchase, member)
    money = dict(
        amount=Money(amount, purchase.currency),
        item=purchase.item,
        due=Money(account.outstanding, purchase.currency),
    )
    ctx.reply(
        "Recorded {amount} from {number} {name} for {item}. Left to pay: {due}.",
        number=member.number,
        name=member.name,
        **money,
    )
    outbox.notify(
        ctx.session,
        member,
        "We received your payment of {amount} for {item}. Left to pay: {due}.",
        in_cluster=ctx.cluster,
        **money,
    )


# Facilitator: life cycle ----------------------------------------------------------------------------------

STATUS_LABELS = {
    "open": N_("open"),
    "closed": N_("closed"),
    "ordered": N_("ordered"),
    "delivered": N_("delivered"),
    "cancelled": N_("called off"),
}


def _purchase_arg(ctx: Ctx) -> Purchase | None:
    first = router.split_first(ctx.args)[0]
    if _purchase_id(first) is None:
        ctx.reply(
            "Send {keyword} and the purchase number, for example: {keyword} 3",
            keyword=_kw(ctx.command, ctx.lang),
        )
        return None
    return _lookup(ctx, first)


def _advance(ctx: Ctx, p: Purchase, status: str) -> bool:
    try:
        store.advance(ctx.session, p, status, ctx.member, ctx.now)
    except PurchaseError as exc:
        if exc.code == "minimum_not_met":
            ctx.reply(
                "Purchase {id} has not reached its minimum: send EXTEND {id} and a date, or CANCELBUY {id}.",
                id=p.id,
            )
        else:
            ctx.reply(
                "Purchase {id} is {state}, so that cannot be done now.",
                id=p.id,
                state=ctx.t(STATUS_LABELS[p.status]),
            )
        return False
    return True


def ordered(ctx: Ctx) -> None:
    p = _purchase_arg(ctx)
    if p is None or not _advance(ctx, p, "ordered"):
        return
    told = 0
    for member, account in store.accounts(ctx.session, p):
        if account.quantity:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_(
                    "{item} (purchase {id}) is ordered. We will tell you when it arrives. Left to pay: {due}."
                ),
                p,
                due=Money(account.outstanding, p.currency),
            )
    ctx.reply(
        "Purchase {id} ({item}) is marked ordered; {count} members were told.",
        id=p.id,
        item=p.item,
        count=told,
    )


def delivered(ctx: Ctx) -> None:
    p = _purchase_arg(ctx)
    if p is None or not _advance(ctx, p, "delivered"):
        return
    place = router.split_first(ctx.args)[1][:30]
    told = 0
    for member, account in store.accounts(ctx.session, p):
        if not account.quantity:
            continue
        extra = dict(
            quantity=qty(account.quantity, member.language, ctx.region),
            units=p.unit_word(account.quantity),
            due=Money(account.outstanding, p.currency),
        )
        if place:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_("{item} has arrived! Collect your {quantity} {units} at {place}. Left to pay: {due}."),
                p,
                place=place,
                **extra,
            )
        else:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_(
                    "{item} has arrived! Ask your facilitator where to "
                    "collect your {quantity} {units}. Left to pay: {due}."
                ),
                p,
                **extra,
            )
    ctx.reply(
        "Purchase {id} ({item}) is marked delivered; {count} members were told.",
        id=p.id,
        item=p.item,
        count=told,
    )


def collected(ctx: Ctx) -> None:
    words = ctx.args.split()
    if len(words) != 2 or _purchase_id(words[0]) is None:
        ctx.reply(
            "Send {keyword}, the purchase number and the member, for example: {keyword} 3 {example}",
            keyword=_kw("COLLECTED", ctx.lang),
            example=f"{ctx.cluster.code}-004",
        )
        return
    found = _purchase_and_member(ctx, words[0], words[1])
    if found is None:
        return
    p, member = found
    try:
        store.record_collection(ctx.session, p, member, ctx.member, ctx.now)
    except PurchaseError as exc:
        if exc.code == "not_delivered":
            ctx.reply("Purchase {id} is not delivered yet: send DELIVERED {id} first.", id=p.id)
        elif exc.code == "no_pledge":
            ctx.reply("{number} has no pledge for {item}.", number=member.number, item=p.item)
        else:
            ctx.reply(
                "{number} already collected {item}; nothing changed.", number=member.number, item=p.item
            )
        return
    account = store.account(ctx.session, p, member)
    summary = store.summary(ctx.session, p)
    figures = dict(
        number=member.number,
        name=member.name,
        item=p.item,
        quantity=qty(account.quantity, ctx.lang, ctx.region),
        units=p.unit_word(account.quantity),
        count=summary.collected,
        total=summary.pledgers,
    )
    if account.outstanding:
        ctx.reply(
            "{number} collected {quantity} {units} of {item} but still owes {due}. {count} of {total} "
            "collected.",
            due=Money(account.outstanding, p.currency),
            **figures,
        )
    else:
        ctx.reply("{number} collected {quantity} {units} of {item}. {count} of {total} collected.", **figures)


def extend(ctx: Ctx) -> None:
    first, rest = router.split_first(ctx.args)
    deadline = parse_deadline(rest, ctx.timezone, ctx.now)
    if _purchase_id(first) is None or deadline is None:
        ctx.reply(
            "Send {keyword}, the purchase number and a new deadline, for example: {keyword} 3 {example}",
            keyword=_kw("EXTEND", ctx.lang),
            example=_example_date(ctx),
        )
        return
    p = _lookup(ctx, first)
    if p is None:
        return
    try:
        store.extend(ctx.session, p, deadline, ctx.member, ctx.now)
    except PurchaseError as exc:
        if exc.code == "deadline_past":
            ctx.reply(
                "Please give a deadline in the future, for example: {example}", example=_example_date(ctx)
            )
        else:
            ctx.reply(
                "Purchase {id} is {state}, so that cannot be done now.",
                id=p.id,
                state=ctx.t(STATUS_LABELS[p.status]),
            )
        return
    told = 0
    for member in store.offered_members(ctx.session, p):
        mine = store.find_pledge(ctx.session, p.id, member.id)
        told += tell(
            ctx.session,
            member,
            ctx.cluster,
            N_(
                "{item} is open again until {when}: {pledged} of "
                "{minimum} {units} so far. Send BUY {id} and how many."
            ),
            p,
            kind="notice" if mine and mine.quantity else "broadcast",
        )
    ctx.reply(
        "Purchase {id} ({item}) now takes pledges until {when}; {count} members were told.",
        id=p.id,
        item=p.item,
        when=p.deadline,
        count=told,
    )


def _example_date(ctx: Ctx) -> str:
    local = i18n.local_time(ctx.now + timedelta(days=7), ctx.timezone)
    return f"{local:%d/%m} 17:00"


def cancelbuy(ctx: Ctx) -> None:
    p = _purchase_arg(ctx)
    if p is None:
        return
    accounts = store.accounts(ctx.session, p)
    if not _advance(ctx, p, "cancelled"):
        return
    told = 0
    for member, account in accounts:
        if account.paid or account.reported:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_("{item} (purchase {id}) is called off. The {amount} you paid will be returned."),
                p,
                amount=Money(account.paid + account.reported, p.currency),
            )
        elif account.quantity:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_("{item} (purchase {id}) is called off. You owe nothing for it."),
                p,
            )
    ctx.reply(
        "Purchase {id} ({item}) is called off; {count} members were told.", id=p.id, item=p.item, count=told
    )


# Facilitator and treasurer: where things stand -----------------------------------------------------------


def purchase_info(ctx: Ctx) -> None:
    words = ctx.args.split()
    if not words:
        _overview(ctx)
        return
    p = _lookup(ctx, words[0]) if _purchase_id(words[0]) is not None else None
    if p is None:
        if _purchase_id(words[0]) is None:
            ctx.reply(
                "Send {keyword} and a purchase number, with a member to see one member.",
                keyword=_kw("PURCHASE", ctx.lang),
            )
        return
    if len(words) > 1:
        _member_line(ctx, p, words[1])
        return
    s = store.summary(ctx.session, p)
    money = {
        k: Money(v, p.currency)
        for k, v in (("due", s.due), ("paid", s.paid), ("owing", s.outstanding), ("saving", s.saving))
    }
    ctx.reply(
        "{id} {item} ({state}): {pledged}/{minimum} {units}, {count} members. Due {due}, paid {paid}, "
        "owing {owing}, saved {saving}.",
        state=ctx.t(STATUS_LABELS[p.status]),
        count=s.pledgers,
        **{**_figures(p, s.pledged, ctx.lang, ctx.cluster), **money},
    )
    owing = [
        f"{m.number} {ctx.money(a.outstanding, p.currency)}"
        for m, a in store.accounts(ctx.session, p)
        if a.quantity and a.outstanding
    ]
    if owing:
        ctx.say(_fit(ctx, N_("Still owing: {list}"), owing))


def _member_line(ctx: Ctx, p: Purchase, ref: str) -> None:
    member = member_store.find_member(ctx.session, ctx.cluster, ref)
    if member is None:
        ctx.reply("No member {ref} in this cluster.", ref=ref[:24])
        return
    a = store.account(ctx.session, p, member)
    ctx.reply(
        "{number}: {quantity} {units} of {item}. Due {due}, paid {paid}, owing {owing}, saved {saving}.",
        number=member.number,
        item=p.item,
        units=p.unit_word(a.quantity),
        quantity=qty(a.quantity, ctx.lang, ctx.region),
        due=Money(a.due, p.currency),
        paid=Money(a.paid, p.currency),
        owing=Money(a.outstanding, p.currency),
        saving=Money(a.saving, p.currency),
    )


def _overview(ctx: Ctx) -> None:
    purchases = store.cluster_purchases(ctx.session, ctx.cluster)
    total, per_member = store.cluster_savings(ctx.session, ctx.cluster)
    if not purchases:
        ctx.reply("No joint purchase yet. Send NEWBUY to open one.")
        return
    items = [f"{p.id} {p.item} ({ctx.t(STATUS_LABELS[p.status])})" for p in reversed(purchases)]
    ctx.say(
        _fit(
            ctx,
            N_("Saved {saving} for {count} members. Purchases: {list}"),
            items,
            saving=ctx.money(total),
            count=len(per_member),
        )
    )


# Facilitator: opening a purchase by guided conversation --------------------------------------------------

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
FREE_TEXT = frozenset({"item", "unit", "supplier", "pay_to", "segment"})
TEXT_LIMITS = {"item": 24, "supplier": 30, "pay_to": 30}
STEPS = list(QUESTIONS)
WHOLE = [("yes", N_("Whole units only")), ("no", N_("Parts allowed"))]
PUBLISH = [("publish", N_("Publish")), ("discard", N_("Discard"))]


def newbuy(ctx: Ctx) -> None:
    ctx.start_flow("purchases.new", "item", {})
    ctx.reply("New joint purchase. What will the group buy? For example: Fertiliser DAP")


def _ask(ctx: Ctx, step: str, data: dict) -> None:
    choices = {"whole": WHOLE, "confirm": PUBLISH}.get(step)
    ctx.reply(
        QUESTIONS[step],
        buttons=buttons(choices) if choices else None,
        unit=data.get("unit", ""),
        units=data.get("units", ""),
        code=ctx.currency,
        example=_example_date(ctx),
    )


def new_step(ctx: Ctx) -> None:
    step, data = ctx.conversation.step, ctx.data
    answer = ctx.text.strip()
    value = STEP_READERS[step](ctx, answer, data)
    if value is None:
        return
    if step == "confirm":
        _finish(ctx, data, publish=value == "publish")
        return
    data[step] = value
    following = STEPS[STEPS.index(step) + 1]
    ctx.set_step(following, data)
    if following == "confirm":
        _summarise(ctx, data)
    _ask(ctx, following, data)


def _read_text(ctx: Ctx, answer: str, data: dict) -> str | None:
    limit = TEXT_LIMITS[ctx.conversation.step]
    if not 2 <= len(answer) <= limit:
        ctx.reply("Please answer in 2 to {limit} characters.", limit=limit)
        return None
    return answer


def _read_unit(ctx: Ctx, answer: str, data: dict) -> str | None:
    one, _sep, several = answer.partition("/")
    one, several = one.strip(), several.strip() or one.strip()
    if not (1 <= len(one) <= 12 and 1 <= len(several) <= 12) or " " in one + several:
        ctx.reply("Please send the unit as one short word, or one/several, for example: bag/bags")
        return None
    data["units"] = several
    return one


def _read_whole(ctx: Ctx, answer: str, data: dict) -> str | None:
    value = pick(answer, WHOLE)
    if value is None:
        ctx.reply("Please answer with a number from 1 to {count}.", count=2)
        return None
    return value


def _read_price(ctx: Ctx, answer: str, data: dict) -> int | None:
    allow_zero = ctx.conversation.step == "usual"
    try:
        return parse_amount(answer, ctx.currency, allow_zero=allow_zero)
    except AmountError:
        ctx.reply("Please send an amount in {code}, for example: 45000", code=ctx.currency)
        return None


def _read_quantity(ctx: Ctx, answer: str, data: dict) -> int | None:
    step = ctx.conversation.step
    try:
        value = parse_quantity(answer)
        store.check_quantity(value, data["whole"] == "yes")
    except (QuantityError, PurchaseError):
        ctx.reply("Please send a number of {units}, for example: 50", units=data["units"])
        return None
    if step == "minimum" and value == 0:
        ctx.reply("Please send a number of {units}, for example: 50", units=data["units"])
        return None
    if step == "maximum" and value and value < data["minimum"]:
        ctx.reply(
            "The most cannot be below the least ({minimum}). Send it again, or 0.",
            minimum=qty(data["minimum"], ctx.lang, ctx.region),
        )
        return None
    if step == "limit" and value and data["maximum"] and value > data["maximum"]:
        ctx.reply(
            "One member cannot pledge more than the total most ({maximum}). Send it again, or 0.",
            maximum=qty(data["maximum"], ctx.lang, ctx.region),
        )
        return None
    return value


def _read_deadline(ctx: Ctx, answer: str, data: dict) -> str | None:
    deadline = parse_deadline(answer, ctx.timezone, ctx.now)
    if deadline is None or deadline <= ctx.now:
        ctx.reply("Please give a deadline in the future, for example: {example}", example=_example_date(ctx))
        return None
    return deadline.isoformat()


def _read_segment(ctx: Ctx, answer: str, data: dict) -> str | None:
    try:
        segment = parse_segment(answer)
        members = select_members(ctx.session, ctx.cluster, segment)
    except SegmentError:
        ctx.reply("I could not read that group. Send all, or for example: sector:dairy location:Moshi")
        return None
    if not members:
        ctx.reply("No active member is in that group. Send another group, or all.")
        return None
    data["count"] = len(members)
    return describe(segment)


def _read_confirm(ctx: Ctx, answer: str, data: dict) -> str | None:
    value = pick(answer, PUBLISH)
    if value is None:
        ctx.reply("Please answer with a number from 1 to {count}.", count=2)
    return value


STEP_READERS = {
    "item": _read_text,
    "unit": _read_unit,
    "whole": _read_whole,
    "price": _read_price,
    "usual": _read_price,
    "supplier": _read_text,
    "minimum": _read_quantity,
    "maximum": _read_quantity,
    "limit": _read_quantity,
    "deadline": _read_deadline,
    "pay_to": _read_text,
    "segment": _read_segment,
    "confirm": _read_confirm,
}


def _summarise(ctx: Ctx, data: dict) -> None:
    none = ctx.t("no limit")
    ctx.reply(
        "{item} from {supplier}: {price} per {unit}, usually {usual}. Until {when}.",
        item=data["item"],
        supplier=data["supplier"],
        unit=data["unit"],
        price=ctx.money(data["price"]),
        usual=ctx.money(data["usual"]),
        when=datetime.fromisoformat(data["deadline"]),
    )
    ctx.reply(
        "At least {minimum} {units}, at most {maximum}, {limit} per member. Offered to {count} members.",
        units=data["units"],
        minimum=qty(data["minimum"], ctx.lang, ctx.region),
        maximum=qty(data["maximum"], ctx.lang, ctx.region) if data["maximum"] else none,
        limit=qty(data["limit"], ctx.lang, ctx.region) if data["limit"] else none,
        count=data["count"],
    )


def _finish(ctx: Ctx, data: dict, publish: bool) -> None:
    ctx.end_flow()
    if not publish:
        ctx.reply("Discarded; nothing was published.")
        return
    try:
        p, told = publish_purchase(ctx.session, ctx.cluster, data, ctx.member, ctx.now)
    except (PurchaseError, SegmentError):
        ctx.reply("Please give a deadline in the future, for example: {example}", example=_example_date(ctx))
        return
    ctx.reply(
        "Purchase {id} ({item}) is open; {count} members were offered it.", id=p.id, item=p.item, count=told
    )


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
        whole_units=data["whole"] == "yes",
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
        told += tell(session, member, cluster, msgid, p, kind="invitation")
    return p, told


COMMANDS = [
    Command("BUY", buy, access=ACTIVE),
    Command("PAID", paid, access=ACTIVE),
    Command("PURCHASE", purchase_info, access=ADMIN),
    Command("NEWBUY", newbuy, access=FACILITATOR),
    Command("PAYOK", payok, access=ADMIN),
    Command("PAYNO", payno, access=ADMIN),
    Command("RECEIVED", received, access=ADMIN),
    Command("ORDERED", ordered, access=FACILITATOR),
    Command("DELIVERED", delivered, access=FACILITATOR),
    Command("COLLECTED", collected, access=ADMIN),
    Command("EXTEND", extend, access=FACILITATOR),
    Command("CANCELBUY", cancelbuy, access=FACILITATOR),
]
FLOWS = {"purchases.new": Flow(new_step, free_text=FREE_TEXT)}
