"""What every side of the SACCOS shares: reading amounts, ids and members through bot.parse, the labels,
and the one table that turns a refusal (a storage rule's code, or the parser's) into a reply.

A reader here either returns what was typed, read, or replies why not and returns None: the caller then
stops, so a refusal never reaches storage and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from bot import i18n, outbox, parse, router
from bot.context import Ctx
from bot.i18n import N_, NP_, Money, Plural
from bot.parse import ParseError
from storage import savings as store
from storage.clusters import Cluster
from storage.members import Member, find_member
from storage.savings import SavingsError

T = TypeVar("T")

PAGE = 5
STATEMENT_FLOW = "savings.statement"
REASON_LIMIT = 40
LIST_LIMIT = 90  # characters of member numbers per message to the treasurer
REF_LIMIT = 24  # characters of a reference or member reference echoed back

KIND_LABELS = {
    "deposit": N_("DEP"),
    "withdrawal": N_("WDR"),
    "loan_disbursement": N_("LOAN"),
    "repayment": N_("REPAY"),
    "interest": N_("INT"),
    "fee": N_("FINE"),
    "reversal": N_("CORR"),
}
METHOD_LABELS = {"flat": N_("flat"), "declining": N_("declining balance")}
LOAN_STATUS_LABELS = {
    "requested": N_("waiting for a decision"),
    "approved": N_("approved, not paid out"),
    "refused": N_("refused"),
    "disbursed": N_("paid out"),
    "repaid": N_("repaid"),
}
REQUEST_STATUS_LABELS = {"pending": N_("waiting"), "confirmed": N_("confirmed"), "declined": N_("declined")}


def as_money(minor: int, currency: str) -> Money:
    return Money(minor, currency)


def day_text(day: date, lang: str, cluster: Cluster) -> str:
    return i18n.format_day(day, lang, cluster.region)


def today(ctx: Ctx) -> date:
    return store.local_date(ctx.now, ctx.cluster)


def tell(ctx: Ctx, member: Member, msgid: str | Plural, **values) -> None:
    """Queue a notice to `member`, worded in their own language for this cluster."""
    outbox.notify(ctx.session, member, msgid, in_cluster=ctx.cluster, **values)


def usage(ctx: Ctx, msgid: str, **kwargs) -> None:
    ctx.reply(msgid, keyword=router.keyword(ctx.command, ctx.lang), **kwargs)


# ---------------------------------------------------------------- refusals: one table, code -> words

# How a placeholder is filled from a refusal's detail.
PLAIN, MONEY, TEXT, LOAN_STATE, REQUEST_STATE = "plain", "money", "text", "loan state", "request state"


@dataclass(frozen=True)
class Refusal:
    """The reply to one refusal: its msgid, and {placeholder: (detail key, how to word it, default)}."""

    msgid: str | Plural
    fill: dict[str, tuple[str, str, object]] = field(default_factory=dict)


ID = {"id": ("id", PLAIN, None)}
MORE_THAN_ZERO = parse.MORE_THAN_ZERO
ERRORS: dict[str, Refusal] = {
    "reference_used": Refusal(N_("The reference {ref} was already used. Check it and send again."),
                              {"ref": ("reference", TEXT, None)}),
    "too_large": Refusal(parse.message_for("amount", "too_large"), {"limit": ("limit", MONEY, None)}),
    "amount": Refusal(MORE_THAN_ZERO),
    "own": Refusal(N_("You cannot confirm, record or decide your own money. Another officer must do it.")),
    "not_treasurer": Refusal(N_("Only the treasurer can do that.")),
    "not_decider": Refusal(N_("Only the treasurer can do that.")),
    "not_decider committee": Refusal(N_("Only members of the loan committee decide loans.")),
    "no_request": Refusal(N_("There is no request {id} in your cluster."), ID),
    "already": Refusal(N_("Request {id} is already {status}; nothing posted."),
                       {**ID, "status": ("status", REQUEST_STATE, None)}),
    "no_loan": Refusal(N_("You have no loan to repay. Send BAL to see your savings.")),
    "too_much": Refusal(N_("That is more than the {owed} owed on the loan. Send that amount or less."),
                        {"owed": ("owed", MONEY, None)}),
    "term": Refusal(NP_("Loans here are for {count} month at most.", "Loans here are for 1 to {count} months."),
                    {"count": ("limit", PLAIN, 1)}),
    "open_loan": Refusal(N_("You already have loan {id} ({state}). One loan at a time."),
                         {**ID, "state": ("status", LOAN_STATE, None)}),
    "over_limit": Refusal(NP_("The most you can borrow is {limit}: {count} time your savings of {balance}.",
                              "The most you can borrow is {limit}: {count} times your savings of {balance}."),
                          {"limit": ("limit", MONEY, None), "count": ("multiple", PLAIN, None),
                           "balance": ("savings", MONEY, None)}),
    "insufficient": Refusal(N_("{number} has only {balance} in savings; nothing withdrawn."),
                            {"balance": ("balance", MONEY, None)}),
    "no_loan_id": Refusal(N_("There is no loan {id} in your cluster."), ID),
    "decided": Refusal(N_("Loan {id} is already {state}."), {**ID, "state": ("status", LOAN_STATE, None)}),
    "voted": Refusal(N_("You already voted on loan {id}."), ID),
    "not_approved": Refusal(N_("Loan {id} is {state}; only an approved loan can be paid out."),
                            {**ID, "state": ("status", LOAN_STATE, None)}),
    "negative": Refusal(N_("Entry {id} cannot be reversed: {number} has only {balance} in savings. Record what "
                           "they pay back with DEP first."),
                        {**ID, "number": ("number", PLAIN, None), "balance": ("balance", MONEY, None)}),
    "no_entry": Refusal(N_("There is no entry {id} in your cluster."), ID),
    "already_reversed": Refusal(N_("Entry {id} is already reversed."), ID),
    "not_reversible": Refusal(
        N_("Entry {id} cannot be reversed: only deposits, withdrawals, repayments, fines and dividends can."),
        ID),
}
WORDING = {
    PLAIN: lambda ctx, value: value,
    MONEY: lambda ctx, value: as_money(value, ctx.currency),
    TEXT: lambda ctx, value: str(value)[:REF_LIMIT],
    LOAN_STATE: lambda ctx, value: ctx.t(LOAN_STATUS_LABELS[value]),
    REQUEST_STATE: lambda ctx, value: ctx.t(REQUEST_STATUS_LABELS[value]),
}
# A refusal whose detail carries this flag is worded by the table's "<code> <flag>" entry.
VARIANTS = {"not_decider": "committee"}
# What the parser's refusals carry, for its own msgids (parse.MESSAGES).
PARSED = {"limit": ("limit", MONEY, None)}


def refuse(ctx: Ctx, exc: SavingsError | ParseError, **known) -> None:
    """One clear reply for every refusal, from the table (or the parser's msgid); nothing was posted.

    `known` fills what the handler knows and the detail does not (the member's number).
    """
    if isinstance(exc, ParseError):
        refusal = Refusal(exc.msgid, PARSED)
    else:
        flag = VARIANTS.get(exc.code)
        code = f"{exc.code} {flag}" if flag and exc.detail.get(flag) else exc.code
        refusal = ERRORS.get(code, ERRORS["amount"])  # a code with no words of its own: a bad amount
    values = {"currency": ctx.currency, **known}
    for name, (key, how, default) in refusal.fill.items():
        if key in exc.detail or default is not None:
            values[name] = WORDING[how](ctx, exc.detail.get(key, default))
    ctx.reply(refusal.msgid, **values)


# ---------------------------------------------------------------- reading what was typed, through bot.parse


def ceiling(ctx: Ctx) -> int | None:
    """The cluster's ceiling on one message's amount; None leaves the parser's default for the currency."""
    return store.rules_for(ctx.session, ctx.cluster).ceiling_minor


def amount_and_reference(ctx: Ctx, text: str) -> tuple[int, str] | None:
    """`5 000 QK12AB`, `TSh 5,000 /= QK7`: the amount and the reference, or None after replying why not."""
    try:
        return parse.amount_and_reference(text, ctx.currency, ceiling_minor=ceiling(ctx))
    except ParseError as exc:
        refuse(ctx, exc)
        return None


def ident_and_reason(ctx: Ctx, usage_msgid: str) -> tuple[int, str] | None:
    """The record number that opens the arguments and the reason after it (cut to REASON_LIMIT), or None
    after the command's usage."""
    try:
        number, rest = parse.ident_and_rest(ctx.args)
    except ParseError:
        usage(ctx, usage_msgid)
        return None
    return number, rest[:REASON_LIMIT]


def on_record(
    ctx: Ctx, usage_msgid: str, rule: Callable[..., T], *args, reason: bool = False
) -> tuple[int, str, T] | None:
    """An officer's command on one numbered record (CONFIRM 12, DECLINE 12 wrong amount, LOANYES 3): the
    number, the reason typed after it and what the storage `rule` made of them, called as
    rule(session, cluster, number, officer, *args, now), with the reason last when `reason`; None after the
    usage or the refusal, so nothing was posted."""
    read = ident_and_reason(ctx, usage_msgid)
    if read is None:
        return None
    number, typed = read
    try:
        done = rule(ctx.session, ctx.cluster, number, ctx.member, *args, ctx.now, *((typed,) if reason else ()))
    except SavingsError as exc:
        refuse(ctx, exc)
        return None
    return number, typed, done


def member_named(ctx: Ctx, ref: parse.MemberRef) -> Member | None:
    """The member of the cluster `ref` names (read by bot.parse), or None after replying there is none."""
    member = find_member(ctx.session, ctx.cluster, ref.key)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref.text[:REF_LIMIT])
    return member
