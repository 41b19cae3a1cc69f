"""SACCOS by message: members save, borrow and repay; the treasurer confirms, records and reports.

Storage (storage/savings.py) keeps the ledger and its rules; this module reads the member's words, calls
it, and words the replies and the notices to the other side (treasurer, committee, member).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot import i18n, outbox, router, sms
from bot.context import ACTIVE, ADMIN, TREASURER, Command, Ctx, Flow
from bot.handlers.glossary import start_more
from bot.i18n import N_, Money
from bot.money import MAX_MINOR, AmountError, parse_amount
from storage import savings as store
from storage.clusters import Cluster
from storage.members import Member, admins, find_member
from storage.savings import Entry, Loan, Request, SavingsError

PAGE = 5
STATEMENT_FLOW = "savings.statement"
REASON_LIMIT = 40
LIST_LIMIT = 90  # characters of member numbers per message to the treasurer

AMOUNT_ERRORS = {
    "empty": N_("Please write the amount in figures, for example 5000 or 5,000."),
    "invalid": N_("Please write the amount in figures, for example 5000 or 5,000."),
    "negative": N_("The amount must be more than zero."),
    "zero": N_("The amount must be more than zero."),
    "decimals": N_("Too many decimals for {currency}. Write the amount like 5000 or 5,000."),
    "too_large": N_("That is more than {limit}, the most one message may carry."),
}
TOO_LARGE = AMOUNT_ERRORS["too_large"]
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
MONTH_WORDS = frozenset({"months", "month", "miezi", "mwezi", "mois", "ወር", "wer"})

SAMPLES = {
    "currency": "TZS",
    "reason": "x" * REASON_LIMIT,
    "rate": "12.5",
    "method": "declining balance",
    "numbers": "x" * LIST_LIMIT,
    "year": "2025",
    "owed": "TSh 12,500,000.50",
    "due": "TSh 1,250,000.50",
    "pending": "120",
    "overdue": "TSh 12,500,000.50",
    "loans": "120",
    "accounts": "1200",
    "entry": "123456",
    "state": "approved, not paid out",
}


# ---------------------------------------------------------------- reading the member's words


def _split_amount(args: str) -> tuple[str, str]:
    """The amount (a currency word may come first: 'TSh 5,000') and what follows it."""
    tokens = args.split()
    if not tokens:
        return "", ""
    size = 2 if len(tokens) > 1 and not any(ch.isdecimal() for ch in tokens[0]) else 1
    if len(tokens) > size and tokens[size] in ("/=", "/-", "=/"):
        size += 1
    return " ".join(tokens[:size]), " ".join(tokens[size:])


def _amount(ctx: Ctx, text: str) -> int | None:
    """Parse an amount against the cluster's ceiling; on a bad one, reply why and return None."""
    rules = store.rules_for(ctx.session, ctx.cluster)
    try:
        return parse_amount(text, ctx.currency, ceiling_minor=rules.ceiling_minor)
    except AmountError as exc:
        limit = Money(rules.ceiling_minor or MAX_MINOR, ctx.currency)
        ctx.reply(AMOUNT_ERRORS[exc.code], currency=ctx.currency, limit=limit)
        return None


def _number(text: str) -> int | None:
    first = router.split_first(text)[0].lstrip("#")
    return int(first) if first.isdecimal() and len(first) < 10 else None


def as_money(minor: int, currency: str) -> Money:
    return Money(minor, currency)


def day_text(day: date, lang: str, cluster: Cluster) -> str:
    return i18n.format_day(day, lang, cluster.region)


def _today(ctx: Ctx) -> date:
    return store.local_date(ctx.now, ctx.cluster)


def _label(ctx: Ctx, labels: dict[str, str], detail: dict) -> str:
    """A status word from a refusal's detail, in the reader's language."""
    status = detail["status"]
    return ctx.t(labels[status])


def _usage(ctx: Ctx, msgid: str, **kwargs) -> None:
    ctx.reply(msgid, keyword=router.keyword(ctx.command, ctx.lang), **kwargs)


# ---------------------------------------------------------------- members: SAVE, REPAY, BAL, STMT


def save(ctx: Ctx) -> None:
    _report(ctx, store.request_deposit,
            N_("Deposit of {amount} noted as request {id}. The treasurer will confirm it and tell you."))


def repay(ctx: Ctx) -> None:
    _report(ctx, store.request_repayment,
            N_("Repayment of {amount} noted as request {id}. The treasurer will confirm it and tell you."))


