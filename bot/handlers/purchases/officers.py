"""What the facilitator and the treasurer say about joint purchases: payments (PAYOK, PAYNO, RECEIVED), the
life cycle (ORDERED, DELIVERED, COLLECTED, EXTEND, CANCELBUY) and where things stand (PURCHASE)."""

from __future__ import annotations

from bot import outbox, parse
from bot.context import Ctx
from bot.handlers.purchases.common import (
    STATUS_LABELS,
    amount_and_receipt,
    deadline,
    example_date,
    figures,
    fit,
    kw,
    lookup,
    misread,
    qty,
    refuse,
    tell,
)
from bot.i18n import N_, NP_, Money
from bot.parse import MemberRef, ParseError
from storage import members as member_store
from storage import purchases as store
from storage.members import Member
from storage.purchases import Purchase, PurchaseError

MAX_PLACE = 30
RECEIVED_USAGE = N_("Send {keyword}, purchase number, member, amount and ref, for example: {keyword} 3 {example} "
                    "45000 QK7H2")
COLLECTED_USAGE = N_("Send {keyword}, the purchase number and the member, for example: {keyword} 3 {example}")
PURCHASE_USAGE = N_("Send {keyword} and a purchase number, with a member to see one member.")


def _purchase_arg(ctx: Ctx) -> tuple[Purchase, str] | None:
    """The purchase named first (ORDERED 3, DELIVERED 3 Moshi market) and the words after it."""
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
    except ParseError:
        ctx.reply(
            "Send {keyword} and the purchase number, for example: {keyword} 3", keyword=kw(ctx.command, ctx.lang)
        )
        return None
    purchase = lookup(ctx, purchase_id)
    return (purchase, rest) if purchase is not None else None


def _member(ctx: Ctx, ref: MemberRef) -> Member | None:
    """The member a reference names in this cluster, or None after saying there is none."""
    member = member_store.find_member(ctx.session, ctx.cluster, ref.key)
    if member is None:
        ctx.reply("No member {ref} in this cluster.", ref=ref.text[:24])
    return member


# Payments -----------------------------------------------------------------------------------------------


def payok(ctx: Ctx) -> None:
    _decide(ctx, confirm=True)


def payno(ctx: Ctx) -> None:
    _decide(ctx, confirm=False)


def _decide(ctx: Ctx, confirm: bool) -> None:
    try:
        payment_id = parse.ident(parse.first_word(ctx.args)[0])
    except ParseError:
        ctx.reply(
            "Send {keyword} and the payment number, for example: {keyword} 17", keyword=kw(ctx.command, ctx.lang)
        )
        return
    try:
        payment = store.decide_payment(ctx.session, ctx.cluster, payment_id, ctx.member, confirm, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "decide", exc.code, None, str(exc), id=payment_id)
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
            N_("Your payment of {amount} for {item} (ref {ref}) was not confirmed. Please talk to the treasurer.")
            if payment.reference
            else N_("Your payment of {amount} for {item} was not confirmed. Please talk to the treasurer."),
            in_cluster=ctx.cluster,
            ref=payment.reference,
            **money,
        )


def received(ctx: Ctx) -> None:
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
        ref, rest = parse.member_and_rest(rest, ctx.region)
        amount, reference = amount_and_receipt(rest, ctx.currency)
    except ParseError as exc:
        misread(ctx, exc, RECEIVED_USAGE, keyword=kw("RECEIVED", ctx.lang), example=f"{ctx.cluster.code}-004")
        return
    purchase = lookup(ctx, purchase_id)
    member = _member(ctx, ref) if purchase is not None else None
    if member is None:
        return
    try:
        store.record_payment(ctx.session, purchase.id, member, amount, reference, ctx.member, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "received", exc.code, purchase, str(exc), number=member.number, ref=reference[:40])
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


# Life cycle ---------------------------------------------------------------------------------------------


def _advance(ctx: Ctx, p: Purchase, status: str) -> bool:
    try:
        store.advance(ctx.session, p, status, ctx.member, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "advance", exc.code, p, str(exc))
        return False
    return True


def _told(ctx: Ctx, msgid, p: Purchase, count: int) -> None:
    ctx.reply(msgid, id=p.id, item=p.item, count=count)


def ordered(ctx: Ctx) -> None:
    found = _purchase_arg(ctx)
    if found is None or not _advance(ctx, found[0], "ordered"):
        return
    p = found[0]
    told = 0
    for member, account in store.accounts(ctx.session, p):
        if account.quantity:
            told += tell(
                ctx.session,
                member,
                ctx.cluster,
                N_("{item} (purchase {id}) is ordered. We will tell you when it arrives. Left to pay: {due}."),
                p,
                due=Money(account.outstanding, p.currency),
            )
    _told(ctx, NP_("Purchase {id} ({item}) is marked ordered; {count} member was told.",
                   "Purchase {id} ({item}) is marked ordered; {count} members were told."), p, told)


