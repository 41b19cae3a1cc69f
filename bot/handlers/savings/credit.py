"""Credit: a member asks for a LOAN, the treasurer or the loan committee vote (LOANYES, LOANNO), the
treasurer pays it out (PAYOUT). Repayments come in through REPAY (members.py)."""

from __future__ import annotations

import re

from bot import parse
from bot.context import Ctx
from bot.handlers.savings.common import (
    METHOD_LABELS,
    as_money,
    ceiling,
    day_text,
    on_record,
    refuse,
    tell,
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
FIGURE = re.compile(r"[0-9]", re.ASCII)
APPROVED = N_("Loan {id} to {number} is approved. Send PAYOUT {id} when the money is handed over.")


def loan(ctx: Ctx) -> None:
    """`LOAN 300000 6`, `MKOPO 100000 miezi 6`, `PRÊT 100 000 mois 6`: the amount and the months."""
    try:
        amount, months = parse.amount_and_months(ctx.args, ctx.currency, ceiling_minor=ceiling(ctx))
    except ParseError as exc:
        if exc.kind == "months" or exc.code == "empty" or exc.code == "invalid" and _two_figures(ctx.args):
            usage(ctx, LOAN_USAGE)  # an amount and months in figures, but words around them no loan has
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
            tell(ctx, decider, TO_DECIDE, id=request.id, number=ctx.member.number, name=ctx.member.name[:30],
                 amount=as_money(amount, ctx.currency), count=request.term_months)


def _two_figures(text: str) -> bool:
    """Whether figures stand in two places (an amount and the months), so the words are what went wrong."""
    return sum(1 for word in parse.words(text) if FIGURE.search(word)) >= 2


def loan_yes(ctx: Ctx) -> None:
    _vote(ctx, True)


def loan_no(ctx: Ctx) -> None:
    _vote(ctx, False)


def _vote(ctx: Ctx, approve: bool) -> None:
    found = on_record(ctx, LOAN_NUMBER_USAGE, store.decide_loan, approve, reason=True)
    if found is None:
        return
    loan, yes = found[2]
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
        tell(ctx, borrower, N_("Your loan {id} of {amount} is approved. The treasurer will pay it out."),
             id=loan.id, amount=amount)
        _tell_treasurer_approved(ctx, loan, borrower)
    else:
        ctx.reply(
            "Loan {id} to {number} is refused. The member was told.", id=loan.id, number=borrower.number
        )
        refused = (N_("Sorry, your loan {id} of {amount} was not approved: {reason}") if loan.reason
                   else N_("Sorry, your loan {id} of {amount} was not approved."))
        tell(ctx, borrower, refused, id=loan.id, amount=amount, reason=loan.reason)


def _tell_treasurer_approved(ctx: Ctx, loan: Loan, borrower: Member) -> None:
    for treasurer in admins(ctx.session, ctx.cluster.id, ("treasurer",)):
        if treasurer.id != ctx.member.id:
            tell(ctx, treasurer, APPROVED, id=loan.id, number=borrower.number)


def payout(ctx: Ctx) -> None:
    found = on_record(ctx, LOAN_NUMBER_USAGE, store.disburse_loan)
    if found is None:
        return
    loan = ctx.session.get(Loan, found[0])
    borrower = ctx.session.get(Member, loan.member_id)
    pos = store.position(ctx.session, loan, today(ctx))
    ctx.reply(
        "Loan {id} paid out to {number}: {amount}. Owed with interest: {owed}.",
        id=loan.id,
        number=borrower.number,
        amount=as_money(loan.principal_minor, loan.currency),
        owed=as_money(loan.outstanding_minor, loan.currency),
    )
    tell(
        ctx,
        borrower,
        N_("Loan {id} paid out: {amount}. You owe {owed}; first {due} due {date}. "
           "Send REPAY and the amount when you pay."),
        id=loan.id,
        amount=as_money(loan.principal_minor, loan.currency),
        owed=as_money(pos.outstanding, loan.currency),
        due=as_money(pos.next_amount, loan.currency),
        date=day_text(pos.next_due, borrower.language, ctx.cluster),
    )
