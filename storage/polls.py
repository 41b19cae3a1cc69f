"""Polls: questions in order, rounds opened on a schedule, recipients spread over a send window, answers.

A poll is a questionnaire with per-language texts, an audience segment and a schedule (once, or every N
months on the start's day of the month, at the start's local time in the cluster's timezone). Each
sending is a round: opened when due, a reminder to members who have not answered anything, closed after
M days. Every recipient gets a send slot inside the window (say 18:00-20:00 on three evenings) so replies
do not all arrive at once. Results are pure arithmetic over the responses; groups with fewer than
MIN_GROUP answers are never shown, and anonymous polls export no member identity.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Field, Session, SQLModel, UniqueConstraint, func, select

from storage import audit
from storage.clusters import Cluster
from storage.db import insert_once, lock_row, utcnow
from storage.exports import local
from storage.members import LANGUAGES, Member
from storage.segments import SegmentError, describe, parse_segment, select_members

KINDS = ("rating", "yesno", "choice", "score", "text")
SCALES = {"rating": (1, 5), "yesno": (1, 2), "score": (0, 10)}  # yes/no: 1 yes, 2 no
MAX_OPTIONS = 10
MAX_QUESTIONS = 20
TEXT_LIMIT = 300
SLOT_MINUTES = 10
MIN_GROUP = 5
DIMENSIONS = ("gender", "sector", "location", "role")
TEMPLATES_DIR = Path(__file__).parent / "poll_templates"
TEMPLATES = ("satisfaction", "services")


class PollError(ValueError):
    """A poll rule refused the change; `code` names the rule so the handler or CLI can word it."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Poll(SQLModel, table=True):
    __tablename__ = "polls"
    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    title: str = Field(max_length=80)
    titles: str = Field(default="{}")  # JSON {lang: title}
    anonymous: bool = True
    audience: str = Field(default="all", max_length=200)
    status: str = Field(default="draft", max_length=12, index=True)  # draft, scheduled, done, cancelled
    start_at: datetime | None = None
    every_months: int = 0
    remind_days: int = 3
    close_days: int = 7
    window_hours: int = 2
    window_days: int = 1
    template: str = Field(default="", max_length=40)
    created_by: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)

    def title_in(self, lang: str) -> str:
        return json.loads(self.titles or "{}").get(lang) or self.title


class PollQuestion(SQLModel, table=True):
    __tablename__ = "poll_questions"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True)
    position: int
    key: str = Field(default="", max_length=40)
    kind: str = Field(max_length=10)
    optional: bool = False
    texts: str = Field(default="{}")  # JSON {lang: question}
    options: str = Field(default="{}")  # JSON {lang: [label, ...]} for choice questions

    def text_in(self, lang: str) -> str:
        texts = json.loads(self.texts)
        return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")

    def options_in(self, lang: str) -> list[str]:
        options = json.loads(self.options or "{}")
        return options.get(lang) or options.get("en") or next(iter(options.values()), [])

    @property
    def option_count(self) -> int:
        return len(self.options_in("en"))

    @property
    def scale(self) -> tuple[int, int] | None:
        """The lowest and highest valid answer; None for free text."""
        if self.kind == "choice":
            return 1, self.option_count
        return SCALES.get(self.kind)


