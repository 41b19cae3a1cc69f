"""Events and who comes: invitations by segment, RSVPs, capacity with a waitlist, reminders, check-ins.

The rules kept here: an answer replaces the member's earlier one; YES beyond capacity joins the waitlist;
a YES that is withdrawn moves the first waitlisted member up; the capacity is never exceeded, because
every answer re-reads its event with `lock_row` (FOR UPDATE on PostgreSQL; on SQLite as the one writer).
Reminder slots are keyed by the event's start, so a moved event is reminded afresh and a repeated or
late run never sends one twice. Publishing records every invitation at once; the messages are queued in
batches (`claim_invitations`), each batch marking its invitations sent in the transaction that queues
them, so a large segment never holds the database's writer for the whole fan-out and an invitation is
queued exactly once, even when a process dies part-way.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Field, Index, Session, SQLModel, UniqueConstraint, func, select

from storage import audit
from storage.clusters import Cluster
from storage.db import claim_writer, insert_once, lock_row, utcnow
from storage.exports import Rows, local
from storage.members import Member
from storage.schedule import claim
from storage.segments import Segment, describe, parse_segment, select_members

KINDS = ("workshop", "training", "meeting", "trade_fair", "study_tour", "buyer_visit", "other")
STATUSES = ("draft", "published", "cancelled")
ANSWERS = ("yes", "no", "maybe")
STATES = ("invited", *ANSWERS, "waitlist")
DEFAULT_REMINDERS = "1440,120"  # minutes before the start, sent to YES answers
DEFAULT_DEADLINE_REMINDER = 1440  # minutes before the RSVP deadline, sent to those who have not answered
MAX_REMINDER_MINUTES = 14 * 1440
TITLE_MAX = 32  # an invitation with title, time and place must fit one SMS in every language
PLACE_MAX = 32
MAX_CAPACITY = 100_000
CHECKIN_OPENS = timedelta(hours=2)  # before the start
CHECKIN_CLOSES = timedelta(hours=12)  # after the end
DEFAULT_LENGTH = timedelta(hours=3)
REMINDER_JOB = "events.reminders"
INVITATION_BATCH = 200  # invitations queued per transaction: a fraction of a second of writing


class Event(SQLModel, table=True):
    __tablename__ = "events"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    title: str = Field(max_length=60)
    kind: str = Field(default="workshop", max_length=20)
    starts_at: datetime = Field(index=True)
    ends_at: datetime
    place: str = Field(default="", max_length=60)
    capacity: int = 0  # 0: no limit
    rsvp_deadline: datetime | None = None  # None: answers are open until the start
    status: str = Field(default="draft", max_length=10, index=True)
    segment: str = Field(default="all", max_length=200)
    checkin_code: str = Field(default="", max_length=8)
    reminders: str = Field(default=DEFAULT_REMINDERS, max_length=60)
    deadline_reminder: int = DEFAULT_DEADLINE_REMINDER
    waitlist_seq: int = 0  # the last waitlist number handed out
    created_by_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None
    planned_at: datetime | None = None  # publication or last move: reminders due before it are skipped
    cancelled_at: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return self.rsvp_deadline or self.starts_at

    @property
    def reminder_minutes(self) -> list[int]:
        return sorted({int(m) for m in self.reminders.split(",") if m.strip().isdecimal()}, reverse=True)


class Invitation(SQLModel, table=True):
    """One member invited to one event, with their current answer (a new answer replaces it)."""

    __tablename__ = "event_invitations"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),
                      Index("ix_event_invitations_unsent", "event_id", "notified_at"))
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    state: str = Field(default="invited", max_length=10)
    answered_at: datetime | None = None
    channel: str = Field(default="", max_length=12)
    waitlist_seq: int | None = None
    invited_at: datetime = Field(default_factory=utcnow)
    notified_at: datetime | None = None  # when the invitation was queued; None: still to be sent


class CheckIn(SQLModel, table=True):
    __tablename__ = "event_checkins"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    method: str = Field(default="code", max_length=12)  # code, facilitator, cli
    by_member_id: int | None = Field(default=None, foreign_key="members.id")
    at: datetime = Field(default_factory=utcnow)


class EventError(ValueError):
    """An event rule refused the change; `code` names the rule for the handler's wording.

    Codes: unknown_event, not_invited, not_published, cancelled, started, deadline, past, bad_title,
    bad_kind, bad_end, bad_deadline, bad_capacity, bad_place, bad_reminders, not_draft, wrong_code,
    checkin_closed, empty_segment.
    """

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Answered:
    """What an answer did: the new state, the waitlist position, and who moved up from the waitlist."""

    invitation: Invitation
    previous: str
    position: int = 0
    promoted: list[Member] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.previous != self.invitation.state


@dataclass
class Summary:
    invited: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # state -> count, plus "attended"
    by_gender: dict[str, dict[str, int]] = field(default_factory=dict)  # state -> gender -> count


def new_code() -> str:
    """A four-digit check-in code: short enough to announce in a room and type on a basic phone."""
    return f"{secrets.randbelow(10_000):04d}"


def parse_reminders(text: str) -> str:
    """Reminder times such as '1d,2h' or '90m' as the stored minutes list ('1440,120')."""
    units = {"d": 1440, "h": 60, "m": 1}
    minutes = []
    for part in text.replace(" ", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        number, unit = (part[:-1], part[-1]) if part[-1] in units else (part, "m")
        if not number.isdecimal() or not 0 < int(number) * units[unit] <= MAX_REMINDER_MINUTES:
            raise EventError("bad_reminders", part)
        minutes.append(int(number) * units[unit])
    if len(minutes) > 5:
        raise EventError("bad_reminders", text)
    return ",".join(str(m) for m in sorted(set(minutes), reverse=True))


def check_schedule(starts_at: datetime, ends_at: datetime, deadline: datetime | None, now: datetime) -> None:
    if starts_at <= now:
        raise EventError("past")
    if ends_at <= starts_at:
        raise EventError("bad_end")
    if deadline is not None and not now < deadline <= starts_at:
        raise EventError("bad_deadline")


def create_event(session: Session, cluster: Cluster, *, title: str, starts_at: datetime, now: datetime,
                 kind: str = "workshop", ends_at: datetime | None = None, place: str = "", capacity: int = 0,
                 rsvp_deadline: datetime | None = None, segment: Segment | str = "all",
                 created_by: Member | None = None, reminders: str = DEFAULT_REMINDERS,
                 deadline_reminder: int = DEFAULT_DEADLINE_REMINDER) -> Event:
    """A draft event; nothing is sent until it is published."""
    title = " ".join(title.split())
    if not 2 <= len(title) <= TITLE_MAX:
        raise EventError("bad_title")
    if kind not in KINDS:
        raise EventError("bad_kind", kind)
    if len(place) > PLACE_MAX:
        raise EventError("bad_place")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise EventError("bad_capacity")
    ends_at = ends_at or starts_at + DEFAULT_LENGTH
    check_schedule(starts_at, ends_at, rsvp_deadline, now)
    parsed = parse_segment(segment) if isinstance(segment, str) else segment
    event = Event(cluster_id=cluster.id, title=title, kind=kind, starts_at=starts_at, ends_at=ends_at,
                  place=" ".join(place.split()), capacity=capacity, rsvp_deadline=rsvp_deadline,
                  segment=describe(parsed), checkin_code=new_code(), reminders=parse_reminders(reminders),
                  deadline_reminder=deadline_reminder, created_by_id=created_by.id if created_by else None,
                  created_at=now)
    session.add(event)
    session.flush()
    audit.record(session, "event.create", cluster_id=cluster.id, actor_member_id=event.created_by_id,
                 subject=str(event.id))
    return event


def get_event(session: Session, cluster: Cluster, ref: str | int) -> Event | None:
    """An event of this cluster named by its number ('12' or '#12'), or None."""
    text = str(ref).strip().lstrip("#")
    if not text.isdecimal() or len(text) > 9:
        return None
    event = session.get(Event, int(text))
    return event if event is not None and event.cluster_id == cluster.id else None


def _locked(session: Session, cluster_id: int, event_id: int) -> Event:
    event = lock_row(session, Event, event_id)
    if event is None or event.cluster_id != cluster_id:
        raise EventError("unknown_event")
    return event


def publish(session: Session, event_id: int, cluster: Cluster, now: datetime) -> list[Member]:
    """Invite the segment's members; the members returned are the ones to send the invitation to."""
    event = _locked(session, cluster.id, event_id)
    if event.status != "draft":
        raise EventError("not_draft", event.status)
    check_schedule(event.starts_at, event.ends_at, event.rsvp_deadline, now)
    members = select_members(session, cluster, parse_segment(event.segment))
    if not members:
        raise EventError("empty_segment")
    session.execute(insert(Invitation), [dict(event_id=event.id, member_id=member.id, state="invited", channel="",
                                              invited_at=now) for member in members])  # one statement
    event.status, event.published_at, event.planned_at = "published", now, now
    session.add(event)
    session.flush()
    audit.record(session, "event.publish", cluster_id=cluster.id, subject=str(event.id), invited=len(members))
    return members


