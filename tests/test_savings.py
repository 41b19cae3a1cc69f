"""SACCOS storage rules: the ledger, requests, loans and their arithmetic, reconciliation, exports."""


import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import func, select

from bot.cli import main as cli_main
from storage import savings as store
from storage.clusters import Cluster
from storage.db import make_engine, session_scope
from storage.members import Member
from storage.models import export_registry as registry
from storage.savings import Account, Entry, SavingsError

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(db, cluster, add_member):
    treasurer = add_member("+255712000009", admin_role="treasurer", name="Tumaini")
    asha = add_member("+255712000001", name="Asha")
    baraka = add_member("+255712000002", name="Baraka")
    return treasurer, asha, baraka


def load(s, *members):
    return [s.get(Member, m.id) for m in members]


def cl(s, cluster) -> Cluster:
    return s.get(Cluster, cluster.id)


# ---------------------------------------------------------------- schedule arithmetic, by hand


def test_flat_schedule_matches_hand_computation():
    # 100,000.00 at 2 % a month flat for 3 months: interest 6,000; 33,333 + 33,333 + 33,334 principal.
    rows = store.schedule(10_000_000, 200, 3, "flat", step=100)
    assert rows == [(3_333_300, 200_000), (3_333_300, 200_000), (3_333_400, 200_000)]
    # 250,000 at 1.5 % for 4 months, whole units: interest 15,000 = 3,750 a month; principal 62,500 each.
    assert store.schedule(250_000, 150, 4, "flat") == [(62_500, 3_750)] * 4
    # 100,000 at 1 % for 3 months: interest 3,000; the last instalment absorbs the remainder of principal.
    assert store.schedule(100_000, 100, 3, "flat") == [(33_333, 1_000), (33_333, 1_000), (33_334, 1_000)]
    # 10,000 at 1 % for 7 months flat: interest 700 = 100 each; principal 1,428 x 6 + 1,432.
    rows = store.schedule(10_000, 100, 7, "flat")
    assert [p for p, _ in rows] == [1_428] * 6 + [1_432] and {i for _, i in rows} == {100}


def test_declining_schedule_matches_hand_computation():
    # 100,000 at 2 % a month on the balance: 2,000 on 100,000; 1,333.34 -> 1,333 on 66,667;
    # 666.68 -> 667 on 33,334.
    assert store.schedule(100_000, 200, 3, "declining") == [(33_333, 2_000), (33_333, 1_333), (33_334, 667)]
    # 120,000 at 1.25 % for 4: 1,500 on 120,000; 1,125 on 90,000; 750 on 60,000; 375 on 30,000.
    assert store.schedule(120_000, 125, 4, "declining") == [
        (30_000, 1_500),
        (30_000, 1_125),
        (30_000, 750),
        (30_000, 375),
    ]
    # In cents, rounded to whole shillings: 0.5 rounds up (50,000 x 1 % = 500; 25,050 x 1 % = 250.5 -> 251).
    rows = store.schedule(7_505_000, 100, 3, "declining", step=100)
    assert rows == [(2_501_600, 75_100), (2_501_600, 50_000), (2_501_800, 25_000)]
    assert sum(p for p, _ in rows) == 7_505_000


def test_schedule_always_sums_to_the_principal():
    for principal in (1, 999, 100_001, 7_777_777):
        for months in (1, 5, 12, 36):
            for method in store.METHODS:
                rows = store.schedule(principal, 175, months, method, step=1)
                assert sum(p for p, _ in rows) == principal and len(rows) == months


def test_due_dates_hold_to_the_end_of_short_months():
    assert store.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert store.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert store.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert store.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)


# ---------------------------------------------------------------- deposits, confirmations, references


