"""Each KPI against a hand-computed fixture: 10 participants, a facilitator and a pending member.

Participants P1..P10 (P = index): committed P1..P8 (marked by the facilitator); roles of the committed: 6 firms, 1 academia,
1 government; women P1..P6. Shares below are worked out by hand in each test's comment.
"""


import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from storage import kpis
from storage.clusters import Cluster
from storage.db import session_scope
from storage.events import CheckIn, Event
from storage.members import Member
from storage.messages import InboundMessage
from storage.polls import Poll, PollQuestion, PollRecipient, PollResponse, PollRound
from storage.purchases import Pledge, Purchase
from storage.savings import Account, Loan
from storage.visits import Visit
from tests.conftest import say

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
ROLES = ["firm"] * 6 + ["academia", "government", "firm", "support"]


@pytest.fixture
def people(db, cluster, add_member):
    fac = add_member("+255712000099", admin_role="facilitator", role="support")
    add_member("+255712000098", status="pending")
    found = []
    for i in range(10):
        m = add_member(f"+2557120000{i + 10}", name=f"P{i + 1}", role=ROLES[i],
                       gender="female" if i < 6 else "male")
        found.append(m)
    with session_scope(db) as s:
        for m in found[:8]:
            row = s.get(Member, m.id)
            row.committed_at = NOW - timedelta(days=30)  # the facilitator's mark
            s.add(row)
    return fac, found


def _compute(db, cluster):
    with session_scope(db) as s:
        return kpis.by_key(kpis.compute(s, s.get(Cluster, cluster.id), NOW))


def test_committed_share_is_eight_of_ten_and_meets_eighty_percent(db, cluster, people):
    k = _compute(db, cluster)["committed"]
    assert (k.numerator, k.denominator, k.value, k.met) == (8, 10, 0.8, True)


