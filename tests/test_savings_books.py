"""The SACCOS books as members and officers read them (issue 14 items 3 and 12), in en/sw/fr/am, SMS and Telegram.

Rules under test:
- a reversal never takes savings below zero (a deposit whose money was withdrawn since): it is refused with
  what the member holds and what to do first, nothing is posted; `clusterbot savings check` flags every
  negative savings balance and fails;
- STMT shows the savings book only; `STMT LOAN` (each language's loan keyword) shows the loan's book, headed
  as the loan's: a loan paid out or repaid never reads as savings;
- a page past the last says there are no older entries, not "no entries yet";
- one numbering for members: the ledger's (# in STMT, what REVERSE takes); a member's SAVE/REPAY reply and
  notices carry no request number, and the treasurer's CONFIRM says which entry the request became;
- the treasurer's own deposit or repayment is answered with who confirms it: a facilitator, who is told.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot import i18n, router, sms
from storage import savings as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member
from storage.savings import Entry, Request
from tests.conftest import one_reply, outbox, say, speaker

LANGS = ("en", "sw", "fr", "am")
CHANNELS = ("sms", "telegram")
TREASURER, MEMBER, FACILITATOR = "+255712000009", "+255712000001", "+255712000008"
TZS = 100
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def kw(command: str, lang: str) -> str:
    return router.keyword(command, lang)






def shown(channel: str, text: str) -> str:
    return sms.outgoing(text) if channel == "sms" else text


def words(lang: str, msgid: str) -> list[str]:
    """The words of a message's translation between its placeholders."""
    text = i18n.gettext_for(lang, msgid)
    return [p.strip(" .,:;()") for p in re.split(r"\{\w+\}", text) if p.strip(" .,:;()")]


def says(reply: str, lang: str, msgid: str) -> bool:
    return all(piece in reply or sms.outgoing(piece) in reply for piece in words(lang, msgid))


def entries(db) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(Entry)).one()


# ---------------------------------------------------------------- item 3: a reversal never makes savings negative

NEGATIVE = "Entry {id} cannot be reversed: {number} has only {balance} in savings. Record what they pay back with DEP first."


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_reversing_a_deposit_already_withdrawn_is_refused_until_it_is_paid_back(db, settings, cluster, add_member,
                                                                                lang, channel):
    member = add_member(MEMBER, name="Asha")
    _officer, address = speaker(db, add_member, TREASURER, lang, channel, admin_role="treasurer")
    dep, wdr, rev = kw("DEP", lang), kw("WITHDRAW", lang), kw("REVERSE", lang)
    one_reply(db, settings, address, channel, f"{dep} {member.number} 20000 OM1")
    one_reply(db, settings, address, channel, f"{wdr} {member.number} 20000 W1")
    reply = one_reply(db, settings, address, channel, f"{rev} 1 typed twice")
    assert reply == shown(channel, i18n.translate(lang, NEGATIVE, region="TZ", id=1, number=member.number,
                                                  balance=i18n.Money(0, "TZS")))
    assert entries(db) == 2
    with session_scope(db) as s:
        assert store.account_for(s, s.get(Cluster, cluster.id), s.get(Member, member.id)).balance_minor == 0
    one_reply(db, settings, address, channel, f"{dep} {member.number} 20000 PAIDBACK")
    assert "1" in one_reply(db, settings, address, channel, f"{rev} 1 typed twice")
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        assert store.account_for(s, c, s.get(Member, member.id)).balance_minor == 0
        assert store.check(s, c) == [] and store.negative_balances(s, c) == []


def test_a_reversal_that_lowers_savings_below_zero_is_refused_for_every_kind(db, cluster, add_member):
    """A dividend (interest on savings) reversed after it was withdrawn: the same rule, in storage."""
    member, officer = add_member(MEMBER), add_member(TREASURER, admin_role="treasurer")
    with session_scope(db) as s:
        c, m, t = s.get(Cluster, cluster.id), s.get(Member, member.id), s.get(Member, officer.id)
        store.record_deposit(s, c, m, 10_000 * TZS, t, NOW)
        dividend = store.post_dividends(s, c, 2025, 1_000, NOW + timedelta(days=300))[0][1]
        store.record_withdrawal(s, c, m, store.account_for(s, c, m).balance_minor, t, NOW + timedelta(days=301))
        with pytest.raises(store.SavingsError) as exc:
            store.reverse_entry(s, c, dividend.id, t, NOW + timedelta(days=302))
        assert (exc.value.code, exc.value.detail["balance"]) == ("negative", 0)
        withdrawal = s.exec(select(Entry).where(Entry.kind == "withdrawal")).one()
        store.reverse_entry(s, c, withdrawal.id, t, NOW + timedelta(days=302))  # raising savings is always allowed


