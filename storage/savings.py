"""SACCOS savings and credit: accounts, an append-only ledger, members' requests, loans and the rules.

The ledger is the truth. Every entry's `amount_minor` is SIGNED and counts toward exactly one book:
- the savings book (entries without `loan_id`): what the SACCOS holds for the member.
  deposit +, withdrawal -, interest (year-end dividend) +, fee (a fine, taken from savings) -;
- a loan's book (entries with `loan_id`): what the member owes on that loan.
  loan_disbursement +, interest (the schedule's interest, charged at disbursement) +, repayment -.
A reversal carries the opposite amount of the entry it reverses, in the same account and book, and points
to it with `reverses_id` (unique: an entry is reversed at most once). So every balance is a plain sum.
Entries are only ever inserted, by `_post`, which updates the cached balance (the account's savings
balance or the loan's outstanding amount) in the same transaction; database triggers refuse UPDATE and
DELETE on the ledger, and `check` proves the caches equal the sums.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from sqlalchemy import BigInteger, bindparam, update
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, col, func, select

from storage import audit
from storage.clusters import Cluster
from storage.db import insert_once, lock_row, utcnow
from storage.exports import Rows, local
from storage.members import Member, admins
from storage.schedule import claim

KINDS = ("deposit", "withdrawal", "loan_disbursement", "repayment", "interest", "fee", "reversal")
METHODS = ("flat", "declining")
LOAN_STATUSES = ("requested", "approved", "refused", "disbursed", "repaid")
OPEN_LOAN = ("requested", "approved", "disbursed")
MAX_REFERENCE = 40


class SavingsRules(SQLModel, table=True):
    """A cluster's agreed rules; a cluster without a row uses these defaults."""

    __tablename__ = "savings_rules"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", unique=True)
    loan_multiple: int = 3  # a loan may be at most this many times the member's savings
    interest_bp: int = 100  # basis points a month: 100 = 1 % a month
    interest_method: str = Field(default="flat", max_length=10)
    max_term_months: int = 12
    ceiling_minor: int | None = Field(default=None, sa_type=BigInteger)  # the largest amount one message may carry; None: no ceiling
    contribution_minor: int = Field(default=0, sa_type=BigInteger)  # 0: no regular contribution
    contribution_day: int = 1  # day of the month the contribution is due (1-28)
    remind_days: int = 2  # the reminder goes this many days before the due day
    fine_minor: int = Field(default=0, sa_type=BigInteger)  # fine for a missed contribution; 0: none
    committee_k: int = 0  # approvals a loan needs from the committee; 0: the treasurer decides alone
    updated_at: datetime = Field(default_factory=utcnow)


