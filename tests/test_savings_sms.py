"""A SACCOS month through signed Twilio webhooks, bad input, contributions across a restart, random ops."""


from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from bot.cli import main as cli_main
from bot.scheduler import run_due
from storage import savings as store
from storage.clusters import Cluster, create_cluster
from storage.db import make_engine, session_scope
from storage.members import Member, create_member
from storage.savings import Account, Entry, Request, SavingsError
from tests.conftest import outbox

TREASURER, ASHA, BARAKA = "+255712000009", "+255712000001", "+255712000002"


def ledger_size(db) -> int:
    with session_scope(db) as s:
        return (
            s.exec(select(func.count()).select_from(Entry)).one()
            + s.exec(select(func.count()).select_from(Request)).one()
        )


def notices(db, phone) -> list[str]:
    return [m.text for m in outbox(db, phone)]


def test_a_saccos_month_by_sms(phone, db, cluster, add_member, settings, monkeypatch, capsys):
    add_member(TREASURER, admin_role="treasurer", name="Tumaini")
    asha = add_member(ASHA, name="Asha")
    add_member(BARAKA, name="Baraka")
    t, a, b = phone(TREASURER), phone(ASHA), phone(BARAKA)

    assert "Deposit of TSh50,000 noted" in a.last("SAVE 50,000 QK12AB")
    assert "CONFIRM 1" in notices(db, TREASURER)[-1]
    assert "Their savings: TSh50,000" in t.last("CONFIRM 1")
    assert "confirmed. Your savings: TSh50,000" in notices(db, ASHA)[-1]
    assert "Deposit of TSh5,000 noted" in b.last("akiba 5000/= MP77")
    assert "nothing posted" in t.last("DECLINE 2 no such payment")
    assert "no such payment" in notices(db, BARAKA)[-1]
    assert "Their savings: TSh80,000" in t.last(f"DEP {asha.number} TSh 30,000 CASH1")

    assert "TSh240,000: 3 times your savings of TSh80,000" in a.last("LOAN 300000 6")
    assert "Loan 1 asked: TSh200,000 for 4 months" in a.last("LOAN 200k 4 months")
    assert "LOANYES 1" in notices(db, TREASURER)[-1]
    assert "approved" in t.last("LOANYES 1")
    assert "paid out to" in t.last("PAYOUT 1")
    assert "You owe TSh208,000; first TSh52,000 due" in notices(db, ASHA)[-1]
    assert "Loan owed: TSh208,000; next TSh52,000 due" in a.last("BAL")

    assert "Repayment of TSh52,000 noted" in a.last("REPAY 52,000 MPR1")
    assert "Loan still owed: TSh156,000" in t.last("CONFIRM 3")
    assert "Loan owed: TSh156,000" in a.last("BAL")

    wrong = t.last(f"DEP {asha.number} 3000")
    entry_id = wrong.split(":")[0].split()[-1]
    assert "reversed by entry" in t.last(f"REVERSE {entry_id} typed twice")
    assert "already reversed" in t.last(f"REVERSE {entry_id}")
    assert "corrected entry" in notices(db, ASHA)[-1]

    statement = a.last("STMT")
    assert statement.startswith("Savings TSh80,000. Entries:") and "CORR -3,000" in statement
    assert "#1 " in statement and "LOAN" not in statement and "REPAY" not in statement  # the savings book only
    loan = a.last("STMT LOAN")
    assert loan.startswith("Loan 1, owed TSh156,000. Entries:") and "REPAY -52,000" in loan and "DEP" not in loan
    assert "no older entries" in a.last("STMT 2")
    assert "nothing more" in a.last("MORE")
    report = t.last("SACCOS")
    assert "SACCOS savings: TSh80,000" in report and "owed TSh156,000" in report

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli_main(["savings", "check"]) == 0
    assert "passed" in capsys.readouterr().out