def test_savings_check_flags_every_negative_balance(db, cluster, add_member, cli_run, capsysbinary):
    member, officer = add_member(MEMBER), add_member(TREASURER, admin_role="treasurer")
    with session_scope(db) as s:
        c, m, t = s.get(Cluster, cluster.id), s.get(Member, member.id), s.get(Member, officer.id)
        store.record_deposit(s, c, m, 1_000 * TZS, t, NOW)
    assert cli_run("savings", "check")[0] == 0
    with session_scope(db) as s:
        c, m = s.get(Cluster, cluster.id), s.get(Member, member.id)
        store.charge_fee(s, store.account_for(s, c, m), 1_500 * TZS, NOW, "missed contribution")  # more than saved
        assert store.check(s, c) == []  # the ledger itself is consistent: the flag is of its own kind
    with pytest.raises(SystemExit) as exc:
        cli_run("savings", "check")
    out = capsysbinary.readouterr().out.decode()
    assert exc.value.code == 1 and f"{member.number}: savings -50000 TZS" in out and "FAILED" in out


# ---------------------------------------------------------------- item 12: the two books apart


@pytest.fixture
def borrower(db, cluster, add_member):
    """A member with two deposits, a withdrawal, a loan paid out and one repayment (entries 1-3 savings,
    4-5 the loan's disbursement and interest, 6 the repayment)."""

    def make(lang: str, channel: str):
        officer = add_member(TREASURER, admin_role="treasurer")
        member, address = speaker(db, add_member, MEMBER, lang, channel)
        with session_scope(db) as s:
            c, m, t = s.get(Cluster, cluster.id), s.get(Member, member.id), s.get(Member, officer.id)
            store.record_deposit(s, c, m, 50_000 * TZS, t, NOW)
            store.record_deposit(s, c, m, 30_000 * TZS, t, NOW)
            store.record_withdrawal(s, c, m, 5_000 * TZS, t, NOW)
            loan = store.request_loan(s, c, m, 100_000 * TZS, 6, NOW)
            store.decide_loan(s, c, loan.id, t, True, NOW)
            store.disburse_loan(s, c, loan.id, t, NOW)
            request = store.request_repayment(s, c, m, 17_666 * TZS, NOW, "MP1")
            store.confirm_request(s, c, request.id, t, NOW)
            return member, address, loan.id

    return make


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_stmt_shows_the_savings_book_and_stmt_loan_the_loans_book(db, settings, borrower, lang, channel):
    _member, address, loan_id = borrower(lang, channel)
    labels = {kind: i18n.gettext_for(lang, label) for kind, label in
              (("LOAN", "LOAN"), ("INT", "INT"), ("REPAY", "REPAY"), ("DEP", "DEP"), ("WDR", "WDR"))}
    savings = one_reply(db, settings, address, channel, kw("STMT", lang))
    assert says(savings, lang, "Savings {balance}. Entries:")
    assert [line.split()[0] for line in savings.splitlines()[1:]] == ["#3", "#2", "#1"], savings
    assert f" {labels['LOAN']} " not in savings and f" {labels['REPAY']} " not in savings
    loan = one_reply(db, settings, address, channel, f"{kw('STMT', lang)} {kw('LOAN', lang)}")
    assert says(loan, lang, "Loan {id}, owed {owed}. Entries:") and str(loan_id) in loan.splitlines()[0]
    assert [line.split()[0] for line in loan.splitlines()[1:]] == ["#6", "#5", "#4"], loan
    assert f" {labels['DEP']} " not in loan and f" {labels['WDR']} " not in loan
    owed = i18n.format_money((100_000 + 6_000 - 17_666) * TZS, "TZS", lang, "TZ")
    assert shown(channel, owed) in loan  # the head says it is the loan's book, and what is owed on it


@pytest.mark.parametrize("lang", LANGS)
def test_stmt_loan_without_a_loan_says_so(db, settings, cluster, add_member, lang):
    add_member(MEMBER, language=lang)
    reply = one_reply(db, settings, MEMBER, "sms", f"{kw('STMT', lang)} {kw('LOAN', lang)}")
    assert reply == sms.outgoing(i18n.translate(lang, "You have no loan paid out. Send {keyword} for your savings.",
                                                keyword=kw("STMT", lang)))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_page_past_the_last_says_there_are_no_older_entries(db, settings, borrower, lang, channel):
    _member, address, _loan = borrower(lang, channel)
    older = "There are no older entries. Send {keyword} for the latest."
    reply = one_reply(db, settings, address, channel, f"{kw('STMT', lang)} 3")
    assert reply == shown(channel, i18n.translate(lang, older, keyword=kw("STMT", lang)))
    stmt_loan = f"{kw('STMT', lang)} {kw('LOAN', lang)}"
    reply = one_reply(db, settings, address, channel, f"{stmt_loan} 2")
    assert reply == shown(channel, i18n.translate(lang, older, keyword=stmt_loan))