class CommitteeMember(SQLModel, table=True):
    __tablename__ = "savings_committee"
    __table_args__ = (UniqueConstraint("cluster_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    added_at: datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    __tablename__ = "savings_accounts"
    __table_args__ = (UniqueConstraint("cluster_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    currency: str = Field(max_length=3)
    balance_minor: int = Field(default=0, sa_type=BigInteger)  # cache of the savings book's sum, written only by _post
    opened_at: datetime = Field(default_factory=utcnow)


class Loan(SQLModel, table=True):
    __tablename__ = "savings_loans"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    account_id: int = Field(foreign_key="savings_accounts.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    principal_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    interest_bp: int
    method: str = Field(max_length=10)
    term_months: int
    status: str = Field(default="requested", max_length=10, index=True)
    interest_minor: int = Field(default=0, sa_type=BigInteger)  # the schedule's whole interest, charged at disbursement
    outstanding_minor: int = Field(default=0, sa_type=BigInteger)  # cache of the loan book's sum, written only by _post
    reason: str = Field(default="", max_length=120)
    requested_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="members.id")
    disbursed_at: datetime | None = None
    repaid_at: datetime | None = None


class Instalment(SQLModel, table=True):
    __tablename__ = "savings_instalments"
    __table_args__ = (UniqueConstraint("loan_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="savings_loans.id", index=True)
    number: int
    due_on: date
    principal_minor: int = Field(sa_type=BigInteger)
    interest_minor: int = Field(sa_type=BigInteger)


class LoanVote(SQLModel, table=True):
    __tablename__ = "savings_loan_votes"
    __table_args__ = (UniqueConstraint("loan_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    loan_id: int = Field(foreign_key="savings_loans.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    approve: bool
    at: datetime = Field(default_factory=utcnow)


class Request(SQLModel, table=True):
    """A deposit or repayment a member reported; only the treasurer's confirmation posts it."""

    __tablename__ = "savings_requests"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    account_id: int = Field(foreign_key="savings_accounts.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    kind: str = Field(max_length=12)  # deposit or repayment
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=MAX_REFERENCE)
    loan_id: int | None = Field(default=None, foreign_key="savings_loans.id")
    status: str = Field(default="pending", max_length=10, index=True)
    reason: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="members.id")


class ReferenceClaim(SQLModel, table=True):
    """A payment reference is used once per cluster: claimed by a request or a direct entry."""

    __tablename__ = "savings_references"
    __table_args__ = (UniqueConstraint("cluster_id", "reference"),)
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id")
    reference: str = Field(max_length=MAX_REFERENCE)
    request_id: int | None = Field(default=None, foreign_key="savings_requests.id")
    claimed_at: datetime = Field(default_factory=utcnow)


class Entry(SQLModel, table=True):
    """One ledger line, never changed or deleted (see the module docstring for the signs)."""

    __tablename__ = "savings_entries"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    account_id: int = Field(foreign_key="savings_accounts.id", index=True)
    loan_id: int | None = Field(default=None, foreign_key="savings_loans.id", index=True)
    kind: str = Field(max_length=20)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=MAX_REFERENCE)
    note: str = Field(default="", max_length=120)
    recorded_by_id: int | None = Field(default=None, foreign_key="members.id")
    confirmed_by_id: int | None = Field(default=None, foreign_key="members.id")
    reverses_id: int | None = Field(default=None, foreign_key="savings_entries.id", unique=True)
    request_id: int | None = Field(default=None, foreign_key="savings_requests.id", unique=True)
    at: datetime = Field(default_factory=utcnow, index=True)


# Built once, bound per call: the hot reads of BAL and STMT (building a statement costs more Python than
# SQLite takes to run it)
_ACCOUNT = select(Account).where(Account.cluster_id == bindparam("cluster_id"),
                                 Account.member_id == bindparam("member_id"))
_CURRENT_LOAN = (select(Loan).where(Loan.account_id == bindparam("account_id"), col(Loan.status).in_(OPEN_LOAN))
                 .order_by(Loan.id.desc()))


class SavingsError(ValueError):
    """A savings rule refused the change; `code` names the rule, `detail` carries what the reply needs."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---------------------------------------------------------------- rules, accounts, committee


def rules_for(session: Session, cluster: Cluster) -> SavingsRules:
    """The cluster's rules; the defaults (not stored) when none were set."""
    found = session.exec(select(SavingsRules).where(SavingsRules.cluster_id == cluster.id)).first()
    return found or SavingsRules(cluster_id=cluster.id)


RULE_LIMITS = {
    "loan_multiple": (0, 100),
    "interest_bp": (0, 10_000),
    "max_term_months": (1, 120),
    "contribution_minor": (0, None),
    "contribution_day": (1, 28),
    "remind_days": (0, 27),
    "fine_minor": (0, None),
    "committee_k": (0, 50),
    "ceiling_minor": (1, None),
}


def set_rules(session: Session, cluster: Cluster, actor: str = "cli", **changes) -> SavingsRules:
    rules = rules_for(session, cluster)
    for name, value in changes.items():
        if name == "interest_method":
            if value not in METHODS:
                raise SavingsError("bad_rule", name=name, value=value)
        elif name not in RULE_LIMITS:
            raise SavingsError("bad_rule", name=name, value=value)
        elif value is not None or name != "ceiling_minor":
            low, high = RULE_LIMITS[name]
            if not isinstance(value, int) or value < low or (high is not None and value > high):
                raise SavingsError("bad_rule", name=name, value=value)
        setattr(rules, name, value)
    rules.updated_at = utcnow()
    session.add(rules)
    audit.record(
        session,
        "savings.rules",
        cluster_id=cluster.id,
        actor=actor,
        **{k: str(v) for k, v in changes.items()},
    )
    return rules


def account_for(session: Session, cluster: Cluster, member: Member, *, create: bool = True) -> Account | None:
    account = session.exec(_ACCOUNT, params={"cluster_id": cluster.id, "member_id": member.id}).first()
    if account is None and create:
        account = Account(cluster_id=cluster.id, member_id=member.id, currency=cluster.currency)
        if not insert_once(session, account):
            return account_for(session, cluster, member, create=False)
    return account


def committee(session: Session, cluster: Cluster) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .join(CommitteeMember, CommitteeMember.member_id == Member.id)
            .where(CommitteeMember.cluster_id == cluster.id, Member.status == "active")
            .order_by(Member.id)
        )
    )


def set_committee(session: Session, cluster: Cluster, member: Member, on: bool) -> None:
    row = session.exec(
        select(CommitteeMember).where(
            CommitteeMember.cluster_id == cluster.id, CommitteeMember.member_id == member.id
        )
    ).first()
    if on and row is None:
        session.add(CommitteeMember(cluster_id=cluster.id, member_id=member.id))
    elif not on and row is not None:
        session.delete(row)
    audit.record(
        session, "savings.committee", cluster_id=cluster.id, actor="cli", subject=member.number, on=on
    )


def check_amount(rules: SavingsRules, amount: int) -> None:
    """Storage repeats the handler's amount checks so the CLI and jobs cannot post a bad amount."""
    if not isinstance(amount, int) or amount <= 0:
        raise SavingsError("amount")
    if rules.ceiling_minor is not None and amount > rules.ceiling_minor:
        raise SavingsError("too_large", limit=rules.ceiling_minor)


def normalise_reference(text: str) -> str:
    return "".join((text or "").split()).upper()[:MAX_REFERENCE]


def _claim_reference(
    session: Session, cluster: Cluster, reference: str, now: datetime, request: Request | None = None
) -> None:
    if not reference:
        return
    claim = ReferenceClaim(
        cluster_id=cluster.id, reference=reference, claimed_at=now, request_id=request.id if request else None
    )
    if not insert_once(session, claim):
        raise SavingsError("reference_used", reference=reference)


# ---------------------------------------------------------------- posting


def _post(
    session: Session,
    account: Account,
    kind: str,
    amount: int,
    now: datetime,
    *,
    loan: Loan | None = None,
    reference: str = "",
    note: str = "",
    recorded_by: Member | None = None,
    confirmed_by: Member | None = None,
    reverses: Entry | None = None,
    request: Request | None = None,
) -> Entry:
    """The only way an entry enters the ledger: insert it and move the cached balance with it."""
    assert kind in KINDS, kind
    entry = Entry(
        cluster_id=account.cluster_id,
        account_id=account.id,
        loan_id=loan.id if loan else None,
        kind=kind,
        amount_minor=amount,
        currency=account.currency,
        reference=reference,
        note=note[:120],
        recorded_by_id=recorded_by.id if recorded_by else None,
        confirmed_by_id=confirmed_by.id if confirmed_by else None,
        reverses_id=reverses.id if reverses else None,
        request_id=request.id if request else None,
        at=now,
    )
    session.add(entry)
    if loan is None:
        account.balance_minor += amount
        session.add(account)
    else:
        loan.outstanding_minor += amount
        if loan.status == "disbursed" and loan.outstanding_minor <= 0:
            loan.status, loan.repaid_at = "repaid", now
        elif loan.status == "repaid" and loan.outstanding_minor > 0:
            loan.status, loan.repaid_at = "disbursed", None
        session.add(loan)
    session.flush()
    return entry


def _locked_account(session: Session, account_id: int) -> Account:
    return lock_row(session, Account, account_id)


def _in_cluster(row, cluster: Cluster, code: str, ref_id) -> None:
    if row is None or row.cluster_id != cluster.id:
        raise SavingsError(code, id=ref_id)


def record_deposit(
    session: Session,
    cluster: Cluster,
    member: Member,
    amount: int,
    actor: Member,
    now: datetime,
    reference: str = "",
) -> Entry:
    """The treasurer records money received directly; nobody records their own."""
    if actor.id == member.id:
        raise SavingsError("own")
    check_amount(rules_for(session, cluster), amount)
    reference = normalise_reference(reference)
    _claim_reference(session, cluster, reference, now)
    account = _locked_account(session, account_for(session, cluster, member).id)
    return _post(
        session, account, "deposit", amount, now, reference=reference, recorded_by=actor, confirmed_by=actor
    )


def record_withdrawal(
    session: Session,
    cluster: Cluster,
    member: Member,
    amount: int,
    actor: Member,
    now: datetime,
    reference: str = "",
) -> Entry:
    check_amount(rules_for(session, cluster), amount)
    account = account_for(session, cluster, member)
    account = _locked_account(session, account.id)
    if amount > account.balance_minor:
        raise SavingsError("insufficient", balance=account.balance_minor)
    reference = normalise_reference(reference)
    _claim_reference(session, cluster, reference, now)
    return _post(
        session,
        account,
        "withdrawal",
        -amount,
        now,
        reference=reference,
        recorded_by=actor,
        confirmed_by=actor,
    )


def charge_fee(session: Session, account: Account, amount: int, now: datetime, note: str) -> Entry:
    """A fine is taken from savings, so it can make the balance negative: the member then owes it."""
    return _post(session, _locked_account(session, account.id), "fee", -amount, now, note=note)


NOT_REVERSIBLE = ("reversal", "loan_disbursement")


def reverse_entry(
    session: Session, cluster: Cluster, entry_id: int, actor: Member, now: datetime, reason: str = ""
) -> Entry:
    """A correction: the opposite amount, same account and book, pointing at the entry it undoes.

    A correction never takes savings below zero (a deposit whose money was withdrawn since): refused
    ("negative"), so the treasurer records what the member pays back first and reverses after.
    """
    entry = session.get(Entry, entry_id)
    _in_cluster(entry, cluster, "no_entry", entry_id)
    if entry.kind in NOT_REVERSIBLE or (entry.kind == "interest" and entry.loan_id is not None):
        raise SavingsError("not_reversible", id=entry_id, kind=entry.kind)
    if session.exec(select(Entry.id).where(Entry.reverses_id == entry.id)).first() is not None:
        raise SavingsError("already_reversed", id=entry_id)
    account = _locked_account(session, entry.account_id)
    loan = lock_row(session, Loan, entry.loan_id) if entry.loan_id else None
    if loan is None and entry.amount_minor > 0 and account.balance_minor - entry.amount_minor < 0:
        owner = session.get(Member, account.member_id)
        raise SavingsError("negative", id=entry_id, balance=account.balance_minor, number=owner.number)
    return _post(
        session,
        account,
        "reversal",
        -entry.amount_minor,
        now,
        loan=loan,
        note=reason,
        recorded_by=actor,
        confirmed_by=actor,
        reverses=entry,
    )


# ---------------------------------------------------------------- requests: deposits and repayments


def request_deposit(
    session: Session, cluster: Cluster, member: Member, amount: int, now: datetime, reference: str = ""
) -> Request:
    check_amount(rules_for(session, cluster), amount)
    return _new_request(session, cluster, member, "deposit", amount, now, reference)


def request_repayment(
    session: Session, cluster: Cluster, member: Member, amount: int, now: datetime, reference: str = ""
) -> Request:
    check_amount(rules_for(session, cluster), amount)
    account = account_for(session, cluster, member)
    loan = current_loan(session, account)
    if loan is None or loan.status != "disbursed":
        raise SavingsError("no_loan")
    if amount > loan.outstanding_minor:
        raise SavingsError("too_much", owed=loan.outstanding_minor)
    return _new_request(session, cluster, member, "repayment", amount, now, reference, loan)


def _new_request(
    session: Session,
    cluster: Cluster,
    member: Member,
    kind: str,
    amount: int,
    now: datetime,
    reference: str,
    loan: Loan | None = None,
) -> Request:
    """The reference is claimed first, so a refused one leaves nothing behind."""
    reference = normalise_reference(reference)
    _claim_reference(session, cluster, reference, now)
    account = account_for(session, cluster, member)
    request = Request(
        cluster_id=cluster.id,
        account_id=account.id,
        member_id=member.id,
        kind=kind,
        amount_minor=amount,
        currency=account.currency,
        reference=reference,
        loan_id=loan.id if loan else None,
        created_at=now,
    )
    session.add(request)
    session.flush()
    if reference:
        claimed = session.exec(
            select(ReferenceClaim).where(
                ReferenceClaim.cluster_id == cluster.id, ReferenceClaim.reference == reference
            )
        ).one()
        claimed.request_id = request.id
        session.add(claimed)
    return request


def may_confirm(session: Session, actor: Member, request: Request) -> None:
    """Only the treasurer confirms, never their own request; a facilitator confirms the treasurer's own."""
    if actor.id == request.member_id:
        raise SavingsError("own")
    owner = session.get(Member, request.member_id)
    if actor.admin_role == "treasurer" or (
        actor.admin_role == "facilitator" and owner.admin_role == "treasurer"
    ):
        return
    raise SavingsError("not_treasurer")


def confirm_request(
    session: Session, cluster: Cluster, request_id: int, actor: Member, now: datetime
) -> tuple[Request, Entry]:
    """Post a pending request exactly once: the row is re-read under lock and the entry's
    request_id is unique, so two treasurers confirming at once post one entry."""
    request = lock_row(session, Request, request_id)
    _in_cluster(request, cluster, "no_request", request_id)
    may_confirm(session, actor, request)
    if request.status != "pending":
        raise SavingsError("already", id=request_id, status=request.status)
    account = _locked_account(session, request.account_id)
    loan = None
    if request.kind == "repayment":
        loan = lock_row(session, Loan, request.loan_id)
        if request.amount_minor > loan.outstanding_minor:
            raise SavingsError("too_much", owed=loan.outstanding_minor)
    amount = request.amount_minor if request.kind == "deposit" else -request.amount_minor
    entry = _post(
        session,
        account,
        request.kind,
        amount,
        now,
        loan=loan,
        reference=request.reference,
        recorded_by=session.get(Member, request.member_id),
        confirmed_by=actor,
        request=request,
    )
    request.status, request.decided_at, request.decided_by_id = "confirmed", now, actor.id
    session.add(request)
    return request, entry


def decline_request(
    session: Session, cluster: Cluster, request_id: int, actor: Member, now: datetime, reason: str = ""
) -> Request:
    """Nothing is posted; the reference is freed so the member can send the right amount again."""
    request = lock_row(session, Request, request_id)
    _in_cluster(request, cluster, "no_request", request_id)
    may_confirm(session, actor, request)
    if request.status != "pending":
        raise SavingsError("already", id=request_id, status=request.status)
    request.status, request.decided_at, request.decided_by_id = "declined", now, actor.id
    request.reason = reason[:120]
    session.add(request)
    for held in session.exec(select(ReferenceClaim).where(ReferenceClaim.request_id == request.id)):
        session.delete(held)
    return request


def pending_requests(session: Session, cluster: Cluster) -> list[Request]:
    return list(
        session.exec(
            select(Request)
            .where(Request.cluster_id == cluster.id, Request.status == "pending")
            .order_by(Request.id)
        )
    )


# ---------------------------------------------------------------- loans


def unit(currency: str) -> int:
    """Schedules are in whole currency units (shillings), the smallest amount people actually pay."""
    return 10 ** get_currency_precision(currency.upper())


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def schedule(principal: int, rate_bp: int, months: int, method: str, step: int = 1) -> list[tuple[int, int]]:
    """(principal part, interest part) per month, integer minor units.

    Principal: an equal part rounded down to a whole `step` each month; the last instalment absorbs the
    remainder. Interest, rounded half up to a whole `step`:
    - flat: principal x rate x months, spread the same way (equal parts, the last absorbs the remainder);
    - declining: each month, rate x the principal still owed at the start of that month.
    """
    if months < 1:
        raise SavingsError("term")
    part = principal // months // step * step
    principal_parts = [part] * (months - 1) + [principal - part * (months - 1)]
    if method == "flat":
        total = _half_up(principal * rate_bp * months, 10_000 * step) * step
        share = total // months // step * step
        interest_parts = [share] * (months - 1) + [total - share * (months - 1)]
    elif method == "declining":
        interest_parts, owed = [], principal
        for p in principal_parts:
            interest_parts.append(_half_up(owed * rate_bp, 10_000 * step) * step)
            owed -= p
    else:
        raise SavingsError("bad_rule", name="interest_method", value=method)
    return list(zip(principal_parts, interest_parts, strict=True))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, held to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(moment: datetime, cluster: Cluster) -> date:
    return moment.astimezone(ZoneInfo(cluster.timezone)).date()


def current_loan(session: Session, account: Account) -> Loan | None:
    """The member's loan still in progress (requested, approved or disbursed), if any."""
    return session.exec(_CURRENT_LOAN, params={"account_id": account.id}).first()


def loan_limit(session: Session, cluster: Cluster, account: Account) -> int:
    return max(0, rules_for(session, cluster).loan_multiple * account.balance_minor)


def request_loan(
    session: Session, cluster: Cluster, member: Member, amount: int, months: int, now: datetime
) -> Loan:
    rules = rules_for(session, cluster)
    check_amount(rules, amount)
    if not 1 <= months <= rules.max_term_months:
        raise SavingsError("term", limit=rules.max_term_months)
    account = account_for(session, cluster, member)
    existing = current_loan(session, account)
    if existing is not None:
        raise SavingsError("open_loan", id=existing.id, status=existing.status)
    limit = loan_limit(session, cluster, account)
    if amount > limit:
        raise SavingsError(
            "over_limit", limit=limit, multiple=rules.loan_multiple, savings=account.balance_minor
        )
    step = unit(cluster.currency)
    interest = sum(i for _p, i in schedule(amount, rules.interest_bp, months, rules.interest_method, step))
    loan = Loan(
        cluster_id=cluster.id,
        account_id=account.id,
        member_id=member.id,
        principal_minor=amount,
        currency=cluster.currency,
        interest_bp=rules.interest_bp,
        method=rules.interest_method,
        term_months=months,
        interest_minor=interest,
        requested_at=now,
    )
    session.add(loan)
    session.flush()
    return loan


def deciders(session: Session, cluster: Cluster) -> tuple[list[Member], int, bool]:
    """Who decides loans, how many approvals are needed, and whether that is a committee (k of n)
    rather than the treasurer alone."""
    k = rules_for(session, cluster).committee_k
    members = committee(session, cluster)
    if k > 0 and members:
        return members, min(k, len(members)), True
    return admins(session, cluster.id, ("treasurer",)), 1, False


def decide_loan(
    session: Session,
    cluster: Cluster,
    loan_id: int,
    actor: Member,
    approve: bool,
    now: datetime,
    reason: str = "",
) -> tuple[Loan, int]:
    """Record one decider's vote; returns the loan (status moved when the outcome is settled) and the
    approvals so far. Approved once k approve; refused once k approvals can no longer be reached."""
    members, k, by_committee = deciders(session, cluster)
    if actor.id not in {m.id for m in members}:
        raise SavingsError("not_decider", committee=by_committee)
    loan = lock_row(session, Loan, loan_id)
    _in_cluster(loan, cluster, "no_loan_id", loan_id)
    if actor.id == loan.member_id:
        raise SavingsError("own")
    if loan.status != "requested":
        raise SavingsError("decided", id=loan_id, status=loan.status)
    if not insert_once(session, LoanVote(loan_id=loan.id, member_id=actor.id, approve=approve, at=now)):
        raise SavingsError("voted", id=loan_id)
    votes = list(session.exec(select(LoanVote).where(LoanVote.loan_id == loan.id)))
    eligible = {m.id for m in members} - {loan.member_id}
    yes = sum(1 for v in votes if v.approve and v.member_id in eligible)
    no = sum(1 for v in votes if not v.approve and v.member_id in eligible)
    if yes >= k:
        loan.status = "approved"
    elif len(eligible) - no < k:
        loan.status = "refused"
        loan.reason = reason[:120]
    if loan.status != "requested":
        loan.decided_at, loan.decided_by_id = now, actor.id
        session.add(loan)
    return loan, yes


def disburse_loan(session: Session, cluster: Cluster, loan_id: int, actor: Member, now: datetime) -> Entry:
    """Hand the money over: the disbursement and the schedule's interest enter the loan's book and the
    instalments are stored, the first due one month after today."""
    loan = lock_row(session, Loan, loan_id)
    _in_cluster(loan, cluster, "no_loan_id", loan_id)
    if loan.status != "approved":
        raise SavingsError("not_approved", id=loan_id, status=loan.status)
    account = _locked_account(session, loan.account_id)
    loan.status, loan.disbursed_at = "disbursed", now
    entry = _post(
        session,
        account,
        "loan_disbursement",
        loan.principal_minor,
        now,
        loan=loan,
        recorded_by=actor,
        confirmed_by=actor,
        note=f"loan {loan.id}",
    )
    rows = schedule(
        loan.principal_minor, loan.interest_bp, loan.term_months, loan.method, unit(loan.currency)
    )
    interest = sum(i for _p, i in rows)
    if interest:
        _post(
            session,
            account,
            "interest",
            interest,
            now,
            loan=loan,
            recorded_by=actor,
            confirmed_by=actor,
            note=f"loan {loan.id} interest",
        )
    loan.interest_minor = interest
    start = local_date(now, cluster)
    for number, (principal, part_interest) in enumerate(rows, start=1):
        session.add(
            Instalment(
                loan_id=loan.id,
                number=number,
                due_on=add_months(start, number),
                principal_minor=principal,
                interest_minor=part_interest,
            )
        )
    session.add(loan)
    session.flush()
    return entry


@dataclass(frozen=True)
class Position:
    """Where a loan stands on a day: what is owed, the next amount and day due, what is overdue."""

    outstanding: int
    next_amount: int
    next_due: date | None
    overdue: int
    overdue_since: date | None


def position(session: Session, loan: Loan, today: date) -> Position:
    """Repayments pay instalments oldest first; an instalment is overdue once its day has passed."""
    rows = list(
        session.exec(select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number))
    )
    paid = loan.principal_minor + loan.interest_minor - loan.outstanding_minor
    cumulative, next_amount, next_due, overdue, since = 0, 0, None, 0, None
    for row in rows:
        cumulative += row.principal_minor + row.interest_minor
        left = min(cumulative - paid, row.principal_minor + row.interest_minor)
        if left <= 0:
            continue
        if row.due_on < today:
            overdue += left
            since = since or row.due_on
        elif next_due is None:
            next_due, next_amount = row.due_on, left
    return Position(loan.outstanding_minor, next_amount, next_due, overdue, since)


# ---------------------------------------------------------------- reading


def statement(
    session: Session, account: Account, page: int = 1, per_page: int = 5, loan: Loan | None = None
) -> tuple[list[Entry], bool]:
    """A page of one book's entries, newest first, and whether older ones remain: the savings book, or
    with `loan` that loan's book (never the two mixed, so a loan paid out never reads as savings)."""
    book = col(Entry.loan_id).is_(None) if loan is None else Entry.loan_id == loan.id
    rows = list(
        session.exec(
            select(Entry)
            .where(Entry.account_id == account.id, book)
            .order_by(Entry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def latest_loan(session: Session, account: Account) -> Loan | None:
    """The member's loan whose book STMT shows: the last one paid out (being repaid, or repaid)."""
    return session.exec(
        select(Loan)
        .where(Loan.account_id == account.id, col(Loan.status).in_(("disbursed", "repaid")))
        .order_by(Loan.id.desc())
    ).first()


@dataclass(frozen=True)
class Report:
    savings: int
    accounts: int
    loans: int
    outstanding: int
    overdue: int
    overdue_loans: int
    pending: int


def report(session: Session, cluster: Cluster, today: date) -> Report:
    savings, accounts = session.exec(
        select(func.coalesce(func.sum(Account.balance_minor), 0), func.count()).where(
            Account.cluster_id == cluster.id
        )
    ).one()
    loans = list(session.exec(select(Loan).where(Loan.cluster_id == cluster.id, Loan.status == "disbursed")))
    positions = [position(session, loan, today) for loan in loans]
    return Report(
        savings=savings,
        accounts=accounts,
        loans=len(loans),
        outstanding=sum(p.outstanding for p in positions),
        overdue=sum(p.overdue for p in positions),
        overdue_loans=sum(1 for p in positions if p.overdue),
        pending=len(pending_requests(session, cluster)),
    )


# ---------------------------------------------------------------- contributions


def due_day(rules: SavingsRules, year: int, month: int) -> date:
    return date(year, month, min(rules.contribution_day, calendar.monthrange(year, month)[1]))


def period(rules: SavingsRules, due: date) -> tuple[date, date]:
    """The days a contribution due on `due` may be paid in: after the previous due day, up to this one."""
    previous = add_months(due, -1)
    return previous + timedelta(days=1), due


def contributed(session: Session, cluster: Cluster, account: Account, first: date, last: date) -> int:
    """Deposits posted in the period (by the cluster's local date), less any reversal of them."""
    tz = ZoneInfo(cluster.timezone)
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
    deposits = list(
        session.exec(
            select(Entry).where(
                Entry.account_id == account.id, Entry.kind == "deposit", Entry.at >= start, Entry.at < end
            )
        )
    )
    ids = [e.id for e in deposits]
    undone = (
        session.exec(
            select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(col(Entry.reverses_id).in_(ids))
        ).one()
        if ids
        else 0
    )
    return sum(e.amount_minor for e in deposits) + undone


def behind(session: Session, cluster: Cluster, rules: SavingsRules, due: date) -> list[Member]:
    """Active members whose deposits in the period do not reach the contribution."""
    first, last = period(rules, due)
    late = []
    for member in session.exec(
        select(Member).where(Member.cluster_id == cluster.id, Member.status == "active").order_by(Member.id)
    ):
        account = account_for(session, cluster, member)
        if contributed(session, cluster, account, first, last) < rules.contribution_minor:
            late.append(member)
    return late


# ---------------------------------------------------------------- year end


@dataclass(frozen=True)
class Dividend:
    account: Account
    member: Member
    average: int  # day-weighted average savings balance over the year
    amount: int


def average_balance(session: Session, cluster: Cluster, account: Account, year: int) -> int:
    """The savings balance held at the end of each day of the year, averaged (rounded down)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    entries = session.exec(
        select(Entry.at, Entry.amount_minor)
        .where(Entry.account_id == account.id, col(Entry.loan_id).is_(None))
        .order_by(Entry.at, Entry.id)
    )
    balance, weighted, day = 0, 0, first
    for at, amount in entries:
        when = local_date(at, cluster)
        if when > last:
            break
        if when >= day:
            weighted += balance * (when - day).days
            day = when
        balance += amount
    weighted += balance * ((last - day).days + 1)
    return weighted // ((last - first).days + 1)


def dividends(session: Session, cluster: Cluster, year: int, rate_bp: int) -> list[Dividend]:
    """Each member's share: the yearly rate on the day-weighted average balance, rounded half up to a
    whole currency unit; nothing for an average at or below zero."""
    step = unit(cluster.currency)
    out = []
    for account in session.exec(select(Account).where(Account.cluster_id == cluster.id).order_by(Account.id)):
        average = average_balance(session, cluster, account, year)
        amount = _half_up(average * rate_bp, 10_000 * step) * step if average > 0 else 0
        out.append(Dividend(account, session.get(Member, account.member_id), average, amount))
    return out


def post_dividends(
    session: Session, cluster: Cluster, year: int, rate_bp: int, now: datetime, actor: str = "cli"
) -> list[tuple[Dividend, Entry]]:
    """Post the year's dividends once: a second run for the same year is refused."""
    if not claim(session, "savings.dividend", f"{cluster.id}:{year}"):
        raise SavingsError("dividend_posted", year=year)
    posted = []
    for share in dividends(session, cluster, year, rate_bp):
        if share.amount > 0:
            account = _locked_account(session, share.account.id)
            posted.append(
                (
                    share,
                    _post(
                        session,
                        account,
                        "interest",
                        share.amount,
                        now,
                        note=f"dividend {year} at {rate_bp} bp",
                    ),
                )
            )
    audit.record(
        session,
        "savings.dividend",
        cluster_id=cluster.id,
        actor=actor,
        subject=str(year),
        rate_bp=rate_bp,
        total=sum(e.amount_minor for _s, e in posted),
    )
    return posted


# ---------------------------------------------------------------- reconciliation


def negative_balances(session: Session, cluster: Cluster | None = None) -> list[tuple[Account, Member]]:
    """Accounts whose savings are below zero (a fine larger than the savings, or a ledger repaired by
    hand): money the SACCOS paid out and no longer holds, for the treasurer to settle."""
    query = select(Account, Member).join(Member, Member.id == Account.member_id).where(Account.balance_minor < 0)
    if cluster is not None:
        query = query.where(Account.cluster_id == cluster.id)
    return [tuple(row) for row in session.exec(query.order_by(Account.id))]



def check(session: Session, cluster: Cluster | None = None) -> list[str]:
    """Every invariant of the ledger; the list of what does not hold (empty when all is well)."""
    where = [Entry.cluster_id == cluster.id] if cluster else []
    problems: list[str] = []
    sums = dict(
        session.exec(
            select(Entry.account_id, func.sum(Entry.amount_minor))
            .where(col(Entry.loan_id).is_(None), *where)
            .group_by(Entry.account_id)
        ).all()
    )
    accounts = session.exec(
        select(Account).where(Account.cluster_id == cluster.id) if cluster else select(Account)
    )
    for account in accounts:
        if account.balance_minor != sums.get(account.id, 0):
            problems.append(
                f"account {account.id}: cached balance {account.balance_minor} "
                f"!= ledger sum {sums.get(account.id, 0)}"
            )
    problems += _check_loans(session, cluster)
    problems += _check_entries(session, cluster)
    return problems


def _check_loans(session: Session, cluster: Cluster | None) -> list[str]:
    problems = []
    loans = session.exec(select(Loan).where(Loan.cluster_id == cluster.id) if cluster else select(Loan))
    for loan in loans:
        by_kind = dict(
            session.exec(
                select(Entry.kind, func.sum(Entry.amount_minor))
                .where(Entry.loan_id == loan.id)
                .group_by(Entry.kind)
            ).all()
        )
        total = sum(by_kind.values())
        if loan.outstanding_minor != total:
            problems.append(f"loan {loan.id}: outstanding {loan.outstanding_minor} != ledger sum {total}")
        if loan.status in ("disbursed", "repaid"):
            rows = session.exec(
                select(func.sum(Instalment.principal_minor), func.sum(Instalment.interest_minor)).where(
                    Instalment.loan_id == loan.id
                )
            ).one()
            if tuple(v or 0 for v in rows) != (loan.principal_minor, loan.interest_minor):
                problems.append(f"loan {loan.id}: schedule sums {rows} != principal and interest")
            if by_kind.get("loan_disbursement") != loan.principal_minor:
                problems.append(
                    f"loan {loan.id}: disbursed {by_kind.get('loan_disbursement')} "
                    f"!= principal {loan.principal_minor}"
                )
            if (loan.status == "repaid") != (total <= 0):
                problems.append(f"loan {loan.id}: status {loan.status} with {total} outstanding")
        elif total:
            problems.append(f"loan {loan.id}: {loan.status} but has entries summing to {total}")
    return problems


def _check_entries(session: Session, cluster: Cluster | None) -> list[str]:
    where = [Entry.cluster_id == cluster.id] if cluster else []
    problems = []
    for entry in session.exec(select(Entry).where(Entry.kind == "reversal", *where)):
        target = session.get(Entry, entry.reverses_id) if entry.reverses_id else None
        if target is None:
            problems.append(f"entry {entry.id}: reversal of a missing entry")
        elif (
            target.kind == "reversal"
            or target.account_id != entry.account_id
            or target.loan_id != entry.loan_id
            or target.amount_minor != -entry.amount_minor
        ):
            problems.append(f"entry {entry.id}: does not mirror entry {target.id}")
    for entry in session.exec(
        select(Entry).where(
            Entry.kind != "reversal",
            col(Entry.reverses_id).is_not(None),
            *where,
        )
    ):
        problems.append(f"entry {entry.id}: {entry.kind} points at entry {entry.reverses_id}")
    for request_id, count in session.exec(
        select(Entry.request_id, func.count())
        .where(col(Entry.request_id).is_not(None), *where)
        .group_by(Entry.request_id)
        .having(func.count() > 1)
    ):
        problems.append(f"request {request_id}: posted {count} times")
    for request in session.exec(
        select(Request).where(*([Request.cluster_id == cluster.id] if cluster else []))
    ):
        posted = session.exec(select(Entry).where(Entry.request_id == request.id)).first()
        if (request.status == "confirmed") != (posted is not None):
            problems.append(f"request {request.id}: status {request.status}, posted: {posted is not None}")
        elif posted is not None and abs(posted.amount_minor) != request.amount_minor:
            problems.append(
                f"request {request.id}: amount {request.amount_minor} posted as {posted.amount_minor}"
            )
    for entry in session.exec(select(Entry).where(*where)):
        if entry.kind not in KINDS or _wrong_sign(entry):
            problems.append(f"entry {entry.id}: {entry.kind} with amount {entry.amount_minor}")
    return problems


def forget_member(session: Session, member_id: int) -> None:
    """Erasing a member: the reasons a treasurer wrote about their requests and loans go. Entries, amounts
    and payment references stay: the ledger is append-only and every balance must still reconcile."""
    session.execute(update(Request).where(Request.member_id == member_id).values(reason=""))
    session.execute(update(Loan).where(Loan.member_id == member_id).values(reason=""))


SIGNS = {"deposit": 1, "withdrawal": -1, "loan_disbursement": 1, "repayment": -1, "interest": 1, "fee": -1}


def _wrong_sign(entry: Entry) -> bool:
    sign = SIGNS.get(entry.kind)
    return sign is not None and entry.amount_minor * sign <= 0


# ---------------------------------------------------------------- exports


def ledger_rows(session: Session, cluster: Cluster) -> Rows:
    columns = [
        "id",
        "at",
        "member_number",
        "member_name",
        "kind",
        "book",
        "amount_minor",
        "currency",
        "loan_id",
        "reference",
        "note",
        "recorded_by",
        "confirmed_by",
        "reverses_id",
        "request_id",
    ]
    members = {m.id: m for m in session.exec(select(Member).where(Member.cluster_id == cluster.id))}
    owners = dict(
        session.exec(select(Account.id, Account.member_id).where(Account.cluster_id == cluster.id)).all()
    )

    def number(member_id: int | None) -> str:
        return members[member_id].number if member_id in members else ""

    def rows() -> Iterator[list]:
        for e in session.exec(
            select(Entry)
            .where(Entry.cluster_id == cluster.id)
            .order_by(Entry.id)
            .execution_options(yield_per=1000)
        ):
            owner = members.get(owners.get(e.account_id))
            yield [
                e.id,
                local(e.at, cluster),
                owner.number if owner else "",
                owner.name if owner else "",
                e.kind,
                "loan" if e.loan_id else "savings",
                e.amount_minor,
                e.currency,
                e.loan_id or "",
                e.reference,
                e.note,
                number(e.recorded_by_id),
                number(e.confirmed_by_id),
                e.reverses_id or "",
                e.request_id or "",
            ]

    return columns, rows()


def loans_rows(session: Session, cluster: Cluster) -> Rows:
    columns = [
        "id",
        "member_number",
        "member_name",
        "status",
        "principal_minor",
        "interest_minor",
        "outstanding_minor",
        "currency",
        "interest_bp_month",
        "method",
        "term_months",
        "requested_at",
        "decided_at",
        "disbursed_at",
        "repaid_at",
        "next_due",
        "next_amount_minor",
        "overdue_minor",
    ]
    today = local_date(utcnow(), cluster)

    def rows() -> Iterator[list]:
        for loan in session.exec(select(Loan).where(Loan.cluster_id == cluster.id).order_by(Loan.id)):
            member = session.get(Member, loan.member_id)
            pos = position(session, loan, today)
            yield [
                loan.id,
                member.number,
                member.name,
                loan.status,
                loan.principal_minor,
                loan.interest_minor,
                loan.outstanding_minor,
                loan.currency,
                loan.interest_bp,
                loan.method,
                loan.term_months,
                local(loan.requested_at, cluster),
                local(loan.decided_at, cluster),
                local(loan.disbursed_at, cluster),
                local(loan.repaid_at, cluster),
                pos.next_due.isoformat() if pos.next_due else "",
                pos.next_amount,
                pos.overdue,
            ]

    return columns, rows()


EXPORTS = {"ledger": ledger_rows, "loans": loans_rows}
