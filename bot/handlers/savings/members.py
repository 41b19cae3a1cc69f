"""What a member says to the SACCOS: SAVE and REPAY (money paid in, to be confirmed), BAL, STMT (paged
with MORE)."""

from __future__ import annotations

from decimal import Decimal

from bot import i18n, parse, router, sms
from bot.context import Ctx
from bot.handlers.glossary import start_more
from bot.handlers.savings.common import (
    KIND_LABELS,
    LOAN_STATUS_LABELS,
    PAGE,
    STATEMENT_FLOW,
    amount_and_reference,
    as_money,
    day_text,
    refuse,
    tell,
    today,
    usage,
)
from bot.i18n import N_
from bot.parse import ParseError
from storage import savings as store
from storage.members import admins
from storage.savings import Entry, Request, SavingsError

REPORT_USAGE = N_("Send {keyword} and the amount, with the payment reference if any, e.g. {keyword} 5000 QK12AB")


# What a member is told of money reported: no number, for members see one numbering, the ledger's (#
# in STMT), once the money is confirmed; and who confirms it: a facilitator confirms the treasurer's own.
NOTED = {
    ("deposit", False): N_("Deposit of {amount} noted. The treasurer will confirm it and tell you."),
    ("deposit", True): N_("Deposit of {amount} noted. A facilitator will confirm it and tell you."),
    ("repayment", False): N_("Repayment of {amount} noted. The treasurer will confirm it and tell you."),
    ("repayment", True): N_("Repayment of {amount} noted. A facilitator will confirm it and tell you."),
}


def save(ctx: Ctx) -> None:
    _report(ctx, store.request_deposit)


def repay(ctx: Ctx) -> None:
    _report(ctx, store.request_repayment)


def _report(ctx: Ctx, request_fn) -> None:
    """SAVE and REPAY: a member reports money paid in; it waits for the treasurer to confirm it."""
    if not parse.words(ctx.args):
        usage(ctx, REPORT_USAGE)
        return
    read = amount_and_reference(ctx, ctx.args)
    if read is None:
        return
    amount, reference = read
    try:
        request = request_fn(ctx.session, ctx.cluster, ctx.member, amount, ctx.now, reference)
    except SavingsError as exc:
        refuse(ctx, exc)
        return
    if ctx.member.admin_role != "treasurer" and not admins(ctx.session, ctx.cluster.id, ("treasurer",)):
        _no_treasurer(ctx, request)
        return
    ctx.reply(NOTED[request.kind, _confirmed_by_facilitator(ctx)], amount=as_money(amount, ctx.currency))
    _tell_confirmers(ctx, request)


# A cluster without a treasurer yet: the request waits for one (CONFIRM works once one is named), and the
# member and the facilitators are told so, instead of a promise that nobody would keep.
NO_TREASURER = {
    "deposit": N_("Deposit of {amount} noted, but the cluster has no treasurer yet to confirm "
                  "it. A facilitator was told."),
    "repayment": N_("Repayment of {amount} noted, but the cluster has no treasurer yet to "
                    "confirm it. A facilitator was told."),
}
NO_OFFICER = {
    "deposit": N_("Deposit of {amount} noted, but the cluster has no treasurer yet to confirm "
                  "it. Please tell your facilitator."),
    "repayment": N_("Repayment of {amount} noted, but the cluster has no treasurer yet to "
                    "confirm it. Please tell your facilitator."),
}
NAME_A_TREASURER = {
    "deposit": N_("Deposit {id} of {amount} from {number}: no treasurer to confirm it. Name one: "
                  "clusterbot facilitator add PHONE --role treasurer"),
    "repayment": N_("Repayment {id} of {amount} from {number}: no treasurer to confirm it. Name one: "
                    "clusterbot facilitator add PHONE --role treasurer"),
}


def _no_treasurer(ctx: Ctx, request: Request) -> None:
    amount = as_money(request.amount_minor, request.currency)
    facilitators = admins(ctx.session, ctx.cluster.id, ("facilitator",))
    ctx.reply((NO_TREASURER if facilitators else NO_OFFICER)[request.kind], amount=amount)
    for officer in facilitators:
        tell(ctx, officer, NAME_A_TREASURER[request.kind], id=request.id, amount=amount, number=ctx.member.number)


def _confirmed_by_facilitator(ctx: Ctx) -> bool:
    """The treasurer's own money is confirmed by a facilitator (storage.savings.may_confirm)."""
    return ctx.member.admin_role == "treasurer"


# What the confirming officer is told, by the request's kind and whether the member gave a reference: a
# request without one has its own sentence, with no "ref -".
TO_CONFIRM = {
    ("deposit", True): N_("Deposit {id} from {number} {name}: {amount}, ref {ref}. Send CONFIRM {id} or "
                          "DECLINE {id}."),
    ("deposit", False): N_("Deposit {id} from {number} {name}: {amount}. Send CONFIRM {id} or DECLINE {id}."),
    ("repayment", True): N_("Repayment {id} from {number} {name}: {amount}, ref {ref}. Send CONFIRM {id} or "
                            "DECLINE {id}."),
    ("repayment", False): N_("Repayment {id} from {number} {name}: {amount}. Send CONFIRM {id} or DECLINE "
                             "{id}."),
}


