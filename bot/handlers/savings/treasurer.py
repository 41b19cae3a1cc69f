"""What the treasurer says: CONFIRM or DECLINE a member's request, DEP and WITHDRAW money handed over,
REVERSE an entry (a correction, or waiving a fine), SACCOS for the totals. Facilitators may CONFIRM and
DECLINE too (storage decides whose requests)."""

from __future__ import annotations

from collections.abc import Callable

from bot import parse
from bot.context import Ctx
from bot.handlers.savings.common import (
    amount_and_reference,
    as_money,
    member_named,
    on_record,
    refuse,
    tell,
    today,
    usage,
)
from bot.i18n import N_
from bot.parse import ParseError
from storage import savings as store
from storage.members import Member
from storage.savings import Entry, Loan, SavingsError

REQUEST_USAGE = N_("Send {keyword} and the request number, for example: {keyword} 12")
MEMBER_AMOUNT_USAGE = N_(
    "Send {keyword}, the member, the amount and any reference, e.g. {keyword} {example} 5000 QK12AB")
REVERSE_USAGE = N_("Send {keyword} and the entry number (shown by STMT with #), for example: {keyword} 57")


def confirm(ctx: Ctx) -> None:
    found = on_record(ctx, REQUEST_USAGE, store.confirm_request)
    if found is None:
        return
    request, entry = found[2]
    owner = ctx.session.get(Member, request.member_id)
    amount = as_money(request.amount_minor, request.currency)
    if request.kind == "deposit":
        account = ctx.session.get(store.Account, request.account_id)
        new_balance = as_money(account.balance_minor, account.currency)
        ctx.reply(N_("Request {id} confirmed as entry {entry}: {amount} saved by {number}. Their savings: {balance}."),
                  id=request.id, entry=entry.id, amount=amount, number=owner.number, balance=new_balance)
        tell(ctx, owner, N_("Your deposit of {amount} is confirmed. Your savings: {balance}."),
             amount=amount, balance=new_balance)
        return
    loan = ctx.session.get(Loan, request.loan_id)
    owed = as_money(loan.outstanding_minor, loan.currency)
    ctx.reply(N_("Request {id} confirmed as entry {entry}: {amount} repaid by {number}. Loan still owed: {owed}."),
              id=request.id, entry=entry.id, amount=amount, number=owner.number, owed=owed)
    repaid = (N_("Your repayment of {amount} is confirmed. Loan {id} is fully repaid. Thank you!")
              if loan.status == "repaid" else N_("Your repayment of {amount} is confirmed. Loan still owed: {owed}."))
    tell(ctx, owner, repaid, amount=amount, id=loan.id, owed=owed)


def decline(ctx: Ctx) -> None:
    found = on_record(ctx, REQUEST_USAGE, store.decline_request, reason=True)
    if found is None:
        return
    _request_id, reason, request = found
    owner = ctx.session.get(Member, request.member_id)
    ctx.reply("Request {id} declined; nothing posted. {number} was told.", id=request.id, number=owner.number)
    account = ctx.session.get(store.Account, request.account_id)
    why = "reason" if reason else "facilitator" if owner.admin_role == "treasurer" else "treasurer"
    tell(ctx, owner, DECLINED[why, bool(request.reference)], amount=as_money(request.amount_minor, request.currency),
         ref=request.reference, balance=as_money(account.balance_minor, account.currency), reason=reason)


# What the member is told of a declined payment: with the officer's reason, else whom to ask (a facilitator
# decided the treasurer's own); a payment sent without a reference is worded without one (no "ref -").
DECLINED = {
    ("reason", True): N_("Your payment of {amount}, ref {ref}, was declined: {reason}. Savings: {balance}."),
    ("reason", False): N_("Your payment of {amount} was declined: {reason}. Savings: {balance}."),
    ("facilitator", True): N_("Your payment of {amount}, ref {ref}, was declined. Please ask a facilitator. "
                              "Savings: {balance}."),
    ("facilitator", False): N_("Your payment of {amount} was declined. Please ask a facilitator. Savings: "
                               "{balance}."),
    ("treasurer", True): N_("Your payment of {amount}, ref {ref}, was declined. Please ask the treasurer. "
                            "Savings: {balance}."),
    ("treasurer", False): N_("Your payment of {amount} was declined. Please ask the treasurer. Savings: "
                             "{balance}."),
}