def claim_invitations(session: Session, event_id: int, now: datetime, *, member_ids: list[int] | None = None,
                      limit: int | None = INVITATION_BATCH) -> list[Member]:
    """Take invitations still to be sent, oldest first (only `member_ids`' when given), and mark them sent.

    The mark commits or rolls back with the caller's outbox rows: a batch that fails is taken again whole
    by the next run, and one that committed is never taken twice. On PostgreSQL rows another transaction
    is taking are skipped; on SQLite the rows are read as the one writer, so no one else takes them meanwhile.
    """
    claim_writer(session)
    query = (select(Invitation, Member).join(Member, Member.id == Invitation.member_id)
             .where(Invitation.event_id == event_id, Invitation.notified_at.is_(None)))
    if member_ids is not None:
        query = query.where(Invitation.member_id.in_(member_ids))
    query = query.order_by(Invitation.id).limit(limit).with_for_update(skip_locked=True, of=Invitation)
    taken = session.exec(query).all()
    for invitation, _member in taken:
        invitation.notified_at = now
        session.add(invitation)
    session.flush()
    return [member for _invitation, member in taken]


def inviting(session: Session, now: datetime) -> list[Event]:
    """Published events still open for answers whose invitations are not all queued yet."""
    unsent = select(Invitation.id).where(Invitation.event_id == Event.id, Invitation.notified_at.is_(None))
    return list(session.exec(select(Event).where(Event.status == "published", Event.starts_at > now,
                                                 func.coalesce(Event.rsvp_deadline, Event.starts_at) >= now,
                                                 unsent.exists()).order_by(Event.published_at, Event.id)))