def _report(ctx: Ctx, request_fn, noted: str) -> None:
    """SAVE and REPAY: a member reports money paid in; it waits for the treasurer to confirm it."""
    text, reference = _split_amount(ctx.args)
    if not text:
        _usage(
            ctx,
            N_(
                "Send {keyword} and the amount, with the payment reference if any, e.g. {keyword} 5000 QK12AB"
            ),
        )
        return
    amount = _amount(ctx, text)
    if amount is None:
        return
    try:
        request = request_fn(ctx.session, ctx.cluster, ctx.member, amount, ctx.now, reference)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    ctx.reply(noted, amount=as_money(amount, ctx.currency), id=request.id)
    _tell_confirmers(ctx, request)


def _tell_confirmers(ctx: Ctx, request: Request) -> None:
    """The treasurer hears of each request; a treasurer's own goes to the facilitators instead."""
    roles = ("facilitator",) if ctx.member.admin_role == "treasurer" else ("treasurer",)
    msgid = (
        N_("Deposit {id} from {number} {name}: {amount}, ref {ref}. Send CONFIRM {id} or DECLINE {id}.")
        if request.kind == "deposit"
        else N_(
            "Repayment {id} from {number} {name}: {amount}, ref {ref}. Send CONFIRM {id} or DECLINE {id}."
        )
    )
    for officer in admins(ctx.session, ctx.cluster.id, roles):
        outbox.notify(
            ctx.session,
            officer,
            msgid,
            in_cluster=ctx.cluster,
            id=request.id,
            number=ctx.member.number,
            name=ctx.member.name[:30],
            amount=as_money(request.amount_minor, request.currency),
            ref=request.reference or "-",
        )


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
    pos = store.position(ctx.session, loan, _today(ctx))
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
    """Five entries per segment, newest first; MORE (or `STMT 2`) for the five before them."""
    page = _number(ctx.args) or 1
    account = store.account_for(ctx.session, ctx.cluster, ctx.member)
    _show_statement(ctx, account, page)


def _more_statement(ctx: Ctx) -> None:
    """MORE while a statement is open: the next older page of the same account."""
    data = ctx.data
    _show_statement(ctx, ctx.session.get(store.Account, data["account"]), data["page"])


def _show_statement(ctx: Ctx, account: store.Account, page: int) -> None:
    entries, more = store.statement(ctx.session, account, page, PAGE)
    paged = more and start_more(ctx, STATEMENT_FLOW, "page", {"account": account.id, "page": page + 1})
    if not more and ctx.conversation is not None and ctx.conversation.flow == STATEMENT_FLOW:
        ctx.end_flow()
    savings = as_money(account.balance_minor, account.currency)
    if not entries:
        ctx.reply("No entries yet. Your savings: {balance}.", balance=savings)
        return
    lines = [_line(ctx, e) for e in entries]
    head = ctx.t("Savings {balance}. Entries:", balance=savings)
    if paged:
        tail = ctx.t("Older: {keyword}", keyword=router.keyword("MORE", ctx.lang))
    else:
        tail = ctx.t("Older: {keyword} {number}", keyword=router.keyword("STMT", ctx.lang), number=page + 1)
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


# ---------------------------------------------------------------- credit: LOAN, votes, PAYOUT