class PollRound(SQLModel, table=True):
    __tablename__ = "poll_rounds"
    __table_args__ = (UniqueConstraint("poll_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True)
    number: int
    due_at: datetime
    opened_at: datetime = Field(default_factory=utcnow)
    reminder_at: datetime | None = None
    closes_at: datetime = Field(index=True)
    closed_at: datetime | None = None
    status: str = Field(default="open", max_length=10, index=True)  # open, reminder, closed

    def is_open(self, now: datetime) -> bool:
        return self.status != "closed" and now < self.closes_at


class PollRecipient(SQLModel, table=True):
    __tablename__ = "poll_recipients"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="poll_rounds.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    slot_at: datetime = Field(index=True)
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    finished_at: datetime | None = None


class PollResponse(SQLModel, table=True):
    __tablename__ = "poll_responses"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "question_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="poll_rounds.id", index=True)
    question_id: int = Field(foreign_key="poll_questions.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    value: int | None = None
    text: str = Field(default="", max_length=TEXT_LIMIT)
    skipped: bool = False
    answered_at: datetime = Field(default_factory=utcnow)


# ---------------------------------------------------------------- creating polls


def _texts(value, what: str) -> dict[str, str]:
    """Per-language texts: a plain string stands for English."""
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict):
        raise PollError("no_text", what)
    texts = {str(k): " ".join(str(v).split()) for k, v in value.items() if k in LANGUAGES and str(v or "").strip()}
    if not texts:
        raise PollError("no_text", what)
    return texts


def _options(value, what: str) -> dict[str, list[str]]:
    if isinstance(value, list):
        value = {"en": value}
    if not isinstance(value, dict):
        raise PollError("too_few_options", what)
    options = {k: [" ".join(str(o).split()) for o in v if str(o).strip()] for k, v in value.items()
               if k in LANGUAGES and isinstance(v, list)}
    counts = {len(v) for v in options.values()}
    if not options or max(counts) > MAX_OPTIONS:
        raise PollError("too_many_options" if options and max(counts) > MAX_OPTIONS else "too_few_options", what)
    if min(counts) < 2:
        raise PollError("too_few_options", what)
    if len(counts) > 1:
        raise PollError("options_differ", what)
    return options


def validate_spec(spec: dict) -> dict:
    """A poll description (from a template, a file or a conversation) checked and put in canonical form."""
    questions = spec.get("questions") or []
    if not isinstance(questions, list) or not questions:
        raise PollError("no_questions")
    if len(questions) > MAX_QUESTIONS:
        raise PollError("too_many_questions", str(len(questions)))
    canonical = []
    for position, raw in enumerate(questions, start=1):
        if not isinstance(raw, dict):
            raise PollError("bad_question", str(position))
        kind = str(raw.get("kind", "")).strip().lower()
        if kind not in KINDS:
            raise PollError("bad_kind", f"question {position}: {kind or '?'}")
        item = {"key": str(raw.get("key") or f"q{position}")[:40], "kind": kind,
                "optional": bool(raw.get("optional", kind == "text")),
                "text": _texts(raw.get("text"), f"question {position}")}
        if kind == "choice":
            item["options"] = _options(raw.get("options"), f"question {position}")
        elif raw.get("options"):
            raise PollError("options_not_allowed", f"question {position}")
        canonical.append(item)
    titles = _texts(spec.get("title"), "title")
    if any(len(t) > 80 for t in titles.values()):
        raise PollError("title_too_long")
    return {"title": titles, "anonymous": bool(spec.get("anonymous", True)),
            "audience": _audience(spec.get("audience") or "all"), "questions": canonical,
            "template": str(spec.get("template", ""))[:40]}


def _audience(text: str) -> str:
    try:
        return describe(parse_segment(str(text)))
    except SegmentError as exc:
        raise PollError("bad_audience", exc.code) from exc


def create_poll(session: Session, cluster: Cluster, spec: dict, created_by: str = "") -> Poll:
    """A draft poll and its questions; nothing is sent until it is scheduled."""
    spec = validate_spec(spec)
    titles = spec["title"]
    poll = Poll(cluster_id=cluster.id, title=titles.get("en") or next(iter(titles.values())),
                titles=json.dumps(titles, ensure_ascii=False), anonymous=spec["anonymous"],
                audience=spec["audience"], template=spec["template"], created_by=created_by[:40])
    session.add(poll)
    session.flush()
    for position, item in enumerate(spec["questions"], start=1):
        session.add(PollQuestion(poll_id=poll.id, position=position, key=item["key"], kind=item["kind"],
                                 optional=item["optional"], texts=json.dumps(item["text"], ensure_ascii=False),
                                 options=json.dumps(item.get("options", {}), ensure_ascii=False)))
    session.flush()
    audit.record(session, "poll.create", cluster_id=cluster.id, actor=created_by or "unknown",
                 subject=f"poll {poll.id}", questions=len(spec["questions"]))
    return poll


def poll_spec(session: Session, poll: Poll) -> dict:
    """The description a poll was made from, to copy it."""
    return {"title": json.loads(poll.titles or "{}") or poll.title, "anonymous": poll.anonymous,
            "audience": poll.audience, "template": poll.template,
            "questions": [{"key": q.key, "kind": q.kind, "optional": q.optional, "text": json.loads(q.texts),
                           **({"options": json.loads(q.options)} if q.kind == "choice" else {})}
                          for q in questions(session, poll)]}


def copy_poll(session: Session, cluster: Cluster, source: Poll, created_by: str = "") -> Poll:
    if source.cluster_id != cluster.id:
        raise PollError("not_found", str(source.id))
    return create_poll(session, cluster, poll_spec(session, source), created_by)


def load_template(name: str) -> dict:
    """A shipped questionnaire (satisfaction, services) as a poll description."""
    if name not in TEMPLATES:
        raise PollError("unknown_template", name)
    return {**read_spec_file(TEMPLATES_DIR / f"{name}.yaml"), "template": name}


def read_spec_file(path: Path) -> dict:
    """A poll description from YAML (as the templates) or CSV (one question per row)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return _spec_from_csv(text, path.stem)
    import yaml  # only a YAML poll file needs it: loaded here, not at every process start

    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PollError("bad_file", str(exc).splitlines()[0]) from exc
    if not isinstance(spec, dict):
        raise PollError("bad_file", "expected a mapping with title and questions")
    return spec


def _spec_from_csv(text: str, default_title: str) -> dict:
    """Columns: kind, optional, key, text_en/text_sw/..., options_en/... (options separated by |).

    A row whose kind is `title` gives the poll's titles in its text columns.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    spec: dict = {"title": default_title, "questions": []}
    for row in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        texts = {lang: row.get(f"text_{lang}", "") for lang in LANGUAGES if row.get(f"text_{lang}")}
        if row.get("text") and "en" not in texts:
            texts["en"] = row["text"]
        if row.get("kind", "").lower() == "title":
            spec["title"] = texts or default_title
            continue
        question = {"kind": row.get("kind", ""), "key": row.get("key", ""), "text": texts,
                    "optional": row.get("optional", "").lower() in ("1", "yes", "true", "y")}
        options = {lang: row[f"options_{lang}"].split("|") for lang in LANGUAGES if row.get(f"options_{lang}")}
        if row.get("options") and "en" not in options:
            options["en"] = row["options"].split("|")
        if options:
            question["options"] = options
        spec["questions"].append(question)
    return spec


# ---------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Schedule:
    start_local: datetime  # naive local date and time of the first round
    every_months: int = 0  # 0: once
    remind_days: int = 3  # 0: no reminder
    close_days: int = 7
    window_hours: int = 2
    window_days: int = 1


def schedule_poll(session: Session, poll: Poll, cluster: Cluster, schedule: Schedule, now: datetime,
                  audience: str | None = None, actor: str = "") -> Poll:
    """Set when a poll runs; checked so that a round's window, reminder and close follow in order."""
    s = schedule
    if poll.status == "cancelled":
        raise PollError("cancelled")
    if not 0 <= s.every_months <= 24:
        raise PollError("bad_every", str(s.every_months))
    if not 1 <= s.window_days <= 7 or not 0 <= s.window_hours <= 12:
        raise PollError("bad_window")
    if not 1 <= s.close_days <= 90 or not 0 <= s.remind_days < s.close_days:
        raise PollError("bad_close")
    if s.window_days - 1 + (1 if s.window_hours else 0) > s.close_days:
        raise PollError("bad_window")
    if s.every_months and s.close_days >= s.every_months * 28:
        raise PollError("bad_close")
    start = to_utc(s.start_local, cluster.timezone)
    if start < now - timedelta(days=1):
        raise PollError("start_past", s.start_local.isoformat(sep=" ", timespec="minutes"))
    if audience is not None:
        poll.audience = _audience(audience)
    poll.start_at = start
    poll.every_months, poll.remind_days, poll.close_days = s.every_months, s.remind_days, s.close_days
    poll.window_hours, poll.window_days = s.window_hours, s.window_days
    poll.status = "scheduled"
    session.add(poll)
    audit.record(session, "poll.schedule", cluster_id=cluster.id, actor=actor or "unknown",
                 subject=f"poll {poll.id}", start=s.start_local.isoformat(), every_months=s.every_months)
    return poll


def cancel_poll(session: Session, poll: Poll, now: datetime, actor: str = "") -> Poll:
    """Stop a poll: no further rounds; an open round closes now."""
    poll.status = "cancelled"
    session.add(poll)
    for rnd in session.exec(select(PollRound).where(PollRound.poll_id == poll.id, PollRound.status != "closed")):
        close_round(session, rnd, now)
    audit.record(session, "poll.cancel", cluster_id=poll.cluster_id, actor=actor or "unknown",
                 subject=f"poll {poll.id}")
    return poll


def to_utc(local: datetime, tz: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))


def _add_months(day: date, months: int, day_of_month: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def round_due(poll: Poll, tz: str, index: int) -> datetime:
    """When round `index` (0 = first) opens: the start's local time, N months later, on the start's day."""
    start = poll.start_at.astimezone(ZoneInfo(tz))
    day = _add_months(start.date(), index * poll.every_months, start.day)
    return to_utc(datetime.combine(day, start.time().replace(tzinfo=None)), tz)


def next_due(poll: Poll, tz: str, last_due: datetime | None) -> datetime | None:
    """The first scheduled opening after the last round's; None when a one-off poll has run."""
    if poll.start_at is None:
        return None
    if not poll.every_months:
        first = round_due(poll, tz, 0)
        return first if last_due is None or first > last_due else None
    index = 0
    while True:
        due = round_due(poll, tz, index)
        if last_due is None or due > last_due:
            return due
        index += 1


def slot_times(due_at: datetime, tz: str, count: int, window_hours: int, window_days: int) -> list[datetime]:
    """Send times for `count` recipients spread evenly over the window's 10-minute slots, day by day.

    Days are added in local time, so a window stays 18:00-20:00 across a daylight-saving change.
    """
    local = due_at.astimezone(ZoneInfo(tz))
    per_day = window_hours * 60 // SLOT_MINUTES
    total = per_day * window_days
    times = []
    for i in range(count):
        if total <= 0:
            times.append(due_at)
            continue
        slot = i * total // count
        day, within = divmod(slot, per_day)
        moment = datetime.combine(local.date() + timedelta(days=day), local.time().replace(tzinfo=None))
        times.append(to_utc(moment + timedelta(minutes=within * SLOT_MINUTES), tz))
    return times


def _spread_order(round_key: str, member_id: int) -> str:
    """A stable shuffle: the same members are not always the first asked, yet a rerun gives the same order."""
    return hashlib.sha256(f"{round_key}:{member_id}".encode()).hexdigest()


# ---------------------------------------------------------------- rounds


def rounds_to_open(session: Session, now: datetime) -> list[tuple[Poll, Cluster, int, datetime]]:
    """Scheduled polls whose next round is due: (poll, cluster, round number, due time)."""
    due = []
    for poll in session.exec(select(Poll).where(Poll.status == "scheduled").order_by(Poll.id)):
        cluster = session.get(Cluster, poll.cluster_id)
        last = session.exec(select(PollRound).where(PollRound.poll_id == poll.id)
                            .order_by(PollRound.number.desc())).first()
        when = next_due(poll, cluster.timezone, last.due_at if last else None)
        if when is None:
            poll.status = "done"
            session.add(poll)
        elif when <= now:
            due.append((poll, cluster, (last.number if last else 0) + 1, when))
    return due


def open_round(session: Session, poll: Poll, cluster: Cluster, number: int, due_at: datetime,
               now: datetime) -> PollRound | None:
    """Create round `number` with its recipients and their send slots; None if it already exists."""
    rnd = PollRound(poll_id=poll.id, number=number, due_at=due_at, opened_at=now,
                    closes_at=due_at + timedelta(days=poll.close_days))
    if not insert_once(session, rnd):
        return None
    try:
        members = select_members(session, cluster, parse_segment(poll.audience))
    except SegmentError:
        members = []
    members.sort(key=lambda m: _spread_order(f"{poll.id}:{number}", m.id))
    for member, slot in zip(members, slot_times(due_at, cluster.timezone, len(members), poll.window_hours,
                                                poll.window_days), strict=True):
        session.add(PollRecipient(round_id=rnd.id, member_id=member.id, slot_at=slot))
    session.flush()
    return rnd


def close_round(session: Session, rnd: PollRound, now: datetime) -> PollRound:
    rnd.status = "closed"
    rnd.closed_at = now
    session.add(rnd)
    return rnd


def rounds_to_close(session: Session, now: datetime) -> list[PollRound]:
    return list(session.exec(select(PollRound).where(PollRound.status != "closed", PollRound.closes_at <= now)
                             .order_by(PollRound.id)))


def sends_due(session: Session, now: datetime, limit: int = 500) -> list[tuple[PollRecipient, PollRound]]:
    """Recipients whose slot has come in a round still open and who were not asked yet."""
    rows = session.exec(select(PollRecipient, PollRound).join(PollRound, PollRound.id == PollRecipient.round_id)
                        .where(PollRound.status != "closed", PollRound.closes_at > now,
                               PollRecipient.sent_at == None, PollRecipient.slot_at <= now)  # noqa: E711
                        .order_by(PollRecipient.slot_at, PollRecipient.id).limit(limit))
    return list(rows.all())


def reminders_due(session: Session, now: datetime, limit: int = 500) -> list[tuple[PollRecipient, PollRound]]:
    """Recipients asked at least `remind_days` ago who have answered nothing: non-respondents only."""
    answered = select(PollResponse.member_id).where(PollResponse.round_id == PollRecipient.round_id,
                                                    PollResponse.skipped == False)  # noqa: E712
    rows = session.exec(
        select(PollRecipient, PollRound).join(PollRound, PollRound.id == PollRecipient.round_id)
        .join(Poll, Poll.id == PollRound.poll_id)
        .where(PollRound.status != "closed", PollRound.closes_at > now, Poll.remind_days > 0,
               PollRecipient.sent_at != None, PollRecipient.reminded_at == None,  # noqa: E711
               ~PollRecipient.member_id.in_(answered))
        .order_by(PollRecipient.slot_at, PollRecipient.id).limit(limit))
    due = []
    for recipient, rnd in rows.all():
        poll = session.get(Poll, rnd.poll_id)
        if recipient.slot_at + timedelta(days=poll.remind_days) <= now:
            due.append((recipient, rnd))
    return due


def mark_reminded(session: Session, recipient: PollRecipient, rnd: PollRound, now: datetime) -> None:
    recipient.reminded_at = now
    session.add(recipient)
    if rnd.status == "open":
        rnd.status, rnd.reminder_at = "reminder", now
        session.add(rnd)


def get_poll(session: Session, cluster: Cluster, poll_id: int) -> Poll | None:
    poll = session.get(Poll, poll_id)
    return poll if poll is not None and poll.cluster_id == cluster.id else None


def cluster_polls(session: Session, cluster: Cluster) -> list[Poll]:
    return list(session.exec(select(Poll).where(Poll.cluster_id == cluster.id).order_by(Poll.id.desc())))


def questions(session: Session, poll: Poll) -> list[PollQuestion]:
    return list(session.exec(select(PollQuestion).where(PollQuestion.poll_id == poll.id)
                             .order_by(PollQuestion.position)))


def rounds(session: Session, poll: Poll) -> list[PollRound]:
    return list(session.exec(select(PollRound).where(PollRound.poll_id == poll.id).order_by(PollRound.number)))


def latest_round(session: Session, poll: Poll) -> PollRound | None:
    return session.exec(select(PollRound).where(PollRound.poll_id == poll.id)
                        .order_by(PollRound.number.desc())).first()


def recipient(session: Session, rnd: PollRound, member: Member) -> PollRecipient | None:
    return session.exec(select(PollRecipient).where(PollRecipient.round_id == rnd.id,
                                                    PollRecipient.member_id == member.id)).first()


def pending_rounds(session: Session, member: Member, now: datetime) -> list[PollRound]:
    """Open rounds that asked this member and that they have not finished, oldest first."""
    rows = session.exec(select(PollRound).join(PollRecipient, PollRecipient.round_id == PollRound.id)
                        .where(PollRecipient.member_id == member.id, PollRecipient.sent_at != None,  # noqa: E711
                               PollRecipient.finished_at == None, PollRound.status != "closed",  # noqa: E711
                               PollRound.closes_at > now)
                        .order_by(PollRound.opened_at, PollRound.id))
    return list(rows.all())


# ---------------------------------------------------------------- answers


def answers_of(session: Session, rnd: PollRound, member: Member) -> dict[int, PollResponse]:
    rows = session.exec(select(PollResponse).where(PollResponse.round_id == rnd.id,
                                                   PollResponse.member_id == member.id))
    return {r.question_id: r for r in rows}


def next_question(session: Session, rnd: PollRound, member: Member) -> PollQuestion | None:
    """The first question, in order, this member has neither answered nor skipped."""
    done = answers_of(session, rnd, member)
    poll = session.get(Poll, rnd.poll_id)
    return next((q for q in questions(session, poll) if q.id not in done), None)


def check_value(question: PollQuestion, value: int | None, text: str = "") -> None:
    if question.kind == "text":
        if not text.strip() or len(text) > TEXT_LIMIT:
            raise PollError("bad_text")
        return
    low, high = question.scale
    if value is None or not low <= value <= high:
        raise PollError("out_of_range", f"{low}-{high}")


def record_answer(session: Session, rnd: PollRound, member: Member, question: PollQuestion, now: datetime, *,
                  value: int | None = None, text: str = "", skipped: bool = False) -> PollResponse:
    """Store one answer; a second answer to the same question replaces the first while the round is open."""
    rnd = lock_row(session, PollRound, rnd.id)
    if not rnd.is_open(now):
        raise PollError("closed")
    if question.poll_id != rnd.poll_id:
        raise PollError("not_found")
    if recipient(session, rnd, member) is None:
        raise PollError("not_recipient")
    if skipped:
        if not question.optional:
            raise PollError("not_optional")
        value, text = None, ""
    else:
        check_value(question, value, text)
    fields = {"value": value, "text": text.strip()[:TEXT_LIMIT], "skipped": skipped, "answered_at": now}
    row = PollResponse(round_id=rnd.id, question_id=question.id, member_id=member.id, **fields)
    if not insert_once(session, row):
        row = session.exec(select(PollResponse).where(PollResponse.round_id == rnd.id,
                                                      PollResponse.member_id == member.id,
                                                      PollResponse.question_id == question.id)).one()
        for name, new in fields.items():
            setattr(row, name, new)
        session.add(row)
    session.flush()
    return row


def mark_finished(session: Session, rnd: PollRound, member: Member, now: datetime) -> None:
    row = recipient(session, rnd, member)
    if row is not None and row.finished_at is None:
        row.finished_at = now
        session.add(row)


# ---------------------------------------------------------------- results


@dataclass
class QuestionResult:
    question: PollQuestion
    answers: int = 0
    skipped: int = 0
    distribution: dict[int, int] = field(default_factory=dict)  # value -> count, every value of the scale
    mean: float | None = None
    score: float | None = None  # 0-10 questions: % promoters (9-10) minus % detractors (0-6)
    texts: list[str] = field(default_factory=list)


@dataclass
class RoundResult:
    round: PollRound
    recipients: int
    respondents: int
    questions: list[QuestionResult]

    @property
    def rate(self) -> float | None:
        """Unique members who answered at least one question over the members asked; never sends."""
        return self.respondents / self.recipients if self.recipients else None

    def by_position(self) -> dict[int, QuestionResult]:
        return {r.question.position: r for r in self.questions}


@dataclass
class GroupResult:
    dimension: str
    group: str
    respondents: int
    questions: dict[int, QuestionResult | None]  # by position; None: fewer than MIN_GROUP answers


def question_result(question: PollQuestion, responses: list) -> QuestionResult:
    """`responses`: rows with question_id, member_id, value, text and skipped (PollResponse or its columns)."""
    answered = [r for r in responses if not r.skipped]
    result = QuestionResult(question, answers=len(answered), skipped=len(responses) - len(answered))
    if question.kind == "text":
        result.texts = [r.text for r in answered]
        return result
    low, high = question.scale
    counts = Counter(r.value for r in answered)
    result.distribution = {v: counts.get(v, 0) for v in range(low, high + 1)}
    if answered and question.kind != "choice":
        values = [r.value for r in answered]
        if question.kind == "yesno":
            values = [1 if v == 1 else 0 for v in values]  # mean of a yes/no question: the share of yes
        result.mean = sum(values) / len(values)
    if answered and question.kind == "score":
        promoters = sum(1 for r in answered if r.value >= 9)
        detractors = sum(1 for r in answered if r.value <= 6)
        result.score = 100 * (promoters - detractors) / len(answered)
    return result


def round_results(session: Session, rnd: PollRound, members: set[int] | None = None) -> RoundResult:
    """Figures for one round, optionally over a subset of members (a segment or a group)."""
    poll = session.get(Poll, rnd.poll_id)
    recipients = [m for m in session.exec(select(PollRecipient.member_id).where(PollRecipient.round_id == rnd.id))
                  if members is None or m in members]
    # only the columns the arithmetic reads: a round of 100,000 answers loads in a fraction of the time
    responses = [r for r in session.exec(select(PollResponse.question_id, PollResponse.member_id,
                                                PollResponse.value, PollResponse.text, PollResponse.skipped)
                                         .where(PollResponse.round_id == rnd.id))
                 if members is None or r.member_id in members]
    respondents = {r.member_id for r in responses if not r.skipped}
    by_question: dict[int, list] = {}
    for r in responses:
        by_question.setdefault(r.question_id, []).append(r)
    return RoundResult(rnd, len(recipients), len(respondents),
                       [question_result(q, by_question.get(q.id, [])) for q in questions(session, poll)])


def breakdown(session: Session, rnd: PollRound, dimension: str) -> tuple[list[GroupResult], int]:
    """Results per group of members (by gender, sector, location or role) and how many groups were hidden.

    A group's figures for a question are shown only from MIN_GROUP answers up; a group with fewer than
    MIN_GROUP respondents is left out entirely, so that no one's answers can be picked out.
    """
    if dimension not in DIMENSIONS:
        raise PollError("bad_dimension", dimension)
    ids = set(session.exec(select(PollRecipient.member_id).where(PollRecipient.round_id == rnd.id)))
    groups: dict[str, set[int]] = {}
    for member in session.exec(select(Member).where(Member.id.in_(ids))):
        value = " ".join((getattr(member, dimension) or "").split()).casefold() or "-"
        groups.setdefault(value, set()).add(member.id)
    shown, hidden = [], 0
    for group, members in sorted(groups.items()):
        result = round_results(session, rnd, members)
        if result.respondents < MIN_GROUP:
            hidden += 1
            continue
        shown.append(GroupResult(dimension, group, result.respondents,
                                 {q.question.position: (q if q.answers >= MIN_GROUP else None)
                                  for q in result.questions}))
    return shown, hidden


def previous_round(session: Session, rnd: PollRound) -> PollRound | None:
    return session.exec(select(PollRound).where(PollRound.poll_id == rnd.poll_id,
                                                PollRound.number < rnd.number)
                        .order_by(PollRound.number.desc())).first()


def change(current: RoundResult, previous: RoundResult | None) -> dict[str, float | None]:
    """Differences against the previous round: `rate`, and `mean:<position>` / `score:<position>`."""
    if previous is None:
        return {}
    diff: dict[str, float | None] = {}
    if current.rate is not None and previous.rate is not None:
        diff["rate"] = current.rate - previous.rate
    before = previous.by_position()
    for result in current.questions:
        old = before.get(result.question.position)
        if old is None or old.question.kind != result.question.kind:
            continue
        for name in ("mean", "score"):
            new_value, old_value = getattr(result, name), getattr(old, name)
            if new_value is not None and old_value is not None:
                diff[f"{name}:{result.question.position}"] = new_value - old_value
    return diff


def segment_members(session: Session, cluster: Cluster, segment_text: str) -> set[int]:
    """Every member of the cluster a segment describes, for results over one segment."""
    try:
        segment = parse_segment(segment_text)
    except SegmentError as exc:
        raise PollError("bad_audience", exc.code) from exc
    return {m.id for m in select_members(session, cluster, segment)}


def answered_count(session: Session, rnd: PollRound) -> int:
    return session.exec(select(func.count(func.distinct(PollResponse.member_id)))
                        .where(PollResponse.round_id == rnd.id, PollResponse.skipped == False)).one()  # noqa: E712


def forget_member(session: Session, member_id: int) -> None:
    """Erasing a member: their free-text answers go (they may name people); every answer row stays, so
    response rates and counts are unchanged."""
    session.execute(update(PollResponse).where(PollResponse.member_id == member_id, PollResponse.text != "")
                    .values(text=""))


# ---------------------------------------------------------------- exports


def _local(moment, cluster: Cluster) -> str:
    return local(moment, cluster)


def polls_rows(session: Session, cluster: Cluster) -> tuple[list[str], Iterator[list]]:
    """One row per round (a poll never sent has one row with no round)."""
    columns = ["poll", "title", "status", "anonymous", "audience", "questions", "every_months", "round",
               "due_at", "opened_at", "closes_at", "closed_at", "recipients", "respondents", "response_rate"]

    def rows():
        for poll in sorted(cluster_polls(session, cluster), key=lambda p: p.id):
            head = [poll.id, poll.title, poll.status, poll.anonymous, poll.audience,
                    len(questions(session, poll)), poll.every_months]
            poll_rounds = rounds(session, poll)
            if not poll_rounds:
                yield [*head, "", "", "", "", "", "", "", ""]
            for rnd in poll_rounds:
                result = round_results(session, rnd)
                yield [*head, rnd.number, _local(rnd.due_at, cluster), _local(rnd.opened_at, cluster),
                       _local(rnd.closes_at, cluster), _local(rnd.closed_at, cluster), result.recipients,
                       result.respondents, "" if result.rate is None else round(result.rate, 4)]

    return columns, rows()


def responses_rows(session: Session, cluster: Cluster) -> tuple[list[str], Iterator[list]]:
    """Every answer. For anonymous polls the member and the time are left out and rows are ordered by
    answer, so neither a column nor the order of rows points to a person."""
    columns = ["poll", "round", "question", "key", "kind", "value", "answer", "skipped", "answered_at",
               "member_number"]

    def rows():
        for poll in sorted(cluster_polls(session, cluster), key=lambda p: p.id):
            by_id = {q.id: q for q in questions(session, poll)}
            for rnd in rounds(session, poll):
                found = session.exec(select(PollResponse, Member.number)
                                     .join(Member, Member.id == PollResponse.member_id)
                                     .where(PollResponse.round_id == rnd.id)).all()
                out = []
                for response, number in found:
                    q = by_id[response.question_id]
                    label = _answer_label(q, response)
                    out.append([poll.id, rnd.number, q.position, q.key, q.kind,
                                "" if response.value is None else response.value, label, response.skipped,
                                "" if poll.anonymous else _local(response.answered_at, cluster),
                                "" if poll.anonymous else number])
                yield from sorted(out, key=lambda row: (row[2], str(row[5]), row[6], str(row[9])))

    return columns, rows()


def _answer_label(question: PollQuestion, response: PollResponse) -> str:
    if response.skipped:
        return ""
    if question.kind == "text":
        return response.text
    if question.kind == "choice":
        return question.options_in("en")[response.value - 1]
    if question.kind == "yesno":
        return "yes" if response.value == 1 else "no"
    return str(response.value)


EXPORTS = {"polls": polls_rows, "responses": responses_rows}