def _member_and_amount(ctx: Ctx) -> tuple[Member, int, str] | None:
    """DEP and WITHDRAW: the member, the amount and the reference, or None after replying why not."""
    try:
        ref, rest = parse.member_and_rest(ctx.args, ctx.region)
    except ParseError as exc:
        if exc.code == "empty":
            usage(ctx, MEMBER_AMOUNT_USAGE, example=f"{ctx.cluster.code}-004")
        else:
            refuse(ctx, exc)
        return None
    if not parse.words(rest):
        usage(ctx, MEMBER_AMOUNT_USAGE, example=f"{ctx.cluster.code}-004")
        return None
    member = member_named(ctx, ref)
    read = None if member is None else amount_and_reference(ctx, rest)
    return None if read is None else (member, *read)


def deposit(ctx: Ctx) -> None:
    _record(ctx, store.record_deposit,
            N_("Entry {id}: deposit of {amount} for {number}. Their savings: {balance}."),
            N_("The treasurer recorded your deposit of {amount}. Your savings: {balance}."))


def withdraw(ctx: Ctx) -> None:
    _record(ctx, store.record_withdrawal,
            N_("Entry {id}: withdrawal of {amount} for {number}. Their savings: {balance}."),
            N_("The treasurer recorded a withdrawal of {amount}. Your savings: {balance}."))


def _record(ctx: Ctx, rule: Callable[..., Entry], reply: str, notice: str) -> None:
    """DEP and WITHDRAW: post money handed over, then tell the treasurer and the member the new balance."""
    found = _member_and_amount(ctx)
    if found is None:
        return
    member, amount, reference = found
    try:
        entry = rule(ctx.session, ctx.cluster, member, amount, ctx.member, ctx.now, reference)
    except SavingsError as exc:
        refuse(ctx, exc, number=member.number)
        return
    account = ctx.session.get(store.Account, entry.account_id)
    new_balance = as_money(account.balance_minor, account.currency)
    ctx.reply(reply, id=entry.id, amount=as_money(amount, ctx.currency), number=member.number,
              balance=new_balance)
    tell(ctx, member, notice, amount=as_money(amount, ctx.currency), balance=new_balance)


def reverse(ctx: Ctx) -> None:
    """A correction (or waiving a fine): a new entry cancels the named one; nothing is erased."""
    found = on_record(ctx, REVERSE_USAGE, store.reverse_entry, reason=True)
    if found is None:
        return
    entry_id, _reason, reversal = found
    original = ctx.session.get(Entry, entry_id)
    account = ctx.session.get(store.Account, reversal.account_id)
    owner = ctx.session.get(Member, account.member_id)
    amount = as_money(abs(original.amount_minor), original.currency)
    ctx.reply("Entry {id} reversed by entry {entry} for {number}.", id=entry_id, entry=reversal.id,
              number=owner.number)
    savings = as_money(account.balance_minor, account.currency)
    if original.kind == "fee":
        tell(ctx, owner, N_("Your fine of {amount} was waived. Your savings: {balance}."),
             amount=amount, balance=savings)
    elif original.loan_id:
        loan = ctx.session.get(Loan, original.loan_id)
        tell(ctx, owner, N_("The treasurer corrected entry {id} ({amount}). Loan owed: {owed}."),
             id=entry_id, amount=amount, owed=as_money(loan.outstanding_minor, loan.currency))
    else:
        tell(ctx, owner, N_("The treasurer corrected entry {id} ({amount}). Your savings: {balance}."),
             id=entry_id, amount=amount, balance=savings)


def saccos_report(ctx: Ctx) -> None:
    totals = store.report(ctx.session, ctx.cluster, today(ctx))
    ctx.reply(
        "SACCOS savings: {balance}, accounts: {accounts}. Loans out: {loans}, owed {owed}, overdue "
        "{overdue} on {count}. Requests waiting: {pending}.",
        balance=as_money(totals.savings, ctx.currency),
        accounts=totals.accounts,
        loans=totals.loans,
        owed=as_money(totals.outstanding, ctx.currency),
        overdue=as_money(totals.overdue, ctx.currency),
        count=totals.overdue_loans,
        pending=totals.pending,
    )