def loan(ctx: Ctx) -> None:
    tokens = ctx.args.split()
    if tokens and router.fold(tokens[-1]) in MONTH_WORDS:
        tokens.pop()
    months = tokens[-1] if len(tokens) >= 2 and tokens[-1].isdecimal() else None
    if months is None:
        _usage(ctx, N_("Send {keyword}, the amount and the months, for example: {keyword} 300000 6"))
        return
    amount = _amount(ctx, " ".join(tokens[:-1]))
    if amount is None:
        return
    try:
        request = store.request_loan(ctx.session, ctx.cluster, ctx.member, amount, int(months[:3]), ctx.now)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    first = store.schedule(
        request.principal_minor,
        request.interest_bp,
        request.term_months,
        request.method,
        store.unit(request.currency),
    )[0]
    ctx.reply(
        "Loan {id} asked: {amount} for {count} months at {rate}% a month ({method}), about {due} a month. "
        "You will be told the decision.",
        id=request.id,
        amount=as_money(amount, ctx.currency),
        count=request.term_months,
        rate=ctx.number(request.interest_bp / 100),
        method=ctx.t(METHOD_LABELS[request.method]),
        due=as_money(sum(first), ctx.currency),
    )
    deciders, k, by_committee = store.deciders(ctx.session, ctx.cluster)
    for decider in deciders:
        if decider.id != ctx.member.id:
            outbox.notify(
                ctx.session,
                decider,
                "Loan {id} asked by {number} {name}: {amount} for {count} months. "
                "Send LOANYES {id} or LOANNO {id}.",
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
    loan_id = _number(ctx.args)
    if loan_id is None:
        _usage(ctx, N_("Send {keyword} and the loan number, for example: {keyword} 12"))
        return
    reason = router.split_first(ctx.args)[1][:REASON_LIMIT]
    try:
        loan, yes = store.decide_loan(ctx.session, ctx.cluster, loan_id, ctx.member, approve, ctx.now, reason)
    except SavingsError as exc:
        _refused(ctx, exc)
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
        ctx.reply(
            "Loan {id} to {number} is approved. Send PAYOUT {id} when the money is handed over.",
            id=loan.id,
            number=borrower.number,
        )
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
            outbox.notify(
                ctx.session,
                treasurer,
                "Loan {id} to {number} is approved. Send PAYOUT {id} when the money is handed over.",
                in_cluster=ctx.cluster,
                id=loan.id,
                number=borrower.number,
            )


def payout(ctx: Ctx) -> None:
    loan_id = _number(ctx.args)
    if loan_id is None:
        _usage(ctx, N_("Send {keyword} and the loan number, for example: {keyword} 12"))
        return
    try:
        store.disburse_loan(ctx.session, ctx.cluster, loan_id, ctx.member, ctx.now)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    loan = ctx.session.get(Loan, loan_id)
    borrower = ctx.session.get(Member, loan.member_id)
    pos = store.position(ctx.session, loan, _today(ctx))
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


# ---------------------------------------------------------------- treasurer: CONFIRM, DECLINE, DEP, WITHDRAW


def confirm(ctx: Ctx) -> None:
    request_id = _number(ctx.args)
    if request_id is None:
        _usage(ctx, N_("Send {keyword} and the request number, for example: {keyword} 12"))
        return
    try:
        request, entry = store.confirm_request(ctx.session, ctx.cluster, request_id, ctx.member, ctx.now)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    owner = ctx.session.get(Member, request.member_id)
    amount = as_money(request.amount_minor, request.currency)
    if request.kind == "deposit":
        account = ctx.session.get(store.Account, request.account_id)
        new_balance = as_money(account.balance_minor, account.currency)
        ctx.reply(
            "Request {id} confirmed: {amount} saved by {number}. Their savings: {balance}.",
            id=request.id,
            amount=amount,
            number=owner.number,
            balance=new_balance,
        )
        outbox.notify(
            ctx.session,
            owner,
            "Your deposit of {amount} is confirmed. Your savings: {balance}.",
            in_cluster=ctx.cluster,
            amount=amount,
            balance=new_balance,
        )
        return
    loan = ctx.session.get(Loan, request.loan_id)
    owed = as_money(loan.outstanding_minor, loan.currency)
    ctx.reply(
        "Request {id} confirmed: {amount} repaid by {number}. Loan still owed: {owed}.",
        id=request.id,
        amount=amount,
        number=owner.number,
        owed=owed,
    )
    if loan.status == "repaid":
        outbox.notify(
            ctx.session,
            owner,
            "Your repayment of {amount} is confirmed. Loan {id} is fully repaid. Thank you!",
            in_cluster=ctx.cluster,
            amount=amount,
            id=loan.id,
        )
    else:
        outbox.notify(
            ctx.session,
            owner,
            "Your repayment of {amount} is confirmed. Loan still owed: {owed}.",
            in_cluster=ctx.cluster,
            amount=amount,
            owed=owed,
        )


def decline(ctx: Ctx) -> None:
    request_id = _number(ctx.args)
    if request_id is None:
        _usage(ctx, N_("Send {keyword} and the request number, for example: {keyword} 12"))
        return
    reason = router.split_first(ctx.args)[1][:REASON_LIMIT]
    try:
        request = store.decline_request(ctx.session, ctx.cluster, request_id, ctx.member, ctx.now, reason)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    owner = ctx.session.get(Member, request.member_id)
    ctx.reply("Request {id} declined; nothing posted. {number} was told.", id=request.id, number=owner.number)
    account = ctx.session.get(store.Account, request.account_id)
    kwargs = dict(
        in_cluster=ctx.cluster,
        id=request.id,
        amount=as_money(request.amount_minor, request.currency),
        balance=as_money(account.balance_minor, account.currency),
    )
    if reason:
        outbox.notify(
            ctx.session,
            owner,
            "Your request {id} of {amount} was declined: {reason}. Savings: {balance}.",
            reason=reason,
            **kwargs,
        )
    else:
        outbox.notify(
            ctx.session,
            owner,
            "Your request {id} of {amount} was declined. Please ask the treasurer. Savings: {balance}.",
            **kwargs,
        )


MEMBER_AMOUNT_USAGE = N_(
    "Send {keyword}, the member, the amount and any reference, e.g. {keyword} {example} 5000 QK12AB")


def _member_and_amount(ctx: Ctx, usage: str) -> tuple[Member, int, str] | None:
    ref, rest = router.split_first(ctx.args)
    text, reference = _split_amount(rest)
    if not ref or not text:
        _usage(ctx, usage, example=f"{ctx.cluster.code}-004")
        return None
    member = find_member(ctx.session, ctx.cluster, ref)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref[:24])
        return None
    amount = _amount(ctx, text)
    return None if amount is None else (member, amount, reference)