def invitation_of(session: Session, event_id: int, member_id: int) -> Invitation | None:
    return session.exec(select(Invitation).where(Invitation.event_id == event_id,
                                                 Invitation.member_id == member_id)).first()


def position(session: Session, invitation: Invitation) -> int:
    """1 for the first in line; 0 when the member is not on the waitlist."""
    if invitation.state != "waitlist" or invitation.waitlist_seq is None:
        return 0
    return session.exec(select(func.count()).select_from(Invitation).where(
        Invitation.event_id == invitation.event_id, Invitation.state == "waitlist",
        Invitation.waitlist_seq <= invitation.waitlist_seq)).one()


def _yes_count(session: Session, event_id: int) -> int:
    return session.exec(select(func.count()).select_from(Invitation).where(
        Invitation.event_id == event_id, Invitation.state == "yes")).one()


def _open_for_answers(event: Event, now: datetime) -> None:
    if event.status == "draft":
        raise EventError("unknown_event")
    if event.status == "cancelled":
        raise EventError("cancelled")
    if now >= event.starts_at:
        raise EventError("started")
    if now > event.deadline:
        raise EventError("deadline")


def answer(session: Session, cluster: Cluster, event_id: int, member: Member, choice: str, *, now: datetime,
           channel: str = "sms") -> Answered:
    """Record YES, NO or MAYBE; the event row is locked first so concurrent YES never pass the capacity."""
    if choice not in ANSWERS:
        raise ValueError(choice)
    event = _locked(session, cluster.id, event_id)
    _open_for_answers(event, now)
    invitation = invitation_of(session, event.id, member.id)
    if invitation is None:
        raise EventError("not_invited")
    previous = invitation.state
    result = Answered(invitation=invitation, previous=previous)
    if choice == "yes" and previous in ("yes", "waitlist"):
        result.position = position(session, invitation)
        return result
    if choice == previous:
        return result
    if choice == "yes" and event.capacity and _yes_count(session, event.id) >= event.capacity:
        event.waitlist_seq += 1
        invitation.state, invitation.waitlist_seq = "waitlist", event.waitlist_seq
        session.add(event)
    else:
        invitation.state, invitation.waitlist_seq = choice, None
    invitation.answered_at, invitation.channel = now, channel[:12]
    session.add(invitation)
    session.flush()
    result.position = position(session, invitation)
    if previous == "yes":
        result.promoted = _promote(session, event, now)
    return result