@pytest.mark.parametrize("lang", LANGS)
def test_a_member_with_nothing_yet_is_told_no_entries_yet(db, settings, cluster, add_member, lang):
    add_member(MEMBER, language=lang)
    reply = one_reply(db, settings, MEMBER, "sms", kw("STMT", lang))
    assert reply == sms.outgoing(i18n.translate(lang, "No entries yet. Your savings: {balance}.", region="TZ",
                                                balance=i18n.Money(0, "TZS")))


def numbers(text: str) -> set[str]:
    return set(re.findall(r"(?<![\d,.])\d{1,3}(?![\d,.])", text))


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_members_see_one_numbering_the_ledgers(db, settings, cluster, add_member, lang, channel):
    """Requests 1-3 wait while entries 1-6 are another member's: the member's request 4 becomes entry 7."""
    officer = add_member(TREASURER, admin_role="treasurer", language=lang)
    member, address = speaker(db, add_member, MEMBER, lang, channel)
    other = add_member("+255712000002")
    with session_scope(db) as s:
        c, o, t = s.get(Cluster, cluster.id), s.get(Member, other.id), s.get(Member, officer.id)
        for i in range(3):
            store.request_deposit(s, c, o, 1_000 * TZS, NOW, f"O{i}")
        for _i in range(6):
            store.record_deposit(s, c, o, 1_000 * TZS, t, NOW)
    noted = one_reply(db, settings, address, channel, f"{kw('SAVE', lang)} 20000 OM55")
    with session_scope(db) as s:
        request = s.exec(select(Request).order_by(Request.id.desc())).first()
    assert request.id == 4 and "4" not in numbers(noted), noted  # no request number shown to the member
    confirmed = one_reply(db, settings, TREASURER, "sms", f"{kw('CONFIRM', lang)} {request.id}")
    with session_scope(db) as s:
        entry = s.exec(select(Entry).where(Entry.request_id == request.id)).one()
    assert entry.id == 7 and {"4", "7"} <= numbers(confirmed), confirmed  # the treasurer: request 4 is entry 7
    statement = one_reply(db, settings, address, channel, kw("STMT", lang))
    assert statement.splitlines()[1].startswith("#7 "), statement  # the member finds it as #7, the only number
    notice = [m.text for m in outbox(db, MEMBER if channel == "sms" else address)][-1]
    assert "4" not in numbers(notice), notice
    one_reply(db, settings, address, channel, f"{kw('SAVE', lang)} 3000 MP9")
    one_reply(db, settings, TREASURER, "sms", f"{kw('DECLINE', lang)} 5")
    declined = [m.text for m in outbox(db, MEMBER if channel == "sms" else address)][-1]
    assert "5" not in numbers(declined) and "MP9" in declined, declined


OWN_NOTED = {"SAVE": "Deposit of {amount} noted. A facilitator will confirm it and tell you.",
             "REPAY": "Repayment of {amount} noted. A facilitator will confirm it and tell you."}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_the_treasurers_own_money_is_confirmed_by_a_facilitator_and_says_so(db, settings, cluster, add_member, lang,
                                                                           channel):
    treasurer, address = speaker(db, add_member, TREASURER, lang, channel, admin_role="treasurer")
    add_member(FACILITATOR, admin_role="facilitator", language=lang)
    member_noted = "Deposit of {amount} noted. The treasurer will confirm it and tell you."
    reply = one_reply(db, settings, address, channel, f"{kw('SAVE', lang)} 20000 T1")
    amount = i18n.Money(20_000 * TZS, "TZS")
    assert reply == shown(channel, i18n.translate(lang, OWN_NOTED["SAVE"], region="TZ", amount=amount))
    assert reply != shown(channel, i18n.translate(lang, member_noted, region="TZ", amount=amount))
    assert f"{kw('CONFIRM', lang)} 1" in [m.text for m in outbox(db, FACILITATOR)][-1]
    assert not [m for m in outbox(db, address) if "CONFIRM" in m.text]
    with session_scope(db) as s:
        c, t, f = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.exec(
            select(Member).where(Member.phone == FACILITATOR)).one()
        store.record_deposit(s, c, t, 100_000 * TZS, f, NOW)
        loan = store.request_loan(s, c, t, 10_000 * TZS, 2, NOW)
        loan.status = "approved"  # the treasurer does not decide their own loan; a committee would
        s.add(loan)
        store.disburse_loan(s, c, loan.id, f, NOW)
    reply = one_reply(db, settings, address, channel, f"{kw('REPAY', lang)} 1000 T2")
    assert reply == shown(channel, i18n.translate(lang, OWN_NOTED["REPAY"], region="TZ",
                                                  amount=i18n.Money(1_000 * TZS, "TZS")))


def test_a_members_deposit_still_says_the_treasurer_confirms(db, settings, cluster, add_member):
    add_member(TREASURER, admin_role="treasurer")
    add_member(MEMBER)
    assert say(db, settings, MEMBER, "SAVE 5000") == ["Deposit of TSh5,000 noted. The treasurer will confirm it "
                                                      "and tell you."]
    assert "CONFIRM 1" in [m.text for m in outbox(db, TREASURER)][-1]

