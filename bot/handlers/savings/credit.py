"""Credit: a member asks for a LOAN, the treasurer or the loan committee vote (LOANYES, LOANNO), the
treasurer pays it out (PAYOUT). Repayments come in through REPAY (members.py)."""

from __future__ import annotations

from bot import outbox, parse
from bot.context import Ctx
from bot.handlers.savings.common import (
    METHOD_LABELS,
    as_money,
    ceiling,
    day_text,
    ident_and_reason,
    refuse,
    today,
    usage,
)
from bot.i18n import N_, NP_
from bot.parse import ParseError
from storage import savings as store
from storage.members import Member, admins
from storage.savings import Loan, SavingsError

LOAN_USAGE = N_("Send {keyword}, the amount and the months, for example: {keyword} 300000 6")
LOAN_NUMBER_USAGE = N_("Send {keyword} and the loan number, for example: {keyword} 12")
ASKED = NP_(
    "Loan {id} asked: {amount} for {count} month at {rate}% a month ({method}), about {due} a month. "
    "You will be told the decision.",
    "Loan {id} asked: {amount} for {count} months at {rate}% a month ({method}), about {due} a month. "
    "You will be told the decision.",
)
TO_DECIDE = NP_(
    "Loan {id} asked by {number} {name}: {amount} for {count} month. Send LOANYES {id} or LOANNO {id}.",
    "Loan {id} asked by {number} {name}: {amount} for {count} months. Send LOANYES {id} or LOANNO {id}.",
)
APPROVED = N_("Loan {id} to {number} is approved. Send PAYOUT {id} when the money is handed over.")


def loan(ctx: Ctx) -> None:
    """`LOAN 300000 6`, `MKOPO 100000 miezi 6`, `PRÊT 100 000 mois 6`: the amount and the months."""
    try:
        amount, months = parse.amount_and_months(ctx.args, ctx.currency, ceiling_minor=ceiling(ctx))
    except ParseError as exc:
        if exc.kind == "months" or exc.code == "empty":
            usage(ctx, LOAN_USAGE)
        else:
            refuse(ctx, exc)
        return
    try:
        request = store.request_loan(ctx.session, ctx.cluster, ctx.member, amount, months, ctx.now)
    except SavingsError as exc:
        refuse(ctx, exc)
        return
    first = store.schedule(
        request.principal_minor,
        request.interest_bp,
        request.term_months,
        request.method,
        store.unit(request.currency),
    )[0]
    ctx.reply(
        ASKED,
        id=request.id,
        amount=as_money(amount, ctx.currency),
        count=request.term_months,
        rate=ctx.number(request.interest_bp / 100),
        method=ctx.t(METHOD_LABELS[request.method]),
        due=as_money(sum(first), ctx.currency),
    )
    deciders, _k, _by_committee = store.deciders(ctx.session, ctx.cluster)
    for decider in deciders:
        if decider.id != ctx.member.id:
            outbox.notify(
                ctx.session,
                decider,
                TO_DECIDE,
                in_cluster=ctx.cluster,
                id=request.id,
                number=ctx.member.number,
                name=ctx.member.name[:30],
                amount=as_money(amount, ctx.currency),
                count=request.term_months,
            )


def loan_yes(ctx: Ctx) -> None:
    _vote(ctx, True)


def loan_no(ctx: Ctx) -> None:
    _vote(ctx, False)


def _vote(ctx: Ctx, approve: bool) -> None:
    read = ident_and_reason(ctx, LOAN_NUMBER_USAGE)
    if read is None:
        return
    loan_id, reason = read
    try:
        loan, yes = store.decide_loan(ctx.session, ctx.cluster, loan_id, ctx.member, approve, ctx.now, reason)
    except SavingsError as exc:
        refuse(ctx, exc)
        return
    borrower = ctx.session.get(Member, loan.member_id)
    amount = as_money(loan.principal_minor, loan.currency)
    if loan.status == "requested":
        _members, k, _by_committee = store.deciders(ctx.session, ctx.cluster)
        ctx.reply(
            "Your vote on loan {id} is recorded. Approvals so far: {count} of {limit} needed.",
            id=loan.id,
            count=yes,
            limit=k,
        )
    elif loan.status == "approved":
        ctx.reply(APPROVED, id=loan.id, number=borrower.number)
        outbox.notify(
            ctx.session,
            borrower,
            "Your loan {id} of {amount} is approved. The treasurer will pay it out.",
            in_cluster=ctx.cluster,
            id=loan.id,
            amount=amount,
        )
        _tell_treasurer_approved(ctx, loan, borrower)
    else:
        ctx.reply(
            "Loan {id} to {number} is refused. The member was told.", id=loan.id, number=borrower.number
        )
        if loan.reason:
            outbox.notify(
                ctx.session,
                borrower,
                "Sorry, your loan {id} of {amount} was not approved: {reason}",
                in_cluster=ctx.cluster,
                id=loan.id,
                amount=amount,
                reason=loan.reason,
            )
        else:
            outbox.notify(
                ctx.session,
                borrower,
                "Sorry, your loan {id} of {amount} was not approved.",
                in_cluster=ctx.cluster,
                id=loan.id,
                amount=amount,
            )


def _tell_treasurer_approved(ctx: Ctx, loan: Loan, borrower: Member) -> None:
    for treasurer in admins(ctx.session, ctx.cluster.id, ("treasurer",)):
        if treasurer.id != ctx.member.id:
            outbox.notify(ctx.session, treasurer, APPROVED, in_cluster=ctx.cluster, id=loan.id,
                          number=borrower.number)


def payout(ctx: Ctx) -> None:
    read = ident_and_reason(ctx, LOAN_NUMBER_USAGE)
    if read is None:
        return
    loan_id = read[0]
    try:
        store.disburse_loan(ctx.session, ctx.cluster, loan_id, ctx.member, ctx.now)
    except SavingsError as exc:
        refuse(ctx, exc)
        return
    loan = ctx.session.get(Loan, loan_id)
    borrower = ctx.session.get(Member, loan.member_id)
    pos = store.position(ctx.session, loan, today(ctx))
    ctx.reply(
        "Loan {id} paid out to {number}: {amount}. Owed with interest: {owed}.",
        id=loan.id,
        number=borrower.number,
        amount=as_money(loan.principal_minor, loan.currency),
        owed=as_money(loan.outstanding_minor, loan.currency),
    )
    outbox.notify(
        ctx.session,
        borrower,
        "Loan {id} paid out: {amount}. You owe {owed}; first {due} due {date}. "
        "Send REPAY and the amount when you pay.",
        in_cluster=ctx.cluster,
        id=loan.id,
        amount=as_money(loan.principal_minor, loan.currency),
        owed=as_money(pos.outstanding, loan.currency),
        due=as_money(pos.next_amount, loan.currency),
        date=day_text(pos.next_due, borrower.language, ctx.cluster),
    )