def _promote(session: Session, event: Event, now: datetime) -> list[Member]:
    """Move the first waitlisted members up while there is room."""
    moved: list[Member] = []
    while not event.capacity or _yes_count(session, event.id) < event.capacity:
        first = session.exec(select(Invitation).where(Invitation.event_id == event.id,
                                                      Invitation.state == "waitlist")
                             .order_by(Invitation.waitlist_seq, Invitation.id)).first()
        if first is None:
            break
        first.state, first.waitlist_seq, first.answered_at = "yes", None, now
        session.add(first)
        session.flush()
        moved.append(session.get(Member, first.member_id))
    return moved


def _told(session: Session, event_id: int) -> list[Member]:
    """Members who said YES or MAYBE or wait for a place: they must hear of a change."""
    return list(session.exec(select(Member).join(Invitation, Invitation.member_id == Member.id).where(
        Invitation.event_id == event_id, Invitation.state.in_(("yes", "maybe", "waitlist")))
        .order_by(Member.id)))


def cancel(session: Session, cluster: Cluster, event_id: int, now: datetime,
           actor: Member | None = None) -> tuple[Event, list[Member]]:
    """Cancel a draft or published event that has not ended; returns the event and the members to tell."""
    event = _locked(session, cluster.id, event_id)
    if event.status == "cancelled":
        raise EventError("cancelled")
    if now >= event.ends_at:
        raise EventError("started")
    event.status, event.cancelled_at = "cancelled", now
    session.add(event)
    audit.record(session, "event.cancel", cluster_id=cluster.id, actor_member_id=actor.id if actor else None,
                 subject=str(event.id))
    return event, _told(session, event.id)


def move(session: Session, cluster: Cluster, event_id: int, starts_at: datetime, now: datetime,
         ends_at: datetime | None = None, actor: Member | None = None) -> tuple[Event, list[Member]]:
    """Give an event a new time; its length and RSVP window move with it and reminders are re-planned."""
    event = _locked(session, cluster.id, event_id)
    if event.status == "cancelled":
        raise EventError("cancelled")
    if now >= event.starts_at:
        raise EventError("started")
    shift = starts_at - event.starts_at
    ends_at = ends_at or event.ends_at + shift
    deadline = None
    if event.rsvp_deadline is not None:
        deadline = min(max(event.rsvp_deadline + shift, now + timedelta(minutes=1)), starts_at)
    check_schedule(starts_at, ends_at, deadline, now)
    event.starts_at, event.ends_at, event.rsvp_deadline, event.planned_at = starts_at, ends_at, deadline, now
    session.add(event)
    audit.record(session, "event.move", cluster_id=cluster.id, actor_member_id=actor.id if actor else None,
                 subject=str(event.id), starts_at=starts_at.isoformat())
    return event, _told(session, event.id)


def set_reminders(session: Session, cluster: Cluster, event_id: int, text: str,
                  deadline_minutes: int | None = None) -> Event:
    event = _locked(session, cluster.id, event_id)
    event.reminders = parse_reminders(text)
    if deadline_minutes is not None:
        if not 0 <= deadline_minutes <= MAX_REMINDER_MINUTES:
            raise EventError("bad_reminders")
        event.deadline_reminder = deadline_minutes
    session.add(event)
    return event


