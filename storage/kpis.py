"""Cluster KPIs, computed from the bot's own records and held against the cluster-excellence thresholds.

Participants are the cluster's active members other than its facilitators (the management team is not
a participant of the cluster it manages). Every share is a fraction of participants unless said
otherwise; a period KPI looks back twelve months from `now`.

A participant is committed when they took part in the last twelve months: a confirmed savings deposit
(not reversed), an event attended (checked in with the code or marked attended), a pledge to a joint
purchase, or the facilitator's mark (COMMITTED, dated, so it too lapses after twelve months unless
renewed; UNCOMMITTED clears it). It is computed from those records, one query for all members.

The thresholds (European Cluster Excellence criteria): at least 80 % of participants committed; more
than 70 % of committed participants from industry (firms and farms) with at least one from academia;
direct personal contact with more than 40 % of participants in the last year (60 % for excellence);
more than 30 % of participants in joint activities in the last year.

Events, purchases, savings and polls feed some KPIs; their tables are read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from storage import events, purchases, savings
from storage import polls as polls_store
from storage.clusters import Cluster
from storage.db import utcnow
from storage.exports import Rows, local
from storage.members import Member
from storage.messages import InboundMessage
from storage.visits import Visit

YEAR = timedelta(days=365)
ACTIVE_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Kpi:
    """One measure: a share (numerator of denominator) or an amount, and the target it is held to.

    `threshold` with `strict` True means "more than", otherwise "at least". `value` is None when the
    records it needs do not exist (no participants yet, or the domain is not installed).
    """

    key: str
    numerator: int | None = None
    denominator: int | None = None
    threshold: float | None = None
    strict: bool = False
    amount: int | None = None
    currency: str = ""
    extra: float | None = None
    academia: int | None = None
    excellence: float | None = None

    @property
    def value(self) -> float | None:
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator

    @property
    def met(self) -> bool | None:
        """True or False against the threshold; None when there is no threshold or no value."""
        if self.threshold is None or self.value is None:
            return None
        if self.academia is not None and self.academia < 1:
            return False
        return self.value > self.threshold if self.strict else self.value >= self.threshold


@dataclass(frozen=True)
class Participant:
    id: int
    role: str
    gender: str
    committed: bool


def participants(session: Session, cluster: Cluster, now: datetime) -> list[Participant]:
    """Active members other than facilitators, each with whether they are committed at `now`."""
    rows = session.exec(select(Member.id, Member.role, Member.gender).where(
        Member.cluster_id == cluster.id, Member.status == "active", Member.admin_role != "facilitator")
        .order_by(Member.id)).all()
    core = committed_ids(session, cluster.id, now)
    return [Participant(m.id, m.role, m.gender, m.id in core) for m in rows]


def _attended(cluster_id: int, since: datetime, now: datetime):
    """Members checked in at an event (by its code, or marked attended by an officer) in the period."""
    check_in, event = events.CheckIn, events.Event
    return select(check_in.member_id).join(event, event.id == check_in.event_id).where(
        event.cluster_id == cluster_id, check_in.at > since, check_in.at <= now)


def _pledged(cluster_id: int, since: datetime, now: datetime):
    """Members with a live pledge to a joint purchase (not cancelled) created in the period."""
    p, pl = purchases.Purchase, purchases.Pledge
    return select(pl.member_id).join(p, p.id == pl.purchase_id).where(
        p.cluster_id == cluster_id, p.status != "cancelled", pl.quantity > 0, pl.created_at > since,
        pl.created_at <= now)


def _deposited(cluster_id: int, since: datetime, now: datetime):
    """Members with a confirmed savings deposit in the period that was not reversed (a contribution; the
    bot keeps no separate membership fee: a fee paid in cash is the facilitator's mark)."""
    entry, account, reversal = savings.Entry, savings.Account, aliased(savings.Entry)
    return select(account.member_id).join(entry, entry.account_id == account.id).where(
        entry.cluster_id == cluster_id, entry.kind == "deposit", entry.loan_id.is_(None), entry.at > since,
        entry.at <= now, ~exists().where(reversal.reverses_id == entry.id))


def _marked(cluster_id: int, since: datetime, now: datetime):
    """Members the facilitator marked committed (COMMITTED) in the period."""
    return select(Member.id).where(Member.cluster_id == cluster_id, Member.committed_at > since,
                                   Member.committed_at <= now)


def _members(session: Session, *queries) -> set[int]:
    """The members any of the queries finds: one statement (a UNION), however many members there are."""
    return set(session.execute(union(*queries)).scalars())


def committed_ids(session: Session, cluster_id: int, now: datetime) -> set[int]:
    """Members who took part in the twelve months to `now`: a confirmed savings deposit, an event attended,
    a pledge to a joint purchase, or the facilitator's mark. Status and role are the caller's filter."""
    since = now - YEAR
    return _members(session, _deposited(cluster_id, since, now), _attended(cluster_id, since, now),
                    _pledged(cluster_id, since, now), _marked(cluster_id, since, now))


def committed(people: list[Participant]) -> Kpi:
    return Kpi("committed", sum(m.committed for m in people), len(people), threshold=0.8)


def industry(people: list[Participant]) -> Kpi:
    """Firms and farms among committed participants; it is met only with at least one committed academic."""
    core = [m for m in people if m.committed]
    academia = sum(m.role == "academia" for m in core)
    return Kpi("industry", sum(m.role == "firm" for m in core), len(core), threshold=0.7, strict=True,
               academia=academia)


def contact(session: Session, cluster: Cluster, people: list[Participant], now: datetime) -> Kpi:
    ids = {m.id for m in people}
    visited = set(session.exec(select(Visit.member_id).where(Visit.cluster_id == cluster.id,
                                                             Visit.at > now - YEAR, Visit.at <= now)))
    return Kpi("contact", len(visited & ids), len(people), threshold=0.4, strict=True, excellence=0.6)


def joint(session: Session, cluster: Cluster, people: list[Participant], now: datetime) -> Kpi:
    """Participants who attended an event or pledged to a joint purchase in the last year."""
    found = _members(session, _attended(cluster.id, now - YEAR, now), _pledged(cluster.id, now - YEAR, now))
    return Kpi("joint", len(found & {m.id for m in people}), len(people), threshold=0.3, strict=True)


def women(people: list) -> Kpi:
    return Kpi("women", sum(m.gender == "female" for m in people), len(people))


def engaged(session: Session, cluster: Cluster, people: list, now: datetime) -> Kpi:
    """Participants who wrote to the bot in the last 90 days: members who use it, not just appear in it."""
    ids = {m.id for m in people}
    if not ids:
        return Kpi("engaged", 0, 0)
    writers = set(session.exec(select(InboundMessage.member_id).where(
        InboundMessage.member_id.in_(ids), InboundMessage.received_at > now - ACTIVE_WINDOW,
        InboundMessage.received_at <= now).distinct()))
    return Kpi("engaged", len(writers), len(people))


def polls(session: Session, cluster: Cluster, now: datetime) -> list[Kpi]:
    """Response rate over the rounds opened in the last year (unique members per round, never sends) and
    satisfaction: the share of answers 4 or 5 to the rating questions keyed `overall`."""
    invited = responded = satisfied = rated = 0
    for poll in polls_store.cluster_polls(session, cluster):
        for rnd in polls_store.rounds(session, poll):
            if not now - YEAR < rnd.opened_at <= now:
                continue
            result = polls_store.round_results(session, rnd)
            invited, responded = invited + result.recipients, responded + result.respondents
            for q in result.questions:
                if q.question.key == "overall" and q.question.kind == "rating":
                    rated += q.answers
                    satisfied += sum(n for value, n in q.distribution.items() if value >= 4)
    return [Kpi("poll_response", responded, invited), Kpi("satisfaction", satisfied, rated)]


def money(session: Session, cluster: Cluster, now: datetime) -> list[Kpi]:
    """Savings held and loans outstanding now; what joint purchases ordered in the last year saved."""
    held = session.exec(select(func.coalesce(func.sum(savings.Account.balance_minor), 0))
                        .where(savings.Account.cluster_id == cluster.id)).one()
    owed = session.exec(select(func.coalesce(func.sum(savings.Loan.outstanding_minor), 0))
                        .where(savings.Loan.cluster_id == cluster.id)).one()
    p, pl = purchases.Purchase, purchases.Pledge
    saved = sum(purchases.saving_for(purchase, pledge.quantity) for purchase, pledge in session.exec(
        select(p, pl).join(pl, pl.purchase_id == p.id).where(
            p.cluster_id == cluster.id, p.status.in_(("ordered", "delivered")), p.ordered_at > now - YEAR,
            p.ordered_at <= now, pl.quantity > 0)))
    return [Kpi("savings", amount=held, currency=cluster.currency),
            Kpi("loans_outstanding", amount=owed, currency=cluster.currency),
            Kpi("purchase_savings", amount=saved, currency=cluster.currency)]


def compute(session: Session, cluster: Cluster, now: datetime) -> list[Kpi]:
    """Every KPI of one cluster at `now`, the four thresholds first."""
    people = participants(session, cluster, now)
    return [committed(people), industry(people), contact(session, cluster, people, now),
            joint(session, cluster, people, now), women(people), engaged(session, cluster, people, now),
            *polls(session, cluster, now), *money(session, cluster, now)]


def by_key(kpis: list[Kpi]) -> dict[str, Kpi]:
    return {k.key: k for k in kpis}


def members_rows(session: Session, cluster: Cluster, now: datetime | None = None) -> Rows:
    """The members export. `committed` is what the KPI counts (took part in the 12 months to now, status
    aside); `committed_mark` is the date of the facilitator's mark, if any (it lapses after 12 months)."""
    now = now or utcnow()
    core = committed_ids(session, cluster.id, now)
    columns = ["number", "name", "phone", "business", "sector", "location", "gender", "role", "language",
               "status", "admin_role", "committed", "committed_mark", "opted_out", "joined_at"]

    def rows():
        for m in session.exec(select(Member).where(Member.cluster_id == cluster.id)
                              .order_by(Member.id).execution_options(yield_per=1000)):
            yield [m.number, m.name, m.phone, m.business, m.sector, m.location, m.gender, m.role, m.language,
                   m.status, m.admin_role, m.id in core, local(m.committed_at, cluster), m.opted_out,
                   local(m.joined_at, cluster)]

    return columns, rows()


def members_count(session: Session, cluster: Cluster) -> dict[str, int]:
    """Members of the cluster by status, for the overview."""
    rows = session.exec(select(Member.status, func.count()).where(Member.cluster_id == cluster.id)
                        .group_by(Member.status))
    return dict(rows.all())