def test_bad_input_gets_one_clear_reply_and_records_nothing(phone, db, cluster, add_member):
    add_member(TREASURER, admin_role="treasurer")
    add_member(ASHA)
    add_member("+255712000008", admin_role="facilitator")
    a, t, f = phone(ASHA), phone(TREASURER), phone("+255712000008")
    with session_scope(db) as s:
        store.set_rules(s, s.get(Cluster, cluster.id), ceiling_minor=100_000_000)
    cases = [
        (a, "SAVE", "Send SAVE and the amount"),
        (a, "SAVE 0", "more than zero"),
        (a, "SAVE -500", "more than zero"),
        (a, "SAVE five", "in figures"),
        (a, "SAVE 1,234.567", "Too many decimals"),
        (a, "SAVE 2,000,000", "the most one message"),
        (a, "REPAY 500", "no loan to repay"),
        (a, "LOAN 1000", "the amount and the months"),
        (a, "LOAN 1000 6", "The most you can borrow is TSh0"),
        (a, "CONFIRM 1", "Only a facilitator or"),
        (a, "DEP +255712000001 500", "Only the treasurer"),
        (f, "DEP +255712000001 500", "Only the treasurer"),
        (t, "CONFIRM", "request number"),
        (t, "CONFIRM 99", "no request 99"),
        (t, "WITHDRAW +255712000001 1000", "has only TSh0"),
        (t, "DEP 404 1000", "No member 404"),
        (t, "REVERSE 12", "no entry 12"),
        (t, "PAYOUT 3", "no loan 3"),
        (a, "LOANYES 1", "Only the treasurer"),
    ]
    for who, text, expected in cases:
        replies = who.send(text)
        assert len(replies) == 1 and expected in replies[0], (text, replies)
        assert len(replies[0]) <= 160
    assert ledger_size(db) == 0
    a.last("SAVE 1000 X1")
    assert "Only the treasurer" in f.last("CONFIRM 1")
    assert "already used" in a.last("SAVE 1000 x1")
    t.last("CONFIRM 1")
    assert "already confirmed" in t.last("CONFIRM 1")
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1


def test_treasurer_cannot_confirm_their_own_deposit(phone, db, cluster, add_member):
    add_member(TREASURER, admin_role="treasurer")
    add_member("+255712000008", admin_role="facilitator")
    t = phone(TREASURER)
    t.last("SAVE 1000")
    assert "CONFIRM 1" in notices(db, "+255712000008")[-1]
    assert "own money" in t.last("CONFIRM 1")
    assert "own money" in t.last("DEP +255712000009 1000")
    assert ledger_size(db) == 1  # the request only


def test_committee_members_vote_and_the_member_hears_only_the_outcome(phone, db, cluster, add_member):
    treasurer = add_member(TREASURER, admin_role="treasurer")
    asha = add_member(ASHA)
    voters = [add_member(f"+25571200003{i}") for i in range(3)]
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        for v in voters:
            store.set_committee(s, c, s.get(Member, v.id), True)
        store.set_rules(s, c, committee_k=2)
        store.record_deposit(s, c, s.get(Member, asha.id), 10_000_000, s.get(Member, treasurer.id), NOW)
    phone(ASHA).last("LOAN 100000 2")
    assert all("LOANYES 1" in notices(db, v.phone)[-1] for v in voters)
    assert "Only members of the loan committee" in phone(TREASURER).last("LOANYES 1")
    assert "1 of 2 needed" in phone(voters[0].phone).last("LOANYES 1")
    before = notices(db, ASHA)
    assert "approved" in phone(voters[1].phone).last("loanyes 1")
    after = notices(db, ASHA)[len(before) :]
    assert after == ["Your loan 1 of TSh100,000 is approved. The treasurer will pay it out."]
    assert "PAYOUT 1" in notices(db, TREASURER)[-1]


NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def test_contribution_reminders_and_fines_are_sent_once_across_a_restart(db, settings, cluster, add_member):
    add_member(TREASURER, admin_role="treasurer")
    asha, baraka = add_member(ASHA), add_member(BARAKA)
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        store.set_rules(
            s, c, contribution_minor=1_000_000, contribution_day=15, remind_days=2, fine_minor=50_000
        )
        store.record_deposit(
            s, c, s.get(Member, asha.id), 1_000_000, s.get(Member, 1), datetime(2025, 3, 5, 8, tzinfo=UTC)
        )
    early = datetime(2025, 3, 12, 6, tzinfo=UTC)  # before the reminder window
    assert run_due(db, settings, early)["savings.contributions"] == 0
    reminder_day = datetime(2025, 3, 13, 6, tzinfo=UTC)
    assert run_due(db, settings, reminder_day)["savings.contributions"] == 2  # Baraka, treasurer: Asha paid
    assert "due 15 Mar 2025" in notices(db, BARAKA)[-1] and notices(db, ASHA) == []
    restarted = make_engine(settings.database_url)
    try:
        assert run_due(restarted, settings, reminder_day + timedelta(hours=5))["savings.contributions"] == 0
        after_due = datetime(2025, 3, 16, 6, tzinfo=UTC)
        assert run_due(restarted, settings, after_due)["savings.contributions"] == 3  # 2 notices, 1 list
        assert run_due(restarted, settings, after_due + timedelta(hours=1))["savings.contributions"] == 0
    finally:
        restarted.dispose()
    fined = notices(db, BARAKA)[-1]
    assert "A fine of TSh500 was taken" in fined
    assert (
        notices(db, TREASURER)[-1] == f"2 missed the contribution due 15 Mar 2025: MOSHI-001, {baraka.number}"
    )
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        account = store.account_for(s, c, s.get(Member, baraka.id))
        assert account.balance_minor == -50_000
        fee = s.exec(select(Entry).where(Entry.kind == "fee", Entry.account_id == account.id)).one()
        store.reverse_entry(s, c, fee.id, s.get(Member, 1), after_due)
        assert store.account_for(s, c, s.get(Member, baraka.id)).balance_minor == 0


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["deposit", "withdraw", "fee", "reverse", "request", "confirm", "decline", "loan", "repay"]
        ),
        st.integers(0, 2),
        st.integers(1, 5_000_000),
    ),
    min_size=50,
    max_size=150,
)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_operations_keep_every_balance_equal_to_its_entries(db, ops):
    """Thousands of operations over the examples: the caches always equal the ledger sums."""
    with session_scope(db) as s:
        count = s.exec(select(func.count()).select_from(Cluster)).one()
        c = create_cluster(s, "Random", f"R{count}")
        officer = create_member(s, c, status="active", name="T")
        officer.admin_role = "treasurer"
        people = [create_member(s, c, status="active", name=f"M{i}").id for i in range(3)]
        cluster_id, officer_id = c.id, officer.id
    for op, who, amount in ops:
        with session_scope(db) as s:
            c, t, m = s.get(Cluster, cluster_id), s.get(Member, officer_id), s.get(Member, people[who])
            try:
                _apply(s, c, t, m, op, amount)
            except SavingsError:
                s.rollback()
    with session_scope(db) as s:
        c = s.get(Cluster, cluster_id)
        assert store.check(s, c) == []
        for account in s.exec(select(Account).where(Account.cluster_id == c.id)):
            total = s.exec(
                select(func.coalesce(func.sum(Entry.amount_minor), 0)).where(
                    Entry.account_id == account.id, col(Entry.loan_id).is_(None)
                )
            ).one()
            assert account.balance_minor == total


def _apply(s, c, t, m, op, amount):
    account = store.account_for(s, c, m)
    if op == "deposit":
        store.record_deposit(s, c, m, amount, t, NOW)
    elif op == "withdraw":
        store.record_withdrawal(s, c, m, amount, t, NOW)
    elif op == "fee":
        store.charge_fee(s, account, amount % 100_000 + 1, NOW, "fine")
    elif op == "reverse":
        entries = list(s.exec(select(Entry).where(Entry.cluster_id == c.id)))
        if entries:
            store.reverse_entry(s, c, entries[amount % len(entries)].id, t, NOW)
    elif op == "request":
        store.request_deposit(s, c, m, amount, NOW)
    elif op in ("confirm", "decline"):
        pending = store.pending_requests(s, c)
        if pending:
            target = pending[amount % len(pending)].id
            (store.confirm_request if op == "confirm" else store.decline_request)(s, c, target, t, NOW)
    elif op == "loan":
        loan = store.request_loan(s, c, m, amount, amount % 12 + 1, NOW)
        store.decide_loan(s, c, loan.id, t, True, NOW)
        store.disburse_loan(s, c, loan.id, t, NOW)
    elif op == "repay":
        loan = store.current_loan(s, account)
        if loan is not None and loan.status == "disbursed":
            request = store.request_repayment(s, c, m, min(amount, loan.outstanding_minor), NOW)
            store.confirm_request(s, c, request.id, t, NOW)


def test_a_payment_without_a_reference_is_worded_without_one(phone, db, cluster, add_member):
    """SAVE without a reference: the treasurer's notice and the member's decline have no "ref -"."""
    add_member(TREASURER, admin_role="treasurer")
    add_member(ASHA, language="sw")
    add_member(BARAKA, language="fr")
    t = phone(TREASURER)
    phone(ASHA).last("AKIBA 5000")
    phone(BARAKA).last("ÉPARGNE 6000")
    told = notices(db, TREASURER)
    assert told[0].startswith("Deposit 1 from ") and told[0].endswith(": TSh5,000. Send CONFIRM 1 or DECLINE 1.")
    assert "ref" not in told[1] and "Send CONFIRM 2 or DECLINE 2." in told[1]
    t.last("DECLINE 1")
    t.last("DECLINE 2 pas reçu")
    assert notices(db, ASHA)[-1].startswith("Malipo yako ya TSh 5,000 yamekataliwa. Tafadhali muulize")
    assert "refusé : pas recu." in notices(db, BARAKA)[-1] and "réf" not in notices(db, BARAKA)[-1]
    assert all(" -" not in text and ", ." not in text for text in told + notices(db, ASHA) + notices(db, BARAKA))