def _tell_confirmers(ctx: Ctx, request: Request) -> None:
    """The treasurer hears of each request; a treasurer's own goes to the facilitators instead."""
    roles = ("facilitator",) if _confirmed_by_facilitator(ctx) else ("treasurer",)
    msgid = TO_CONFIRM[request.kind, bool(request.reference)]
    for officer in admins(ctx.session, ctx.cluster.id, roles):
        tell(ctx, officer, msgid, id=request.id, number=ctx.member.number, name=ctx.member.name,
             amount=as_money(request.amount_minor, request.currency), ref=request.reference)


def balance(ctx: Ctx) -> None:
    account = store.account_for(ctx.session, ctx.cluster, ctx.member)
    savings = as_money(account.balance_minor, account.currency)
    loan = store.current_loan(ctx.session, account)
    if loan is None:
        ctx.reply("Your savings: {balance}. No loan.", balance=savings)
        return
    if loan.status != "disbursed":
        ctx.reply(
            "Your savings: {balance}. Loan {id} of {amount}: {state}.",
            balance=savings,
            id=loan.id,
            amount=as_money(loan.principal_minor, loan.currency),
            state=ctx.t(LOAN_STATUS_LABELS[loan.status]),
        )
        return
    pos = store.position(ctx.session, loan, today(ctx))
    if pos.overdue:
        ctx.reply(
            "Your savings: {balance}. Loan owed: {owed}; {overdue} overdue since {date}. Please repay.",
            balance=savings,
            owed=as_money(pos.outstanding, loan.currency),
            overdue=as_money(pos.overdue, loan.currency),
            date=day_text(pos.overdue_since, ctx.lang, ctx.cluster),
        )
        return
    ctx.reply(
        "Your savings: {balance}. Loan owed: {owed}; next {due} due {date}.",
        balance=savings,
        owed=as_money(pos.outstanding, loan.currency),
        due=as_money(pos.next_amount, loan.currency),
        date=day_text(pos.next_due, ctx.lang, ctx.cluster) if pos.next_due else "-",
    )


def statement(ctx: Ctx) -> None:
    """The savings book, five entries per segment, newest first; MORE (or `STMT 2`) for the five before
    them. `STMT LOAN` (the loan keyword of any language) shows the book of the last loan paid out
    instead: the two books are never mixed. Anything but a page number shows the first page."""
    first, rest = parse.first_word(ctx.args)
    found = router.match(first) if first else None
    loan_book = found is not None and found.command == "LOAN"
    try:
        page = parse.ident_and_rest(rest if loan_book else ctx.args)[0]
    except ParseError:
        page = 1
    account = store.account_for(ctx.session, ctx.cluster, ctx.member)
    loan = store.latest_loan(ctx.session, account) if loan_book else None
    if loan_book and loan is None:
        ctx.reply(N_("You have no loan paid out. Send {keyword} for your savings."),
                  keyword=router.keyword("STMT", ctx.lang))
        return
    _show_statement(ctx, account, page, loan)


def more_statement(ctx: Ctx) -> None:
    """MORE while a statement is open: the next older page of the same book."""
    data = ctx.data
    loan = ctx.session.get(store.Loan, data["loan"]) if data.get("loan") else None
    _show_statement(ctx, ctx.session.get(store.Account, data["account"]), data["page"], loan)


def _show_statement(ctx: Ctx, account: store.Account, page: int, loan: store.Loan | None = None) -> None:
    entries, more = store.statement(ctx.session, account, page, PAGE, loan)
    paged = more and start_more(ctx, STATEMENT_FLOW, "page",
                                {"account": account.id, "page": page + 1, "loan": loan.id if loan else None})
    if not more and ctx.conversation is not None and ctx.conversation.flow == STATEMENT_FLOW:
        ctx.end_flow()
    savings = as_money(account.balance_minor, account.currency)
    command = router.keyword("STMT", ctx.lang) + (f" {router.keyword('LOAN', ctx.lang)}" if loan else "")
    if not entries and page > 1:
        ctx.reply(N_("There are no older entries. Send {keyword} for the latest."), keyword=command)
        return
    if not entries:
        ctx.reply("No entries yet. Your savings: {balance}.", balance=savings)
        return
    lines = [_line(ctx, e) for e in entries]
    if loan is None:
        head = ctx.t("Savings {balance}. Entries:", balance=savings)
    else:
        head = ctx.t(N_("Loan {id}, owed {owed}. Entries:"), id=loan.id,
                     owed=as_money(loan.outstanding_minor, loan.currency))
    if paged:
        tail = ctx.t("Older: {keyword}", keyword=router.keyword("MORE", ctx.lang))
    else:
        tail = ctx.t("Older: {keyword} {number}", keyword=command, number=page + 1)
    text = "\n".join([head, *lines, tail] if more else [head, *lines])
    while not sms.fits(text) and len(lines) > 1:
        lines.pop()
        text = "\n".join([head, *lines, tail])
    ctx.say(text)


def statement_step(ctx: Ctx) -> None:
    """Words that are no command while a statement is open: close it and say what can be sent."""
    ctx.end_flow()
    ctx.reply("Sorry, I did not understand that. Send HELP to see what you can send.")


def _line(ctx: Ctx, entry: Entry) -> str:
    digits = i18n.minor_digits(entry.currency)
    amount = ctx.number(Decimal(abs(entry.amount_minor)).scaleb(-digits))
    sign = "+" if entry.amount_minor > 0 else "-"
    when = i18n.local_time(entry.at, ctx.timezone).strftime("%d/%m")
    return f"#{entry.id} {when} {ctx.t(KIND_LABELS[entry.kind])} {sign}{amount}"
