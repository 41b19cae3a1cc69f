"""One cluster with real records in every domain, made through each domain's own storage functions.

The integration tests compute KPIs, render dashboard pages, export and forget members over this world, so
the seams between domains are exercised on rows the domains really write. Times are relative to `now`
(the moment the test runs), so the webhook and the dashboard, which read the clock, see the same figures.

Participants (active, not facilitators): the treasurer T and M1..M6 = 7.
  committed: T, M5 marked by the facilitator 60 days ago; M1, M2, M3 saved (and attended), M4 pledged
             => T, M1..M5 = 6 of 7;  committed firms: T, M1..M4 = 5 of 6, academia M5 = 1
  women: T, M1, M2, M3 = 4 of 7
  contact in 12 months: M1 (twice), M2 = 2 of 7; M3 only 400 days ago
  joint activities: attended the workshop M1, M2, M3; pledged M3, M4 => M1..M4 = 4 of 7
  poll round: asked F, T, M1..M6 = 8; answered M1..M4 = 4; overall 5, 4, 2, 4 => 3 of 4 satisfied
  savings held: M1 50,000 + M2 30,000 + M3 20,000 (a 5,000 deposit reversed; M1's 1,000 declined) = 100,000 TZS
  loan to M1: 100,000 over 10 months at 1 % flat = 10,000 interest; repaid 11,000 => 99,000 outstanding
  purchase: 5 bags pledged (M3 3, M4 2) at 60,000 instead of 75,000 => 75,000 TZS saved
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from storage import events, glossary, polls, purchases, savings, visits
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.members import Member
from tests.conftest import outbox

FAC, TREASURER = "+255712000009", "+255712000008"
PHONES = [f"+25571200001{i}" for i in range(1, 7)]  # M1..M6
PENDING = "+255712000020"
TZS = 100  # minor units per shilling
PRIVATE_ANSWER = "Juma of Moshi Tailors still owes me for the cloth"
PRIVATE_NOTE = "her husband is ill, she may miss the meeting"
PRIVATE_REASON = "sent from her brother's phone, not hers"


@dataclass
class World:
    cluster_id: int
    now: datetime
    ids: dict[str, int] = field(default_factory=dict)  # "F", "T", "M1".. -> member id
    event_id: int = 0
    purchase_id: int = 0
    poll_id: int = 0
    round_id: int = 0
    loan_id: int = 0


def _people(add_member) -> dict[str, Member]:
    roles = ["firm", "firm", "firm", "firm", "academia", "government"]
    genders = ["female", "female", "female", "male", "male", "male"]
    found = {"F": add_member(FAC, admin_role="facilitator", name="Fatuma Facil", role="support"),
             "T": add_member(TREASURER, admin_role="treasurer", name="Tumaini Treasurer", gender="female")}
    for i, phone in enumerate(PHONES):
        found[f"M{i + 1}"] = add_member(phone, name=f"Member {i + 1}", role=roles[i], gender=genders[i],
                                        business=f"Shop {i + 1}")
    found["P"] = add_member(PENDING, status="pending", name="Pending Person")
    return found


def build(db, cluster: Cluster, add_member) -> World:
    people = _people(add_member)
    world = World(cluster_id=cluster.id, now=utcnow(), ids={k: m.id for k, m in people.items()})
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        m = {k: s.get(Member, v) for k, v in world.ids.items()}
        for key in ("T", "M5"):  # the others are committed by their own records
            m[key].committed_at = world.now - timedelta(days=60)
            s.add(m[key])
        s.flush()
        _visits(s, world, m)
        _event(s, c, world, m)
        _purchase(s, c, world, m)
        _savings(s, c, world, m)
        _poll(s, c, world, m)
        term = glossary.find(s, "cluster initiative", c.id).term_id
        glossary.propose(s, c, m["M2"], term, "cluster initiative", "umoja wa mafundi", "sw",
                         world.now - timedelta(days=3))
    return world


def _visits(s: Session, world: World, m: dict[str, Member]) -> None:
    now = world.now
    visits.log_visit(s, m["M1"], m["F"], note=PRIVATE_NOTE, at=now - timedelta(days=40))
    visits.log_visit(s, m["M1"], m["F"], kind="call", at=now - timedelta(days=5))
    visits.log_visit(s, m["M2"], m["F"], at=now - timedelta(days=100))
    visits.log_visit(s, m["M3"], m["F"], at=now - timedelta(days=400))


def _event(s: Session, c: Cluster, world: World, m: dict[str, Member]) -> None:
    created = world.now - timedelta(days=30)
    start = world.now - timedelta(days=20)
    event = events.create_event(s, c, title="Vision workshop", starts_at=start, now=created, place="Moshi hall",
                                capacity=10, created_by=m["F"])
    events.publish(s, event.id, c, created)
    for key, choice in (("M1", "yes"), ("M2", "yes"), ("M3", "maybe"), ("M4", "no")):
        events.answer(s, c, event.id, m[key], choice, now=created + timedelta(days=1), channel="sms")
    for key in ("M1", "M2"):
        events.check_in(s, c, event.id, m[key], event.checkin_code, start + timedelta(minutes=10))
    events.mark_attendance(s, c, event.id, m["M3"], start + timedelta(minutes=30), by=m["F"])
    world.event_id = event.id


def _purchase(s: Session, c: Cluster, world: World, m: dict[str, Member]) -> None:
    created = world.now - timedelta(days=25)
    bag = purchases.QTY_SCALE
    p = purchases.create_purchase(s, c, item="Fertiliser", unit="bag", units="bags", unit_price=60_000 * TZS,
                                  individual_price=75_000 * TZS, minimum=5 * bag, deadline=created + timedelta(days=5),
                                  now=created, created_by=m["F"])
    purchases.offer(s, p, [m[k] for k in ("M1", "M2", "M3", "M4", "M5", "M6")], created)
    purchases.pledge(s, p.id, m["M3"], 3 * bag, created + timedelta(days=1))
    purchases.pledge(s, p.id, m["M4"], 2 * bag, created + timedelta(days=2))
    purchases.close(s, p.id, created + timedelta(days=5))
    purchases.advance(s, p, "ordered", m["F"], created + timedelta(days=6))
    purchases.record_payment(s, p.id, m["M3"], 180_000 * TZS, "MP123", m["T"], created + timedelta(days=6))
    world.purchase_id = p.id


def _savings(s: Session, c: Cluster, world: World, m: dict[str, Member]) -> None:
    t0 = world.now - timedelta(days=28)
    savings.record_deposit(s, c, m["M1"], 50_000 * TZS, m["T"], t0, "DEP-1")
    savings.record_deposit(s, c, m["M2"], 30_000 * TZS, m["T"], t0, "DEP-2")
    request = savings.request_deposit(s, c, m["M3"], 20_000 * TZS, t0, "MPESA-XYZ")
    savings.confirm_request(s, c, request.id, m["T"], t0 + timedelta(hours=2))
    refused = savings.request_deposit(s, c, m["M1"], 1_000 * TZS, t0, "MP-BROTHER")
    savings.decline_request(s, c, refused.id, m["T"], t0 + timedelta(hours=1), reason=PRIVATE_REASON)
    wrong = savings.record_deposit(s, c, m["M3"], 5_000 * TZS, m["T"], t0, "DEP-3")
    savings.reverse_entry(s, c, wrong.id, m["T"], t0 + timedelta(days=1), reason="typed twice")
    loan = savings.request_loan(s, c, m["M1"], 100_000 * TZS, 10, t0 + timedelta(days=2))
    savings.decide_loan(s, c, loan.id, m["T"], True, t0 + timedelta(days=3))
    savings.disburse_loan(s, c, loan.id, m["T"], t0 + timedelta(days=3))
    repay = savings.request_repayment(s, c, m["M1"], 11_000 * TZS, t0 + timedelta(days=20), "REPAY-1")
    savings.confirm_request(s, c, repay.id, m["T"], t0 + timedelta(days=20))
    world.loan_id = loan.id


def _poll(s: Session, c: Cluster, world: World, m: dict[str, Member]) -> None:
    opened = world.now - timedelta(days=10)
    poll = polls.create_poll(s, c, polls.load_template("satisfaction"), created_by=m["F"].number)
    rnd = polls.open_round(s, poll, c, 1, opened, opened)
    by_key = {q.key: q for q in polls.questions(s, poll)}
    for key, overall in (("M1", 5), ("M2", 4), ("M3", 2), ("M4", 4)):
        polls.record_answer(s, rnd, m[key], by_key["overall"], opened + timedelta(hours=1), value=overall)
        polls.record_answer(s, rnd, m[key], by_key["recommend"], opened + timedelta(hours=1), value=9)
    polls.record_answer(s, rnd, m["M1"], by_key["change"], opened + timedelta(hours=2), text=PRIVATE_ANSWER)
    world.poll_id, world.round_id = poll.id, rnd.id


def login(web, db, phone: str = FAC) -> None:
    """Log in to the dashboard the way a facilitator does: the code the bot sends to their phone."""
    web.post("/dashboard/login", data={"phone": phone})
    code = re.search(r"\b(\d{6})\b", outbox(db, phone)[-1].text).group(1)
    r = web.post("/dashboard/verify", data={"phone": phone, "code": code}, follow_redirects=False)
    assert r.status_code == 303