def delivered(ctx: Ctx) -> None:
    found = _purchase_arg(ctx)
    if found is None or not _advance(ctx, found[0], "delivered"):
        return
    p, place = found[0], found[1][:MAX_PLACE]
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
            msgid = N_("{item} has arrived! Collect your {quantity} {units} at {place}. Left to pay: {due}.")
        else:
            msgid = N_("{item} has arrived! Ask your facilitator where to collect your {quantity} {units}. "
                       "Left to pay: {due}.")
        told += tell(ctx.session, member, ctx.cluster, msgid, p, place=place, **extra)
    _told(ctx, NP_("Purchase {id} ({item}) is marked delivered; {count} member was told.",
                   "Purchase {id} ({item}) is marked delivered; {count} members were told."), p, told)


def collected(ctx: Ctx) -> None:
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
        ref = parse.member_ref(rest, ctx.region)
    except ParseError as exc:
        misread(ctx, exc, COLLECTED_USAGE, keyword=kw("COLLECTED", ctx.lang), example=f"{ctx.cluster.code}-004")
        return
    p = lookup(ctx, purchase_id)
    member = _member(ctx, ref) if p is not None else None
    if member is None:
        return
    try:
        store.record_collection(ctx.session, p, member, ctx.member, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "collect", exc.code, p, str(exc), number=member.number)
        return
    account = store.account(ctx.session, p, member)
    summary = store.summary(ctx.session, p)
    values = dict(
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
            **values,
        )
    else:
        ctx.reply("{number} collected {quantity} {units} of {item}. {count} of {total} collected.", **values)


def extend(ctx: Ctx) -> None:
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
        closing = deadline(rest, ctx)
    except ParseError as exc:
        if exc.code == "past":
            refuse(ctx, "extend", "past")
        else:
            ctx.reply(
                "Send {keyword}, the purchase number and a new deadline, for example: {keyword} 3 {example}",
                keyword=kw("EXTEND", ctx.lang),
                example=example_date(ctx),
            )
        return
    p = lookup(ctx, purchase_id)
    if p is None:
        return
    try:
        store.extend(ctx.session, p, closing, ctx.member, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "extend", exc.code, p, str(exc))
        return
    told = 0
    for member in store.offered_members(ctx.session, p):
        mine = store.find_pledge(ctx.session, p.id, member.id)
        told += tell(
            ctx.session,
            member,
            ctx.cluster,
            N_("{item} is open again until {when}: {pledged} of {minimum} {units} so far. Send BUY {id} and "
               "how many."),
            p,
            kind="notice" if mine and mine.quantity else "broadcast",
            now=ctx.now,
        )
    ctx.reply(
        NP_("Purchase {id} ({item}) now takes pledges until {when}; {count} member was told.",
            "Purchase {id} ({item}) now takes pledges until {when}; {count} members were told."),
        id=p.id,
        item=p.item,
        when=p.deadline,
        count=told,
    )


def cancelbuy(ctx: Ctx) -> None:
    found = _purchase_arg(ctx)
    if found is None:
        return
    p = found[0]
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
                ctx.session, member, ctx.cluster, N_("{item} (purchase {id}) is called off. You owe nothing for it."), p
            )
    _told(ctx, NP_("Purchase {id} ({item}) is called off; {count} member was told.",
                   "Purchase {id} ({item}) is called off; {count} members were told."), p, told)


# Where things stand ---------------------------------------------------------------------------------------


def purchase_info(ctx: Ctx) -> None:
    if not parse.words(ctx.args):
        _overview(ctx)
        return
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
        ref = parse.member_ref(rest, ctx.region) if rest else None
    except ParseError as exc:
        misread(ctx, exc, PURCHASE_USAGE, keyword=kw("PURCHASE", ctx.lang))
        return
    p = lookup(ctx, purchase_id)
    if p is None:
        return
    if ref is not None:
        _member_line(ctx, p, ref)
        return
    s = store.summary(ctx.session, p)
    money = {
        k: Money(v, p.currency)
        for k, v in (("due", s.due), ("paid", s.paid), ("owing", s.outstanding), ("saving", s.saving))
    }
    ctx.reply(
        NP_("{id} {item} ({state}): {pledged}/{minimum} {units}, {count} member. Due {due}, paid {paid}, "
            "owing {owing}, saved {saving}.",
            "{id} {item} ({state}): {pledged}/{minimum} {units}, {count} members. Due {due}, paid {paid}, "
            "owing {owing}, saved {saving}."),
        state=ctx.t(STATUS_LABELS[p.status]),
        count=s.pledgers,
        **{**figures(p, s.pledged, ctx.lang, ctx.cluster), **money},
    )
    owing = [
        f"{m.number} {ctx.money(a.outstanding, p.currency)}"
        for m, a in store.accounts(ctx.session, p)
        if a.quantity and a.outstanding
    ]
    if owing:
        ctx.say(fit(ctx, N_("Still owing: {list}"), owing))


def _member_line(ctx: Ctx, p: Purchase, ref: MemberRef) -> None:
    member = _member(ctx, ref)
    if member is None:
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
        fit(
            ctx,
            NP_("Saved {saving} for {count} member. Purchases: {list}",
                "Saved {saving} for {count} members. Purchases: {list}"),
            items,
            saving=ctx.money(total),
            count=len(per_member),
        )
    )