def deposit(ctx: Ctx) -> None:
    found = _member_and_amount(ctx, MEMBER_AMOUNT_USAGE)
    if found is None:
        return
    member, amount, reference = found
    try:
        entry = store.record_deposit(ctx.session, ctx.cluster, member, amount, ctx.member, ctx.now, reference)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    _recorded(ctx, member, entry, amount,
              N_("Entry {id}: deposit of {amount} for {number}. Their savings: {balance}."),
              N_("The treasurer recorded your deposit of {amount}. Your savings: {balance}."))


def withdraw(ctx: Ctx) -> None:
    found = _member_and_amount(ctx, MEMBER_AMOUNT_USAGE)
    if found is None:
        return
    member, amount, reference = found
    try:
        entry = store.record_withdrawal(
            ctx.session, ctx.cluster, member, amount, ctx.member, ctx.now, reference
        )
    except SavingsError as exc:
        if exc.code == "insufficient":
            ctx.reply(
                "{number} has only {balance} in savings; nothing withdrawn.",
                number=member.number,
                balance=as_money(exc.detail["balance"], ctx.currency),
            )
        else:
            _refused(ctx, exc)
        return
    _recorded(ctx, member, entry, amount,
              N_("Entry {id}: withdrawal of {amount} for {number}. Their savings: {balance}."),
              N_("The treasurer recorded a withdrawal of {amount}. Your savings: {balance}."))


def _recorded(ctx: Ctx, member: Member, entry: Entry, amount: int, reply: str, notice: str) -> None:
    """Tell the treasurer and the member what was posted and the member's new savings balance."""
    account = ctx.session.get(store.Account, entry.account_id)
    new_balance = as_money(account.balance_minor, account.currency)
    ctx.reply(reply, id=entry.id, amount=as_money(amount, ctx.currency), number=member.number,
              balance=new_balance)
    outbox.notify(ctx.session, member, notice, in_cluster=ctx.cluster, amount=as_money(amount, ctx.currency),
                  balance=new_balance)


def reverse(ctx: Ctx) -> None:
    """A correction (or waiving a fine): a new entry cancels the named one; nothing is erased."""
    entry_id = _number(ctx.args)
    if entry_id is None:
        _usage(
            ctx, N_("Send {keyword} and the entry number (shown by STMT with #), for example: {keyword} 57")
        )
        return
    reason = router.split_first(ctx.args)[1][:REASON_LIMIT]
    try:
        reversal = store.reverse_entry(ctx.session, ctx.cluster, entry_id, ctx.member, ctx.now, reason)
    except SavingsError as exc:
        _refused(ctx, exc)
        return
    original = ctx.session.get(Entry, entry_id)
    account = ctx.session.get(store.Account, reversal.account_id)
    owner = ctx.session.get(Member, account.member_id)
    amount = as_money(abs(original.amount_minor), original.currency)
    ctx.reply(
        "Entry {id} reversed by entry {entry} for {number}.",
        id=entry_id,
        entry=reversal.id,
        number=owner.number,
    )
    if original.kind == "fee":
        outbox.notify(
            ctx.session,
            owner,
            "Your fine of {amount} was waived. Your savings: {balance}.",
            in_cluster=ctx.cluster,
            amount=amount,
            balance=as_money(account.balance_minor, account.currency),
        )
    elif original.loan_id:
        loan = ctx.session.get(Loan, original.loan_id)
        outbox.notify(
            ctx.session,
            owner,
            "The treasurer corrected entry {id} ({amount}). Loan owed: {owed}.",
            in_cluster=ctx.cluster,
            id=entry_id,
            amount=amount,
            owed=as_money(loan.outstanding_minor, loan.currency),
        )
    else:
        outbox.notify(
            ctx.session,
            owner,
            "The treasurer corrected entry {id} ({amount}). Your savings: {balance}.",
            in_cluster=ctx.cluster,
            id=entry_id,
            amount=amount,
            balance=as_money(account.balance_minor, account.currency),
        )