def test_committed_below_threshold(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        row = s.get(Member, found[0].id)
        row.committed_at = None
        s.add(row)
    k = _compute(db, cluster)["committed"]
    assert (k.numerator, k.denominator, k.met) == (7, 10, False)


def test_industry_six_of_eight_committed_with_one_academic(db, cluster, people):
    k = _compute(db, cluster)["industry"]
    assert (k.numerator, k.denominator, k.academia, k.value, k.met) == (6, 8, 1, 0.75, True)


def test_industry_fails_without_an_academic_even_above_seventy_percent(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        row = s.get(Member, found[6].id)
        row.role = "firm"  # 7 of 8 firms, no academia
        s.add(row)
    k = _compute(db, cluster)["industry"]
    assert (k.numerator, k.denominator, k.academia, k.met) == (7, 8, 0, False)


def _visit(s, cluster, member, at):
    s.add(Visit(cluster_id=cluster.id, member_id=member.id, kind="visit", at=at))


def test_contact_counts_distinct_participants_in_twelve_months(db, cluster, people):
    fac, found = people
    with session_scope(db) as s:
        for m in found[:4]:
            _visit(s, cluster, m, NOW - timedelta(days=30))
        _visit(s, cluster, found[0], NOW - timedelta(days=5))  # same member twice: counted once
        _visit(s, cluster, found[5], NOW - timedelta(days=400))  # too old
        _visit(s, cluster, fac, NOW - timedelta(days=1))  # not a participant
    k = _compute(db, cluster)["contact"]
    assert (k.numerator, k.denominator, k.met) == (4, 10, False)  # 40 % is not "more than 40 %"
    with session_scope(db) as s:
        _visit(s, cluster, found[4], NOW - timedelta(days=364))
    assert _compute(db, cluster)["contact"].met is True  # 5 of 10


def test_joint_activities_from_check_ins_and_pledges(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        event = Event(cluster_id=cluster.id, title="Workshop", starts_at=NOW - timedelta(days=60),
                      ends_at=NOW - timedelta(days=60) + timedelta(hours=2), status="published")
        old = Event(cluster_id=cluster.id, title="Old fair", starts_at=NOW - timedelta(days=700),
                    ends_at=NOW - timedelta(days=700), status="published")
        s.add(event)
        s.add(old)
        s.flush()
        s.add(CheckIn(event_id=event.id, member_id=found[0].id, at=NOW - timedelta(days=60)))
        s.add(CheckIn(event_id=event.id, member_id=found[1].id, at=NOW - timedelta(days=60)))
        s.add(CheckIn(event_id=old.id, member_id=found[2].id, at=NOW - timedelta(days=700)))
        buy = Purchase(cluster_id=cluster.id, item="Thread", unit="box", units="boxes", currency="TZS",
                       unit_price=9000, individual_price=10000, minimum=1000, deadline=NOW - timedelta(days=20),
                       status="ordered", ordered_at=NOW - timedelta(days=19))
        s.add(buy)
        s.flush()
        s.add(Pledge(purchase_id=buy.id, member_id=found[1].id, quantity=2000, created_at=NOW - timedelta(days=30)))
        s.add(Pledge(purchase_id=buy.id, member_id=found[3].id, quantity=3000, created_at=NOW - timedelta(days=30)))
        s.add(Pledge(purchase_id=buy.id, member_id=found[4].id, quantity=0, created_at=NOW - timedelta(days=30)))
    found_kpis = _compute(db, cluster)
    k = found_kpis["joint"]
    assert (k.numerator, k.denominator, k.met) == (3, 10, False)  # P1, P2, P4: 30 % is not more than 30 %
    assert found_kpis["purchase_savings"].amount == 5 * 1000  # 5 boxes, 1,000 saved on each


def test_women_and_engaged_members(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        for i, days in ((0, 10), (0, 20), (6, 89), (7, 91)):
            s.add(InboundMessage(channel="sms", provider_id=f"K{i}-{days}", address="x", member_id=found[i].id,
                                 received_at=NOW - timedelta(days=days)))
    k = _compute(db, cluster)
    assert (k["women"].numerator, k["women"].denominator) == (6, 10)
    assert (k["engaged"].numerator, k["engaged"].denominator) == (2, 10)  # P1 and P7; P8 wrote 91 days ago


def test_savings_and_loans_totals(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        a = Account(cluster_id=cluster.id, member_id=found[0].id, currency="TZS", balance_minor=150_000)
        b = Account(cluster_id=cluster.id, member_id=found[1].id, currency="TZS", balance_minor=50_000)
        s.add(a)
        s.add(b)
        s.flush()
        s.add(Loan(cluster_id=cluster.id, account_id=a.id, member_id=found[0].id, principal_minor=100_000,
                   currency="TZS", interest_bp=100, method="flat", term_months=6, status="active",
                   outstanding_minor=80_000))
    k = _compute(db, cluster)
    assert (k["savings"].amount, k["loans_outstanding"].amount) == (200_000, 80_000)


def test_poll_response_rate_counts_unique_members_and_satisfaction(db, cluster, people):
    _fac, found = people
    with session_scope(db) as s:
        poll = Poll(cluster_id=cluster.id, title="Satisfaction", status="scheduled")
        s.add(poll)
        s.flush()
        q = PollQuestion(poll_id=poll.id, position=1, key="overall", kind="rating",
                         texts=json.dumps({"en": "Overall?"}))
        q2 = PollQuestion(poll_id=poll.id, position=2, key="events", kind="rating", texts=json.dumps({"en": "Ev?"}))
        s.add(q)
        s.add(q2)
        rnd = PollRound(poll_id=poll.id, number=1, due_at=NOW - timedelta(days=10),
                        opened_at=NOW - timedelta(days=10), closes_at=NOW - timedelta(days=3))
        s.add(rnd)
        s.flush()
        for m in found[:4]:
            s.add(PollRecipient(round_id=rnd.id, member_id=m.id, slot_at=NOW - timedelta(days=10)))
        for m, value in zip(found[:3], (5, 4, 2), strict=True):
            s.add(PollResponse(round_id=rnd.id, question_id=q.id, member_id=m.id, value=value))
            s.add(PollResponse(round_id=rnd.id, question_id=q2.id, member_id=m.id, value=1))
    k = _compute(db, cluster)
    assert (k["poll_response"].numerator, k["poll_response"].denominator) == (3, 4)
    assert (k["satisfaction"].numerator, k["satisfaction"].denominator) == (2, 3)


def test_no_participants_means_no_value_not_a_division_by_zero(db, cluster):
    k = _compute(db, cluster)
    assert k["committed"].value is None and k["committed"].met is None and k["contact"].met is None


def test_kpi_by_message_fits_one_sms(db, settings, cluster, people):
    reply = say(db, settings, "+255712000099", "KPI", now=NOW)[0]
    assert reply == ("12 months: 8 of 10 members took part, 80% (min 80%); firms 75% (>70%), academia 1; "
                     "contacted 0% (>40%); joint activities 0% (>30%). 2 of 4 met.")
    assert len(reply) <= 160
    assert "Only a facilitator" in say(db, settings, "+255712000010", "KPI", now=NOW)[0]


def test_visit_command_logs_a_contact_and_reports_the_share(db, settings, cluster, people):
    _fac, found = people
    reply = say(db, settings, "+255712000099", f"VISIT {found[0].number} talked about thread prices", now=NOW)[0]
    assert reply == f"Contact with {found[0].number} P1 saved. In 12 months you reached 1 of 10 members (10%)."
    assert "saved" in say(db, settings, "+255712000099", "CALL 0712000011", now=NOW)[0]
    with session_scope(db) as s:
        rows = s.exec(select(Visit).order_by(Visit.id)).all()
        assert [(v.kind, v.note) for v in rows] == [("visit", "talked about thread prices"), ("call", "")]
    assert "No member NOPE" in say(db, settings, "+255712000099", "VISIT NOPE", now=NOW)[0]
    assert "Send VISIT" in say(db, settings, "+255712000099", "VISIT", now=NOW)[0]
    assert "under 160" in say(db, settings, "+255712000099", f"VISIT {found[0].number} {'x' * 161}", now=NOW)[0]
    with session_scope(db) as s:
        assert len(s.exec(select(Visit)).all()) == 2