def _attend(session: Session, event: Event, member: Member, now: datetime, method: str,
            by: Member | None) -> tuple[CheckIn, bool]:
    """The member's check-in, and whether it is new (a second check-in changes nothing)."""
    if event.status != "published":
        raise EventError("cancelled" if event.status == "cancelled" else "not_published")
    if not event.starts_at - CHECKIN_OPENS <= now:
        raise EventError("checkin_closed")
    record = CheckIn(event_id=event.id, member_id=member.id, method=method, by_member_id=by.id if by else None,
                     at=now)
    if insert_once(session, record):
        return record, True
    return session.exec(select(CheckIn).where(CheckIn.event_id == event.id,
                                              CheckIn.member_id == member.id)).one(), False


def check_in(session: Session, cluster: Cluster, event_id: int, member: Member, code: str,
             now: datetime) -> tuple[CheckIn, bool]:
    """A member at the venue checks in with the code the facilitator announces."""
    event = get_event(session, cluster, event_id)
    if event is None or event.status == "draft":
        raise EventError("unknown_event")
    if invitation_of(session, event.id, member.id) is None:
        raise EventError("not_invited")
    if event.status == "cancelled":
        raise EventError("cancelled")
    if not event.starts_at - CHECKIN_OPENS <= now <= event.ends_at + CHECKIN_CLOSES:
        raise EventError("checkin_closed")
    if code.strip() != event.checkin_code:
        raise EventError("wrong_code")
    return _attend(session, event, member, now, "code", None)


def mark_attendance(session: Session, cluster: Cluster, event_id: int, member: Member, now: datetime,
                    by: Member | None = None, method: str = "facilitator") -> tuple[CheckIn, bool]:
    """A facilitator records that a member came; someone not invited is invited as a walk-in."""
    event = get_event(session, cluster, event_id)
    if event is None or event.status == "draft":
        raise EventError("unknown_event")
    if member.cluster_id != cluster.id:
        raise EventError("not_invited")
    if invitation_of(session, event.id, member.id) is None:  # a walk-in: nothing to send
        insert_once(session, Invitation(event_id=event.id, member_id=member.id, invited_at=now,
                                        notified_at=now))
    return _attend(session, event, member, now, method, by)


def summary(session: Session, event: Event) -> Summary:
    """Answers and attendance, overall and by gender."""
    result = Summary(counts={s: 0 for s in (*STATES, "attended")})
    rows = session.exec(select(Invitation.state, Member.gender, func.count()).join(
        Member, Member.id == Invitation.member_id).where(Invitation.event_id == event.id)
        .group_by(Invitation.state, Member.gender)).all()
    attended = session.exec(select(Member.gender, func.count()).join(CheckIn, CheckIn.member_id == Member.id)
                            .where(CheckIn.event_id == event.id).group_by(Member.gender)).all()
    for state, gender, count in [*rows, *[("attended", g, c) for g, c in attended]]:
        result.counts[state] = result.counts.get(state, 0) + count
        by = result.by_gender.setdefault(state, {})
        by[gender or "other"] = by.get(gender or "other", 0) + count
    result.invited = sum(c for _s, _g, c in rows)
    return result


def upcoming_for(session: Session, member: Member, now: datetime) -> list[tuple[Event, Invitation]]:
    """The member's invitations to events not yet over, most relevant first.

    Unanswered invitations whose answers are still open come first (soonest deadline first), then
    the rest by start time; declined events come last.
    """
    rows = session.exec(select(Event, Invitation).join(Invitation, Invitation.event_id == Event.id).where(
        Invitation.member_id == member.id, Event.status == "published", Event.ends_at > now)).all()

    def rank(row: tuple[Event, Invitation]):
        event, inv = row
        open_ = inv.state == "invited" and now <= event.deadline and now < event.starts_at
        return (0 if open_ else 2 if inv.state == "no" else 1, event.deadline if open_ else event.starts_at,
                event.id)

    return sorted(rows, key=rank)


def open_invitations(session: Session, member: Member, now: datetime) -> list[Event]:
    """Events the member can still answer."""
    return [e for e, _inv in upcoming_for(session, member, now) if now < e.starts_at and now <= e.deadline]


def cluster_events(session: Session, cluster: Cluster, now: datetime) -> list[Event]:
    """Drafts and events not yet over, soonest first: what a facilitator is working on."""
    return list(session.exec(select(Event).where(Event.cluster_id == cluster.id, Event.status != "cancelled",
                                                 Event.ends_at > now).order_by(Event.starts_at, Event.id)))


