"""What members say about joint purchases: BUY (list, details, pledge) and PAID (a payment to confirm)."""

from __future__ import annotations

from bot import outbox, parse, router
from bot.context import Ctx
from bot.handlers.purchases.common import (
    amount_and_receipt,
    figures,
    fit,
    kw,
    lookup,
    misread,
    parsed_values,
    qty,
    refuse,
    short_date,
)
from bot.i18n import N_, Money
from bot.parse import ParseError
from storage import members as member_store
from storage import purchases as store
from storage.purchases import Purchase, PurchaseError

PAID_USAGE = N_("Send {keyword}, the purchase number, the amount and the receipt ref, for example: "
                "{keyword} 3 45000 QK7H2")

# BUY ----------------------------------------------------------------------------------------------------


def buy(ctx: Ctx) -> None:
    if not parse.words(ctx.args):
        _list_open(ctx)
        return
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
    except ParseError:
        _buy_usage(ctx)
        return
    purchase = lookup(ctx, purchase_id)
    if purchase is None:
        return
    if not rest:
        _show(ctx, purchase)
        return
    try:
        quantity, unit = parse.quantity_and_unit(rest, lang=ctx.lang, region=ctx.region)
    except ParseError as exc:
        refuse(ctx, "quantity", exc.code, purchase, **parsed_values(exc, ctx.currency))
        return
    if unit and not _names_unit(unit, purchase):
        if any(ch.isdigit() for ch in unit):  # BUY 3 2 3: two numbers where one is asked for
            _buy_usage(ctx)
        else:
            refuse(ctx, "pledge", "unit", purchase)
        return
    _pledge(ctx, purchase, quantity)


def _names_unit(typed: str, p: Purchase) -> bool:
    """Whether the words after a quantity are the purchase's own unit (2 bags, 12,5 kg, 3 Bags.)."""
    return router.fold(typed).strip(" .") in {router.fold(p.unit), router.fold(p.units)}


def _buy_usage(ctx: Ctx) -> None:
    ctx.reply(
        "Send {keyword}, the purchase number and how many, for example: {keyword} 3 2. "
        "{keyword} alone lists open purchases.",
        keyword=kw("BUY", ctx.lang),
    )


def _list_open(ctx: Ctx) -> None:
    offers = store.open_offers(ctx.session, ctx.member, ctx.now)
    if not offers:
        ctx.reply("No joint purchase is open for you now. We will tell you when one opens.")
        return
    lines = [
        ctx.t(
            "{id} {item} {price}/{unit}: {pledged} of {minimum} {units}, until {date}",
            date=short_date(p.deadline, ctx.lang, ctx.cluster),
            **figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster),
        )
        for p in offers
    ]
    ctx.say(fit(ctx, N_("Open: {list}. Send {keyword} and a number for details."), lines,
                keyword=kw("BUY", ctx.lang)))


def _show(ctx: Ctx, p: Purchase) -> None:
    mine = store.find_pledge(ctx.session, p.id, ctx.member.id)
    ctx.reply(
        "{id} {item}: {price}/{unit}. {pledged} of {minimum} {units} pledged, yours {quantity}. Until {when}. "
        "Send {keyword} {id} and how many.",
        keyword=kw("BUY", ctx.lang),
        quantity=qty(mine.quantity if mine else 0, ctx.lang, ctx.region),
        **figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster),
    )


def _pledge(ctx: Ctx, p: Purchase, quantity: int) -> None:
    try:
        store.pledge(ctx.session, p.id, ctx.member, quantity, ctx.now)
    except PurchaseError as exc:
        # nothing left at all is a full purchase, not "only 0 left"
        code = "full" if exc.code == "over_maximum" and str(exc) == "0" else exc.code
        refuse(ctx, "pledge", code, p, str(exc))
        return
    values = figures(p, store.pledged_total(ctx.session, p.id), ctx.lang, ctx.cluster)
    if quantity == 0:
        ctx.reply("Your pledge for {item} is withdrawn. Group: {pledged} of {minimum} {units}.", **values)
        return
    values.update(
        quantity=qty(quantity, ctx.lang, ctx.region),
        units=p.unit_word(quantity),
        group_units=p.units,  # the group's figures are many units, whatever the member's own
        due=Money(store.amount_due(p, quantity), p.currency),
    )
    saving = store.saving_for(p, quantity)
    if saving > 0:
        ctx.reply(
            "{quantity} {units} of {item}: {due}, you save {saving}. Group: {pledged} of {minimum} "
            "{group_units}. Closes {when}.",
            saving=Money(saving, p.currency),
            **values,
        )
    else:
        ctx.reply(
            "{quantity} {units} of {item}: {due} to pay. Group: {pledged} of {minimum} {group_units}. "
            "Closes {when}.",
            **values,
        )


# PAID ---------------------------------------------------------------------------------------------------


def paid(ctx: Ctx) -> None:
    try:
        purchase_id, rest = parse.ident_and_rest(ctx.args)
        amount, ref = amount_and_receipt(rest, ctx.currency)
    except ParseError as exc:
        misread(ctx, exc, PAID_USAGE, keyword=kw("PAID", ctx.lang))
        return
    purchase = lookup(ctx, purchase_id)
    if purchase is None:
        return
    try:
        payment = store.report_payment(ctx.session, purchase.id, ctx.member, amount, ref, ctx.now)
    except PurchaseError as exc:
        refuse(ctx, "paid", exc.code, purchase, str(exc), ref=ref[:40])
        return
    account = store.account(ctx.session, purchase, ctx.member)
    ctx.reply(
        "Thank you: {amount} for {item} noted, the treasurer will confirm. Left to pay after it: {due}.",
        amount=Money(amount, purchase.currency),
        item=purchase.item,
        due=Money(account.due - account.paid - account.reported, purchase.currency),
    )
    for admin in member_store.admins(ctx.session, ctx.cluster.id):
        outbox.notify(
            ctx.session,
            admin,
            # A payment reported without a reference has its own sentence, with no "ref -".
            N_("{number} paid {amount} for {item}, ref {ref}. PAYOK {id} if received, PAYNO {id} if not.")
            if ref else N_("{number} paid {amount} for {item}. PAYOK {id} if received, PAYNO {id} if not."),
            in_cluster=ctx.cluster,
            number=ctx.member.number,
            amount=Money(amount, purchase.currency),
            item=purchase.item,
            ref=ref,
            id=payment.id,
        )