def test_confirmed_request_posts_once_and_updates_the_cached_balance(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        req = store.request_deposit(s, cl(s, cluster), a, 500_000, NOW, "qk 12ab")
        assert req.reference == "QK12AB"
    with session_scope(db) as s:
        (t,) = load(s, treasurer)
        _, entry = store.confirm_request(s, cl(s, cluster), req.id, t, NOW)
        assert (entry.kind, entry.amount_minor, entry.confirmed_by_id, entry.recorded_by_id) == (
            "deposit",
            500_000,
            treasurer.id,
            asha.id,
        )
    with session_scope(db) as s:
        (t,) = load(s, treasurer)
        with pytest.raises(SavingsError) as exc:
            store.confirm_request(s, cl(s, cluster), req.id, t, NOW)
        assert exc.value.code == "already"
    with session_scope(db) as s:
        account = s.exec(select(Account).where(Account.member_id == asha.id)).one()
        assert account.balance_minor == 500_000
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1
        assert store.check(s) == []


def test_only_the_treasurer_confirms_and_never_their_own(db, cluster, people, add_member):
    treasurer, asha, baraka = people
    facilitator = add_member("+255712000008", admin_role="facilitator")
    with session_scope(db) as s:
        t, a, b, f = load(s, treasurer, asha, baraka, facilitator)
        c = cl(s, cluster)
        asha_req = store.request_deposit(s, c, a, 1_000, NOW)
        own_req = store.request_deposit(s, c, t, 2_000, NOW)
        for actor, req, code in (
            (b, asha_req, "not_treasurer"),
            (f, asha_req, "not_treasurer"),
            (a, asha_req, "own"),
            (t, own_req, "own"),
        ):
            with pytest.raises(SavingsError) as exc:
                store.confirm_request(s, c, req.id, actor, NOW)
            assert exc.value.code == code
        with pytest.raises(SavingsError) as exc:
            store.record_deposit(s, c, t, 5_000, t, NOW)
        assert exc.value.code == "own"
        store.confirm_request(s, c, own_req.id, f, NOW)  # the treasurer's own goes to a facilitator
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1


def test_a_reference_is_used_once_per_cluster_and_a_declined_one_is_freed(db, cluster, people):
    treasurer, asha, baraka = people
    with session_scope(db) as s:
        t, a, b = load(s, treasurer, asha, baraka)
        c = cl(s, cluster)
        first = store.request_deposit(s, c, a, 1_000, NOW, "MP123")
        for attempt in (
            lambda: store.request_deposit(s, c, b, 1_000, NOW, "mp123"),
            lambda: store.record_deposit(s, c, b, 1_000, t, NOW, "MP123"),
        ):
            with pytest.raises(SavingsError) as exc:
                attempt()
            assert exc.value.code == "reference_used"
        assert len(store.pending_requests(s, c)) == 1
        store.decline_request(s, c, first.id, t, NOW, "wrong amount")
        again = store.request_deposit(s, c, a, 10_000, NOW, "MP123")
        store.confirm_request(s, c, again.id, t, NOW)
        assert store.account_for(s, c, a).balance_minor == 10_000


def test_concurrent_confirmations_post_the_deposit_once(db, settings, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        req = store.request_deposit(s, cl(s, cluster), s.get(Member, asha.id), 70_000, NOW, "RACE1")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def confirm():
        engine = make_engine(settings.database_url)
        barrier.wait()
        try:
            with session_scope(engine) as s:
                store.confirm_request(s, cl(s, cluster), req.id, s.get(Member, treasurer.id), NOW)
            outcomes.append("posted")
        except SavingsError as exc:
            outcomes.append(exc.code)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=confirm) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already"] * 7 + ["posted"]
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1
        assert store.account_for(s, cl(s, cluster), s.get(Member, asha.id)).balance_minor == 70_000


def test_the_ledger_refuses_update_and_delete(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        entry = store.record_deposit(s, cl(s, cluster), a, 1_000, t, NOW)
    for statement in (
        f"UPDATE savings_entries SET amount_minor = 5 WHERE id = {entry.id}",
        f"DELETE FROM savings_entries WHERE id = {entry.id}",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with session_scope(db) as s:
                s.exec(text(statement))
    with session_scope(db) as s:
        assert s.get(Entry, entry.id).amount_minor == 1_000


def test_withdrawal_beyond_the_balance_is_refused(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        c = cl(s, cluster)
        store.record_deposit(s, c, a, 10_000, t, NOW)
        with pytest.raises(SavingsError) as exc:
            store.record_withdrawal(s, c, a, 10_001, t, NOW)
        assert exc.value.code == "insufficient" and exc.value.detail["balance"] == 10_000
        store.record_withdrawal(s, c, a, 10_000, t, NOW)
        assert store.account_for(s, c, a).balance_minor == 0


def test_amounts_above_the_ceiling_or_not_positive_are_refused(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        c = cl(s, cluster)
        store.set_rules(s, c, ceiling_minor=1_000_000)
        for amount, code in ((1_000_001, "too_large"), (0, "amount"), (-5, "amount")):
            with pytest.raises(SavingsError) as exc:
                store.record_deposit(s, c, a, amount, t, NOW)
            assert exc.value.code == code
        assert s.exec(select(func.count()).select_from(Entry)).one() == 0


def test_amounts_beyond_32_bits_are_kept_to_the_shilling_on_every_backend(db, cluster, people):
    """PostgreSQL's INTEGER stops at 2,147,483,647 minor units (TSh 21,474,836.47): money is BIGINT."""
    treasurer, asha, _ = people
    big = 90_000_000 * 100  # TSh 90,000,000, under the default ceiling of a message
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        c = cl(s, cluster)
        store.set_rules(s, c, ceiling_minor=200_000_000 * 100)
        store.record_deposit(s, c, a, big, t, NOW, reference="BIG1")
        store.record_deposit(s, c, a, big, t, NOW, reference="BIG2")
    with session_scope(db) as s:
        account = store.account_for(s, cl(s, cluster), load(s, asha)[0])
        assert account.balance_minor == 2 * big
        assert s.exec(select(func.sum(Entry.amount_minor)).where(Entry.account_id == account.id)).one() == 2 * big
        assert store.rules_for(s, cl(s, cluster)).ceiling_minor == 200_000_000 * 100


# ---------------------------------------------------------------- reversals


def test_reversal_mirrors_the_entry_once_and_cannot_itself_be_reversed(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        c = cl(s, cluster)
        entry = store.record_deposit(s, c, a, 40_000, t, NOW)
        reversal = store.reverse_entry(s, c, entry.id, t, NOW, "typo")
        assert (reversal.kind, reversal.amount_minor, reversal.reverses_id) == ("reversal", -40_000, entry.id)
        for target, code in (
            (entry.id, "already_reversed"),
            (reversal.id, "not_reversible"),
            (99_999, "no_entry"),
        ):
            with pytest.raises(SavingsError) as exc:
                store.reverse_entry(s, c, target, t, NOW)
            assert exc.value.code == code
        assert store.account_for(s, c, a).balance_minor == 0
        assert store.check(s, c) == []


def test_waiving_a_fine_restores_the_savings(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        t, a = load(s, treasurer, asha)
        c = cl(s, cluster)
        account = store.account_for(s, c, a)
        fee = store.charge_fee(s, account, 2_000, NOW, "missed contribution")
        assert account.balance_minor == -2_000
        store.reverse_entry(s, c, fee.id, t, NOW)
        assert store.account_for(s, c, a).balance_minor == 0


# ---------------------------------------------------------------- loans


def _saver(s, cluster, treasurer, member, amount):
    store.record_deposit(
        s, cl(s, cluster), s.get(Member, member.id), amount, s.get(Member, treasurer.id), NOW
    )


def test_loan_above_the_multiple_of_savings_is_refused_with_the_rule(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        _saver(s, cluster, treasurer, asha, 100_000)
        c, (a,) = cl(s, cluster), load(s, asha)
        with pytest.raises(SavingsError) as exc:
            store.request_loan(s, c, a, 300_001, 6, NOW)
        assert exc.value.code == "over_limit"
        assert exc.value.detail == {"limit": 300_000, "multiple": 3, "savings": 100_000}
        with pytest.raises(SavingsError) as exc:
            store.request_loan(s, c, a, 100_000, 13, NOW)
        assert exc.value.code == "term"
        loan = store.request_loan(s, c, a, 300_000, 6, NOW)
        with pytest.raises(SavingsError) as exc:
            store.request_loan(s, c, a, 1_000, 1, NOW)
        assert exc.value.code == "open_loan" and exc.value.detail["id"] == loan.id


def test_loan_life_disbursement_schedule_repayments_and_position(db, cluster, people):
    """TZS counts cents: TSh 100,000 = 10,000,000 minor units; the schedule is in whole shillings."""
    treasurer, asha, _ = people
    with session_scope(db) as s:
        _saver(s, cluster, treasurer, asha, 10_000_000)
        c, (t, a) = cl(s, cluster), load(s, treasurer, asha)
        store.set_rules(s, c, interest_bp=200, interest_method="declining")
        loan = store.request_loan(s, c, a, 10_000_000, 3, NOW)
        loan, yes = store.decide_loan(s, c, loan.id, t, True, NOW)
        assert (loan.status, yes) == ("approved", 1)
        store.disburse_loan(s, c, loan.id, t, NOW)
        assert (loan.status, loan.interest_minor, loan.outstanding_minor) == (
            "disbursed",
            400_000,
            10_400_000,
        )
        pos = store.position(s, loan, date(2025, 3, 10))
        assert (pos.next_due, pos.next_amount, pos.overdue) == (date(2025, 4, 10), 3_533_300, 0)
        late = store.position(s, loan, date(2025, 5, 11))
        assert (late.overdue, late.overdue_since, late.next_due) == (
            3_533_300 + 3_466_600,
            date(2025, 4, 10),
            date(2025, 6, 10),
        )
        req = store.request_repayment(s, c, a, 4_000_000, NOW, "R1")
        store.confirm_request(s, c, req.id, t, NOW)
        pos = store.position(s, loan, date(2025, 4, 11))
        assert (pos.outstanding, pos.overdue, pos.next_amount, pos.next_due) == (
            6_400_000,
            0,
            2_999_900,
            date(2025, 5, 10),
        )
        with pytest.raises(SavingsError) as exc:
            store.request_repayment(s, c, a, 6_400_001, NOW)
        assert exc.value.code == "too_much"
        req = store.request_repayment(s, c, a, 6_400_000, NOW)
        store.confirm_request(s, c, req.id, t, NOW)
        assert loan.status == "repaid" and loan.outstanding_minor == 0
        assert store.check(s, c) == []


def test_committee_k_of_n_decides_and_a_refusal_settles_early(db, cluster, people, add_member):
    treasurer, asha, baraka = people
    members = [add_member(f"+25571200002{i}", name=f"Committee {i}") for i in range(3)]
    with session_scope(db) as s:
        c = cl(s, cluster)
        _saver(s, cluster, treasurer, asha, 100_000)
        for m in members:
            store.set_committee(s, c, s.get(Member, m.id), True)
        store.set_rules(s, c, committee_k=2)
        first = store.request_loan(s, c, s.get(Member, asha.id), 50_000, 2, NOW)
    with session_scope(db) as s:
        c = cl(s, cluster)
        with pytest.raises(SavingsError) as exc:
            store.decide_loan(s, c, first.id, s.get(Member, treasurer.id), True, NOW)
        assert exc.value.code == "not_decider" and exc.value.detail["committee"]
        loan, yes = store.decide_loan(s, c, first.id, s.get(Member, members[0].id), True, NOW)
        assert (loan.status, yes) == ("requested", 1)
        with pytest.raises(SavingsError) as exc:
            store.decide_loan(s, c, first.id, s.get(Member, members[0].id), True, NOW)
        assert exc.value.code == "voted"
        loan, yes = store.decide_loan(s, c, first.id, s.get(Member, members[1].id), True, NOW)
        assert (loan.status, yes) == ("approved", 2)
        with pytest.raises(SavingsError) as exc:
            store.decide_loan(s, c, first.id, s.get(Member, members[2].id), False, NOW)
        assert exc.value.code == "decided"
    with session_scope(db) as s:
        c = cl(s, cluster)
        _saver(s, cluster, treasurer, baraka, 100_000)
        second = store.request_loan(s, c, s.get(Member, baraka.id), 50_000, 2, NOW)
        store.decide_loan(s, c, second.id, s.get(Member, members[0].id), False, NOW)
        loan, _ = store.decide_loan(s, c, second.id, s.get(Member, members[1].id), False, NOW, "too soon")
        assert (loan.status, loan.reason) == ("refused", "too soon")


# ---------------------------------------------------------------- year end


def test_dividend_is_proportional_to_the_day_weighted_average_balance(db, cluster, people):
    treasurer, asha, baraka = people
    with session_scope(db) as s:
        c, (t, a, b) = cl(s, cluster), load(s, treasurer, asha, baraka)
        # Asha holds 365,000 all year; Baraka 730,000 from 2 July (local), i.e. for 183 of 365 days.
        store.record_deposit(s, c, a, 36_500_000, t, datetime(2024, 12, 31, 12, tzinfo=UTC))
        store.record_deposit(s, c, b, 73_000_000, t, datetime(2025, 7, 2, 6, tzinfo=UTC))
        shares = {d.member.id: d for d in store.dividends(s, c, 2025, 1_000)}
        assert shares[asha.id].average == 36_500_000 and shares[asha.id].amount == 3_650_000
        assert shares[baraka.id].average == 73_000_000 * 183 // 365
        assert shares[baraka.id].amount == 3_660_000  # 10 % of 366,000 = 36,600 whole shillings
        posted = store.post_dividends(s, c, 2025, 1_000, datetime(2026, 1, 5, tzinfo=UTC))
        assert len(posted) == 2
        with pytest.raises(SavingsError):
            store.post_dividends(s, c, 2025, 1_000, datetime(2026, 1, 5, tzinfo=UTC))
        assert store.account_for(s, c, a).balance_minor == 36_500_000 + 3_650_000
        assert store.check(s, c) == []


def test_dividend_cli_previews_then_posts(db, settings, cluster, people, monkeypatch, capsys):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        store.record_deposit(
            s,
            cl(s, cluster),
            s.get(Member, asha.id),
            10_000_000,
            s.get(Member, treasurer.id),
            datetime(2024, 6, 1, tzinfo=UTC),
        )
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli_main(["savings", "dividend", "--rate", "5", "--year", "2025"]) == 0
    assert "dividend 500000" in capsys.readouterr().out
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Entry)).one() == 1
    assert cli_main(["savings", "dividend", "--rate", "5", "--year", "2025", "--post"]) == 0
    assert cli_main(["savings", "dividend", "--rate", "5", "--year", "2025", "--post"]) == 2
    with session_scope(db) as s:
        assert s.exec(select(func.count()).select_from(Entry)).one() == 2


# ---------------------------------------------------------------- reconciliation and exports


def test_check_passes_then_fails_on_a_tampered_cache(db, settings, cluster, people, monkeypatch, capsys):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        store.record_deposit(
            s, cl(s, cluster), s.get(Member, asha.id), 5_000, s.get(Member, treasurer.id), NOW
        )
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert cli_main(["savings", "check"]) == 0
    assert "passed" in capsys.readouterr().out
    with session_scope(db) as s:
        s.exec(text("UPDATE savings_accounts SET balance_minor = balance_minor + 1"))
    with pytest.raises(SystemExit) as exc:
        cli_main(["savings", "check"])
    assert exc.value.code == 1
    assert "cached balance 5001 != ledger sum 5000" in capsys.readouterr().out


def test_exports_ledger_and_loans(db, cluster, people):
    treasurer, asha, _ = people
    with session_scope(db) as s:
        c, (t, a) = cl(s, cluster), load(s, treasurer, asha)
        entry = store.record_deposit(s, c, a, 90_000, t, NOW, "REF9")
        store.reverse_entry(s, c, entry.id, t, NOW)
        store.record_deposit(s, c, a, 90_000, t, NOW)
        loan = store.request_loan(s, c, a, 150_000, 3, NOW)
        store.decide_loan(s, c, loan.id, t, True, NOW)
        store.disburse_loan(s, c, loan.id, t, NOW)
    with session_scope(db) as s:
        columns, rows = registry()["ledger"](s, cl(s, cluster))
        rows = [dict(zip(columns, r, strict=True)) for r in rows]
        assert [r["kind"] for r in rows] == [
            "deposit",
            "reversal",
            "deposit",
            "loan_disbursement",
            "interest",
        ]
        assert rows[0]["reference"] == "REF9" and rows[1]["reverses_id"] == rows[0]["id"]
        assert rows[0]["member_number"] == asha.number and rows[0]["confirmed_by"] == treasurer.number
        assert rows[3]["book"] == "loan" and rows[0]["at"].startswith("2025-03-10T12:00:00+03:00")
        columns, rows = registry()["loans"](s, cl(s, cluster))
        (row,) = [dict(zip(columns, r, strict=True)) for r in rows]
        assert (row["status"], row["principal_minor"], row["interest_minor"], row["outstanding_minor"]) == (
            "disbursed",
            150_000,
            4_500,
            154_500,
        )
        assert {"next_due", "next_amount_minor", "overdue_minor"} <= set(row)