@dataclass
class DueReminder:
    event: Event
    kind: str  # "start": to YES answers; "deadline": to those who have not answered
    members: list[Member]


def _slot_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


def take_due_reminders(session: Session, now: datetime) -> list[DueReminder]:
    """Claim every reminder due at `now` and return whom to send it to.

    The claims commit with the caller's outbox rows, so a repeated run (or a restart) sends nothing
    twice, and a late run still sends while the event has not started. Several reminders of one event
    that fall due together (after downtime) go out as one message. Reminders that fell due before the
    event was published or moved are skipped: the invitation or the move notice said it all.
    """
    due: list[DueReminder] = []
    events = session.exec(select(Event).where(Event.status == "published", Event.starts_at > now)
                          .order_by(Event.starts_at, Event.id)).all()
    for event in events:
        planned = event.planned_at or event.published_at or event.created_at
        start_slots = [f"{event.id}:{_slot_time(event.starts_at)}:{m}" for m in event.reminder_minutes
                       if planned <= event.starts_at - timedelta(minutes=m) <= now]
        if start_slots and sum(claim(session, REMINDER_JOB, slot) for slot in start_slots):
            due.append(DueReminder(event, "start", _in_state(session, event.id, ("yes",))))
        remind_at = event.deadline - timedelta(minutes=event.deadline_reminder)
        if (event.deadline_reminder and planned <= remind_at <= now <= event.deadline
                and claim(session, REMINDER_JOB, f"{event.id}:deadline:{_slot_time(event.deadline)}")):
            due.append(DueReminder(event, "deadline", _in_state(session, event.id, ("invited",))))
    return due


def _in_state(session: Session, event_id: int, states: tuple[str, ...]) -> list[Member]:
    return list(session.exec(select(Member).join(Invitation, Invitation.member_id == Member.id).where(
        Invitation.event_id == event_id, Invitation.state.in_(states), Member.status == "active")
        .order_by(Member.id)))


def events_rows(session: Session, cluster: Cluster) -> Rows:
    columns = ["id", "title", "kind", "status", "starts_at", "ends_at", "place", "capacity", "rsvp_deadline",
               "segment", "invited", "yes", "no", "maybe", "waitlist", "attended", "created_at", "published_at"]

    def rows() -> Iterator[list]:
        for e in session.exec(select(Event).where(Event.cluster_id == cluster.id).order_by(Event.id)).all():
            s = summary(session, e)
            yield [e.id, e.title, e.kind, e.status, local(e.starts_at, cluster), local(e.ends_at, cluster),
                   e.place, e.capacity, local(e.rsvp_deadline, cluster), e.segment, s.invited,
                   s.counts["yes"], s.counts["no"], s.counts["maybe"], s.counts["waitlist"],
                   s.counts["attended"], local(e.created_at, cluster), local(e.published_at, cluster)]

    return columns, rows()


def rsvps_rows(session: Session, cluster: Cluster) -> Rows:
    """One row per invitation: the answer, the waitlist position and attendance (the attendance list)."""
    columns = ["event_id", "event_title", "event_start", "member_number", "name", "phone", "gender", "sector",
               "location", "answer", "answered_at", "channel", "waitlist_position", "attended",
               "checked_in_at", "checkin_method"]

    def rows() -> Iterator[list]:
        events = session.exec(select(Event).where(Event.cluster_id == cluster.id).order_by(Event.id)).all()
        for e in events:
            checkins = {c.member_id: c for c in session.exec(select(CheckIn).where(CheckIn.event_id == e.id))}
            for inv, m in session.exec(select(Invitation, Member).join(Member, Member.id == Invitation.member_id)
                                       .where(Invitation.event_id == e.id).order_by(Member.id)):
                came = checkins.get(m.id)
                yield [e.id, e.title, local(e.starts_at, cluster), m.number, m.name, m.phone, m.gender,
                       m.sector, m.location, inv.state, local(inv.answered_at, cluster), inv.channel,
                       position(session, inv) or "", came is not None, local(came.at if came else None, cluster),
                       came.method if came else ""]

    return columns, rows()


EXPORTS = {"events": events_rows, "rsvps": rsvps_rows}