def saccos_report(ctx: Ctx) -> None:
    totals = store.report(ctx.session, ctx.cluster, _today(ctx))
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


# ---------------------------------------------------------------- refusals


def _refused(ctx: Ctx, exc: SavingsError) -> None:
    """One clear reply for every rule storage refused; nothing was posted."""
    d = exc.detail
    cur = ctx.currency
    code = exc.code
    if code == "reference_used":
        ctx.reply("The reference {ref} was already used. Check it and send again.", ref=d["reference"][:24])
    elif code == "too_large":
        ctx.reply(TOO_LARGE, limit=as_money(d["limit"], cur))
    elif code == "own":
        ctx.reply("You cannot confirm, record or decide your own money. Another officer must do it.")
    elif code == "not_treasurer":
        ctx.reply("Only the treasurer can do that.")
    elif code == "no_request":
        ctx.reply("There is no request {id} in your cluster.", id=d["id"])
    elif code == "already":
        ctx.reply(
            "Request {id} is already {status}; nothing posted.",
            id=d["id"],
            status=_label(ctx, REQUEST_STATUS_LABELS, d),
        )
    elif code == "no_loan":
        ctx.reply("You have no loan to repay. Send BAL to see your savings.")
    elif code == "too_much":
        ctx.reply(
            "That is more than the {owed} owed on the loan. Send that amount or less.",
            owed=as_money(d["owed"], cur),
        )
    elif code == "term":
        ctx.reply("Loans here are for 1 to {count} months.", count=d.get("limit", 1))
    elif code == "open_loan":
        ctx.reply(
            "You already have loan {id} ({state}). One loan at a time.",
            id=d["id"],
            state=_label(ctx, LOAN_STATUS_LABELS, d),
        )
    elif code == "over_limit":
        ctx.reply(
            "The most you can borrow is {limit}: {count} times your savings of {balance}.",
            limit=as_money(d["limit"], cur),
            count=d["multiple"],
            balance=as_money(d["savings"], cur),
        )
    else:
        _refused_more(ctx, code, d)


def _refused_more(ctx: Ctx, code: str, d: dict) -> None:
    if code == "no_loan_id":
        ctx.reply("There is no loan {id} in your cluster.", id=d["id"])
    elif code == "not_decider" and d["committee"]:
        ctx.reply("Only members of the loan committee decide loans.")
    elif code == "not_decider":
        ctx.reply("Only the treasurer can do that.")
    elif code == "decided":
        ctx.reply("Loan {id} is already {state}.", id=d["id"], state=_label(ctx, LOAN_STATUS_LABELS, d))
    elif code == "voted":
        ctx.reply("You already voted on loan {id}.", id=d["id"])
    elif code == "not_approved":
        ctx.reply(
            "Loan {id} is {state}; only an approved loan can be paid out.",
            id=d["id"],
            state=_label(ctx, LOAN_STATUS_LABELS, d),
        )
    elif code == "no_entry":
        ctx.reply("There is no entry {id} in your cluster.", id=d["id"])
    elif code == "already_reversed":
        ctx.reply("Entry {id} is already reversed.", id=d["id"])
    elif code == "not_reversible":
        ctx.reply(
            "Entry {id} cannot be reversed: only deposits, withdrawals, repayments, fines and dividends can.",
            id=d["id"],
        )
    else:
        ctx.reply("The amount must be more than zero.")


COMMANDS = [
    Command("SAVE", save, access=ACTIVE),
    Command("BAL", balance, access=ACTIVE),
    Command("STMT", statement, access=ACTIVE),
    Command("LOAN", loan, access=ACTIVE),
    Command("REPAY", repay, access=ACTIVE),
    Command("LOANYES", loan_yes, access=ACTIVE, help=False),
    Command("LOANNO", loan_no, access=ACTIVE, help=False),
    Command("CONFIRM", confirm, access=ADMIN),
    Command("DECLINE", decline, access=ADMIN),
    Command("DEP", deposit, access=TREASURER),
    Command("WITHDRAW", withdraw, access=TREASURER),
    Command("PAYOUT", payout, access=TREASURER),
    Command("REVERSE", reverse, access=TREASURER),
    Command("SACCOS", saccos_report, access=TREASURER),
]
FLOWS = {STATEMENT_FLOW: Flow(statement_step)}
MORE = {STATEMENT_FLOW: _more_statement}
