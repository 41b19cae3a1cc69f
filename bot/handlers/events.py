"""Events over SMS and Telegram: a facilitator creates and publishes, members answer, remind, check in.

Members: EVENTS, YES/NO/MAYBE id, HERE id code. Facilitators: NEWEVENT (a guided conversation), PUBLISH id,
EVENT [id], MOVE id date time, CANCELEVENT id, ATTEND id member... The scheduler job sends the reminders.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from sqlmodel import Session

from bot import outbox, router, sms
from bot.context import ACTIVE, FACILITATOR, Command, Ctx, Flow
from bot.handlers.choices import buttons, pick
from bot.i18n import N_, format_timestamp
from storage import events as store
from storage.clusters import Cluster
from storage.events import Event, EventError
from storage.members import Member, find_member
from storage.segments import SegmentError, count_members, describe, parse_segment

KIND_CHOICES = [("workshop", N_("Workshop")), ("training", N_("Training")), ("meeting", N_("Meeting")),
                ("trade_fair", N_("Trade fair")), ("study_tour", N_("Study tour")),
                ("buyer_visit", N_("Buyer visit")), ("other", N_("Other event"))]
ANSWER_BUTTONS = [(N_("Yes"), "YES {}"), (N_("No"), "NO {}"), (N_("Maybe"), "MAYBE {}")]
CONFIRM_BUTTONS = [(N_("Publish"), "1"), (N_("Draft"), "2"), (N_("Drop"), "3")]
STATE_LABELS = {"invited": N_("not answered"), "yes": N_("coming"), "no": N_("not coming"),
                "maybe": N_("maybe"), "waitlist": N_("waitlist"), "draft": N_("draft"),
                "published": N_("published"), "cancelled": N_("cancelled")}

ERRORS = {
    "unknown_event": N_("There is no event {event_id}. Send EVENTS to see your invitations."),
    "not_invited": N_("You are not invited to event {event_id}."),
    "cancelled": N_("Event {event_id} was cancelled; nothing changed."),
    "started": N_("Event {event_id} has already started; nothing changed."),
    "deadline": N_("Answers for event {event_id} closed on {deadline}; nothing changed."),
    "wrong_code": N_("That is not the check-in code of event {event_id}. Ask the facilitator for it."),
    "checkin_closed": N_("Check-in for event {event_id} opens 2 hours before the start and closes "
                         "12 hours after the end."),
    "not_published": N_("Event {event_id} is not published yet."),
    "not_draft": N_("Event {event_id} is already published; nothing changed."),
    "past": N_("That time is already past. Send a date and time to come, e.g. 12/12 14:00"),
    "bad_end": N_("The end must be after the start, e.g. 12/12 14:00-17:00"),
    "bad_deadline": N_("The answer deadline must be before the start and still to come, e.g. 10/12 18:00, "
                       "or 0 for none."),
    "empty_segment": N_("No active member is in that segment. Nothing was sent."),
    "bad_reminders": N_("Reminder times look like 1d,2h (days, hours or minutes before the start)."),
}
UNKNOWN = "unknown_event"
SEGMENT_ERRORS = {
    "unknown_key": N_("I do not know {word}. Use all, or sector:, location:, gender:, role:, event:"),
    "bad_gender": N_("Gender must be F or M, e.g. gender:F"),
    "bad_role": N_("Role must be firm, government, academia or support, e.g. role:academia"),
    "bad_event": N_("There is no event {word} to take members from."),
    "unknown_event": N_("There is no event {word} to take members from."),
}
SEGMENT_HINT = N_("Whom to invite? Send ALL, or terms like sector:tailoring location:Moshi gender:F "
                  "role:academia event:12")


# Reading dates and times as facilitators write them, in the cluster's timezone.

class WhenError(ValueError):
    """The text is not a date and time we can read (code "format") or lacks the time (code "no_time")."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _month_names() -> dict[str, int]:
    names: dict[str, int] = {"sept": 9}
    for lang in ("en", "sw", "fr"):
        months = Locale.parse(lang).months
        for context in ("format", "stand-alone"):
            for width in ("abbreviated", "wide"):
                for number, name in months[context][width].items():
                    names.setdefault(router.fold(name).strip("."), number)
    return names


MONTHS = _month_names()
DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DATE_NUM = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?$")
TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?h?\s*(am|pm)?$")
RANGE = re.compile(r"\s*-\s*|\s+(?:to|hadi|mpaka|a)\s+")
ROLLOVER = timedelta(days=60)


def _date_words(words: list[str], today: date) -> tuple[date, list[str]]:
    """The date at the front of the words and the words left; a date without a year is the coming one."""
    year = month = day = None
    rest = words[1:]
    if m := DATE_ISO.match(words[0]):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := DATE_NUM.match(words[0]):
        day, month = int(m[1]), int(m[2])
        year = (2000 + int(m[3]) if len(m[3]) == 2 else int(m[3])) if m[3] else None
    elif len(words) >= 2 and words[0].isdecimal() and words[1].strip(".") in MONTHS:
        day, month, rest = int(words[0]), MONTHS[words[1].strip(".")], words[2:]
    elif len(words) >= 2 and words[0].strip(".") in MONTHS and words[1].isdecimal():
        day, month, rest = int(words[1]), MONTHS[words[0].strip(".")], words[2:]
    else:
        raise WhenError("format")
    if year is None and rest and re.fullmatch(r"\d{4}", rest[0]):
        year, rest = int(rest[0]), rest[1:]
    try:
        found = date(year or today.year, month, day)
        if year is None and found < today - ROLLOVER:
            found = date(today.year + 1, month, day)
    except ValueError as exc:
        raise WhenError("format") from exc
    return found, rest


def _clock(text: str) -> tuple[int, int]:
    m = TIME.match(text.strip())
    if not m:
        raise WhenError("format")
    hour, minute = int(m[1]), int(m[2] or 0)
    if m[3] == "pm" and hour < 12:
        hour += 12
    elif m[3] == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or (m[3] and not 1 <= int(m[1]) <= 12):
        raise WhenError("format")
    return hour, minute


def parse_when(text: str, tz: str, now: datetime, *, need_time: bool = True) -> tuple[datetime, datetime | None]:
    """Start (and end, when a range is given) in UTC from '12/12 14:00', '2026-12-12 14:00-17:00',
    '12 Dec 2pm'... read in the cluster's timezone. A date alone means the end of that day."""
    words = router.fold(text).replace(",", " ").replace("\u2013", "-").split()
    if not words:
        raise WhenError("format")
    zone = ZoneInfo(tz)
    day, rest = _date_words(words, now.astimezone(zone).date())
    times = [part for part in RANGE.split(" ".join(rest)) if part] if rest else []
    if not times:
        if need_time:
            raise WhenError("no_time")
        times = ["23:59"]
    if len(times) > 2:
        raise WhenError("format")
    moments = [datetime(day.year, day.month, day.day, *_clock(t), tzinfo=zone).astimezone(UTC) for t in times]
    return moments[0], moments[1] if len(moments) > 1 else None


# Words used by several commands.

def _event_id(text: str) -> str:
    return text.strip().lstrip("#")[:12]


def _error(ctx: Ctx, code: str, **kwargs) -> None:
    """Word a refusal from the ERRORS table; every placeholder any of them uses gets a value."""
    kwargs.setdefault("event_id", "")
    kwargs.setdefault("deadline", ctx.now)
    ctx.reply(ERRORS.get(code) or ERRORS[UNKNOWN], **kwargs)


def _refuse(ctx: Ctx, exc: EventError, event_id: str | int) -> None:
    event = store.get_event(ctx.session, ctx.cluster, event_id)
    _error(ctx, exc.code, event_id=str(event_id)[:12], deadline=event.deadline if event else ctx.now)


def _numbered(ctx: Ctx, header: str, items: list[str]) -> str:
    """The header with as many items as fit one segment."""
    shown = 1
    while shown < len(items) and _fits(ctx.t(header, events="; ".join(items[:shown + 1]))):
        shown += 1
    return ctx.t(header, events="; ".join(items[:shown]))


def _fits(text: str) -> bool:
    return sms.fits(text) and len(text) <= 160


def _short(ctx: Ctx, moment: datetime) -> str:
    """'12 Mar 14:00': a date short enough for several events in one SMS."""
    return format_timestamp(moment, ctx.lang, ctx.timezone, ctx.region)


def send_invitations(session: Session, cluster: Cluster, event: Event, members: list[Member]) -> int:
    """Queue one invitation per member, in their language; the dispatcher paces the sending."""
    sent = 0
    for member in members:
        sent += outbox.notify(
            session, member, "Invitation: {event}, {start}, {venue}. Reply YES {event_id}, NO {event_id} "
            "or MAYBE {event_id}.", kind="invitation", batch=f"event:{event.id}", in_cluster=cluster,
            buttons=[(label, value.format(event.id)) for label, value in ANSWER_BUTTONS],
            event=event.title, start=event.starts_at, venue=event.place, event_id=event.id) is not None
    return sent


# Members: list, answer, check in.

def list_events(ctx: Ctx) -> None:
    rows = store.upcoming_for(ctx.session, ctx.member, ctx.now)
    if not rows:
        ctx.reply("You have no upcoming invitations.")
        return
    items = []
    for event, invitation in rows:
        state = ctx.t(STATE_LABELS[invitation.state])
        if invitation.state == "waitlist":
            state = f"{state} {store.position(ctx.session, invitation)}"
        items.append(f"{event.id} {event.title} {_short(ctx, event.starts_at)} ({state})")
    ctx.say(_numbered(ctx, N_("Your events: {events}. Reply YES, NO or MAYBE and the number."), items))


def yes(ctx: Ctx) -> None:
    _answer(ctx, "yes")


def no(ctx: Ctx) -> None:
    _answer(ctx, "no")


def maybe(ctx: Ctx) -> None:
    _answer(ctx, "maybe")


def _answer(ctx: Ctx, choice: str) -> None:
    ref = _event_id(router.split_first(ctx.args)[0])
    if not ref:
        open_ = store.open_invitations(ctx.session, ctx.member, ctx.now)
        if len(open_) != 1:
            ctx.reply("Send {keyword} and the event number, e.g. {keyword} 12. Send EVENTS to see your "
                      "invitations.", keyword=router.keyword(ctx.command, ctx.lang))
            return
        ref = str(open_[0].id)
    if not ref.isdecimal():
        _error(ctx, "unknown_event", event_id=ref)
        return
    try:
        result = store.answer(ctx.session, ctx.cluster, int(ref), ctx.member, choice, now=ctx.now,
                              channel=ctx.channel)
    except EventError as exc:
        _refuse(ctx, exc, ref)
        return
    event = ctx.session.get(Event, int(ref))
    state = result.invitation.state
    if state == "yes":
        ctx.reply("You are coming to {event}, {start}, {venue}. At the venue send HERE {event_id} and the code.", event=event.title, start=event.starts_at, venue=event.place, event_id=event.id)
    elif state == "waitlist":
        ctx.reply("{event} is full. You are number {position} on the waitlist; we will tell you if a place "
                  "opens.", event=event.title, position=result.position)
    elif state == "no":
        ctx.reply("Noted: you will not come to {event}. Thank you for telling us.", event=event.title)
    else:
        ctx.reply("Noted: maybe for {event}, {start}. Send YES {event_id} when you are sure.",
                  event=event.title, start=event.starts_at, event_id=event.id)
    for member in result.promoted:
        outbox.notify(ctx.session, member, "A place opened: you are coming to {event}, {start}, {venue}. "
                      "Send NO {event_id} if you cannot.", in_cluster=ctx.cluster,
                      event=event.title, start=event.starts_at, venue=event.place, event_id=event.id)


def here(ctx: Ctx) -> None:
    ref, code = router.split_first(ctx.args)
    ref = _event_id(ref)
    if not ref or not code:
        ctx.reply("Send HERE, the event number and the code you were given, e.g. HERE 12 4821")
        return
    try:
        _checkin, _new = store.check_in(ctx.session, ctx.cluster, ref, ctx.member, code, ctx.now)
    except EventError as exc:
        _refuse(ctx, exc, ref)
        return
    event = ctx.session.get(Event, int(ref))
    ctx.reply("Welcome to {event}, {name}! Your attendance is recorded.", event=event.title, name=ctx.member.name)


# Facilitators: create, publish, summarise, move, cancel, mark attendance.

def new_event(ctx: Ctx) -> None:
    ctx.start_flow("events.create", "title", {})
    ctx.reply("New event. What is its title? (up to 32 letters)")


def create_step(ctx: Ctx) -> None:
    step, data, text = ctx.conversation.step, ctx.data, ctx.text.strip()
    handler = CREATE_STEPS[step]
    handler(ctx, data, text)


def _step_title(ctx: Ctx, data: dict, text: str) -> None:
    if not 2 <= len(text) <= store.TITLE_MAX or not any(ch.isalpha() for ch in text):
        ctx.reply("Please send a title of 2 to 32 letters.")
        return
    data["title"] = " ".join(text.split())
    ctx.set_step("kind", data)
    _ask_kind(ctx)


def _ask_kind(ctx: Ctx) -> None:
    ctx.reply("What kind of event? 1 Workshop, 2 Training, 3 Meeting, 4 Trade fair, 5 Study tour, 6 Buyer visit, "
              "7 Other", buttons=buttons(KIND_CHOICES))


def _step_kind(ctx: Ctx, data: dict, text: str) -> None:
    kind = pick(text, KIND_CHOICES)
    if kind is None:
        _ask_kind(ctx)
        return
    data["kind"] = kind
    ctx.set_step("when", data)
    ctx.reply("When does it start? Send date and time, e.g. 12/12 14:00 or 12 Dec 09:00-13:00")


def _step_when(ctx: Ctx, data: dict, text: str) -> None:
    try:
        start, end = parse_when(text, ctx.timezone, ctx.now)
        store.check_schedule(start, end or start + store.DEFAULT_LENGTH, None, ctx.now)
    except WhenError:
        ctx.reply("Please send a date and time, e.g. 12/12 14:00, 2026-12-12 14:00 or 12 Dec 14:00")
        return
    except EventError as exc:
        _error(ctx, exc.code)
        return
    data["start"], data["end"] = start.isoformat(), (end or start + store.DEFAULT_LENGTH).isoformat()
    ctx.set_step("place", data)
    ctx.reply("Where will it be? (place, up to 32 letters)")


def _step_place(ctx: Ctx, data: dict, text: str) -> None:
    if not 2 <= len(text) <= store.PLACE_MAX:
        ctx.reply("Please send a place of 2 to 32 letters.")
        return
    data["place"] = " ".join(text.split())
    ctx.set_step("capacity", data)
    ctx.reply("How many places? Send a number, or 0 for no limit.")


def _step_capacity(ctx: Ctx, data: dict, text: str) -> None:
    if not text.isdecimal() or int(text) > store.MAX_CAPACITY:
        ctx.reply("Please send a number of places, or 0 for no limit.")
        return
    data["capacity"] = int(text)
    ctx.set_step("deadline", data)
    ctx.reply("Until when may members answer? Send a date and time, e.g. 10/12 18:00, or 0 to accept answers "
              "until the start.")


def _step_deadline(ctx: Ctx, data: dict, text: str) -> None:
    deadline = None
    if text != "0":
        try:
            deadline, _end = parse_when(text, ctx.timezone, ctx.now, need_time=False)
        except WhenError:
            _error(ctx, "bad_deadline")
            return
        if not ctx.now < deadline <= datetime.fromisoformat(data["start"]):
            _error(ctx, "bad_deadline")
            return
    data["deadline"] = deadline.isoformat() if deadline else ""
    ctx.set_step("segment", data)
    ctx.reply(SEGMENT_HINT)


def _segment_or_reply(ctx: Ctx, text: str) -> str | None:
    """The canonical segment and its reach, or None after replying what is wrong."""
    try:
        segment = parse_segment(text)
        reach = count_members(ctx.session, ctx.cluster, segment)
    except SegmentError as exc:
        if exc.code in SEGMENT_ERRORS:
            ctx.reply(SEGMENT_ERRORS[exc.code], word=exc.detail[:20])
        else:
            ctx.reply(SEGMENT_HINT)
        return None
    if reach == 0:
        ctx.reply("No active member is in that segment. Send another one, or ALL.")
        return None
    return describe(segment)


def _step_segment(ctx: Ctx, data: dict, text: str) -> None:
    segment = _segment_or_reply(ctx, text)
    if segment is None:
        return
    data["segment"] = segment
    ctx.set_step("confirm", data)
    reach = count_members(ctx.session, ctx.cluster, parse_segment(segment))
    ctx.reply("{event}, {start}: {count} members invited. Reply 1 to publish now, 2 to keep as a draft, "
              "3 to drop it.", event=data["title"], start=datetime.fromisoformat(data["start"]), count=reach,
              buttons=CONFIRM_BUTTONS)


def _step_confirm(ctx: Ctx, data: dict, text: str) -> None:
    found = router.match(text)
    choice = {"YES": "1", "NO": "3"}.get(found.command, text) if found else text
    if choice == "3":
        ctx.end_flow()
        ctx.reply("Dropped. Nothing was saved.")
        return
    if choice not in ("1", "2"):
        ctx.reply("Reply 1 to publish now, 2 to keep as a draft, 3 to drop it.")
        return
    try:
        event = store.create_event(
            ctx.session, ctx.cluster, title=data["title"], kind=data["kind"], now=ctx.now,
            starts_at=datetime.fromisoformat(data["start"]), ends_at=datetime.fromisoformat(data["end"]),
            place=data["place"], capacity=data["capacity"], segment=data["segment"], created_by=ctx.member,
            rsvp_deadline=datetime.fromisoformat(data["deadline"]) if data["deadline"] else None)
    except EventError as exc:
        ctx.end_flow()
        _error(ctx, exc.code)
        return
    ctx.end_flow()
    if choice == "2":
        ctx.reply("Saved as draft event {event_id}. Send PUBLISH {event_id} when it is ready.", event_id=event.id)
        return
    _publish(ctx, event.id)


def _publish(ctx: Ctx, event_id: int | str) -> None:
    try:
        members = store.publish(ctx.session, int(event_id), ctx.cluster, ctx.now)
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    event = ctx.session.get(Event, int(event_id))
    send_invitations(ctx.session, ctx.cluster, event, members)
    ctx.reply("Event {event_id} published: {count} invitations on their way. Check-in code: {checkin}.",
              event_id=event.id, count=len(members), checkin=event.checkin_code)


def publish(ctx: Ctx) -> None:
    ref = _event_id(router.split_first(ctx.args)[0])
    if not ref.isdecimal():
        ctx.reply("Send PUBLISH and the event number, e.g. PUBLISH 12")
        return
    _publish(ctx, ref)


def event_summary(ctx: Ctx) -> None:
    ref = _event_id(router.split_first(ctx.args)[0])
    if not ref:
        _cluster_events(ctx)
        return
    event = store.get_event(ctx.session, ctx.cluster, ref)
    if event is None:
        _error(ctx, "unknown_event", event_id=ref)
        return
    if event.status == "draft":
        reach = count_members(ctx.session, ctx.cluster, parse_segment(event.segment))
        ctx.reply("Draft {event_id} {event}, {start}: reaches {count} members. Code {checkin}. Send PUBLISH "
                  "{event_id} to invite.", event_id=event.id, event=event.title, start=event.starts_at,
                  count=reach, checkin=event.checkin_code)
        return
    s = store.summary(ctx.session, event)

    def split(state: str, name: str) -> dict[str, int]:
        by = s.by_gender.get(state, {})
        return {f"{name}_f": by.get("female", 0), f"{name}_m": by.get("male", 0)}

    ctx.reply("{event_id} {event}: {invited} invited. Yes {yes} (F{yes_f} M{yes_m}), no {no}, maybe {maybe}, "
              "waitlist {waiting}. Came {came} (F{came_f} M{came_m}). Code {checkin}",
              event_id=event.id, event=event.title, invited=s.invited, yes=s.counts["yes"], no=s.counts["no"],
              maybe=s.counts["maybe"], waiting=s.counts["waitlist"], came=s.counts["attended"],
              checkin=event.checkin_code, **split("yes", "yes"), **split("attended", "came"))


def _cluster_events(ctx: Ctx) -> None:
    found = store.cluster_events(ctx.session, ctx.cluster, ctx.now)
    if not found:
        ctx.reply("No upcoming events. Send NEWEVENT to create one.")
        return
    items = [f"{e.id} {e.title} {_short(ctx, e.starts_at)} ({ctx.t(STATE_LABELS[e.status])})" for e in found]
    ctx.say(_numbered(ctx, N_("Events: {events}. Send EVENT and a number for its answers."), items))


def move(ctx: Ctx) -> None:
    ref, when = router.split_first(ctx.args)
    ref = _event_id(ref)
    try:
        if not ref.isdecimal():
            raise WhenError("format")
        start, end = parse_when(when, ctx.timezone, ctx.now)
    except WhenError:
        ctx.reply("Send MOVE, the event number and the new date and time, e.g. MOVE 12 14/12 10:00")
        return
    try:
        event, told = store.move(ctx.session, ctx.cluster, int(ref), start, ctx.now, ends_at=end, actor=ctx.member)
    except EventError as exc:
        if exc.code in ("past", "bad_end"):
            _error(ctx, exc.code)
        else:
            _refuse(ctx, exc, ref)
        return
    for member in told:
        outbox.notify(ctx.session, member, "{event} has moved to {start}, {venue}. Send NO {event_id} if you can "
                      "no longer come.", in_cluster=ctx.cluster, batch=f"event:{event.id}", event=event.title,
                      start=event.starts_at, venue=event.place, event_id=event.id)
    ctx.reply("Event {event_id} moved to {start}; {count} members are told.", event_id=event.id,
              start=event.starts_at, count=len(told))


def cancel(ctx: Ctx) -> None:
    ref = _event_id(router.split_first(ctx.args)[0])
    if not ref.isdecimal():
        ctx.reply("Send CANCELEVENT and the event number, e.g. CANCELEVENT 12")
        return
    try:
        event, told = store.cancel(ctx.session, ctx.cluster, int(ref), ctx.now, actor=ctx.member)
    except EventError as exc:
        _refuse(ctx, exc, ref)
        return
    for member in told:
        outbox.notify(ctx.session, member, "Sorry: {event} on {start} is cancelled.", in_cluster=ctx.cluster,
                      batch=f"event:{event.id}", event=event.title, start=event.starts_at)
    ctx.reply("Event {event_id} {event} is cancelled; {count} members are told.", event_id=event.id,
              event=event.title, count=len(told))


def attend(ctx: Ctx) -> None:
    ref, rest = router.split_first(ctx.args)
    ref, refs = _event_id(ref), rest.split()
    if not ref.isdecimal() or not refs:
        ctx.reply("Send ATTEND, the event number and member numbers or phones, e.g. ATTEND 12 MOSHI-001")
        return
    members = []
    for name in refs:
        member = find_member(ctx.session, ctx.cluster, name)
        if member is None:
            ctx.reply("No member {word} in your cluster; nothing was recorded.", word=name[:20])
            return
        members.append(member)
    try:
        for member in members:
            store.mark_attendance(ctx.session, ctx.cluster, int(ref), member, ctx.now, by=ctx.member)
    except EventError as exc:
        _refuse(ctx, exc, ref)
        return
    event = ctx.session.get(Event, int(ref))
    if len(members) == 1:
        ctx.reply("Recorded: {name} ({number}) came to {event}.", name=members[0].name,
                  number=members[0].number, event=event.title)
    else:
        ctx.reply("Recorded: {count} members came to {event}.", count=len(members), event=event.title)


CREATE_STEPS = {"title": _step_title, "kind": _step_kind, "when": _step_when, "place": _step_place,
                "capacity": _step_capacity, "deadline": _step_deadline, "segment": _step_segment,
                "confirm": _step_confirm}


COMMANDS = [
    Command("EVENTS", list_events, access=ACTIVE),
    Command("YES", yes, access=ACTIVE),
    Command("NO", no, access=ACTIVE, help=False),
    Command("MAYBE", maybe, access=ACTIVE, help=False),
    Command("HERE", here, access=ACTIVE),
    Command("NEWEVENT", new_event, access=FACILITATOR),
    Command("PUBLISH", publish, access=FACILITATOR, help=False),
    Command("EVENT", event_summary, access=FACILITATOR),
    Command("MOVE", move, access=FACILITATOR, help=False),
    Command("CANCELEVENT", cancel, access=FACILITATOR, help=False),
    Command("ATTEND", attend, access=FACILITATOR, help=False),
]
FLOWS = {"events.create": Flow(create_step, free_text=frozenset(CREATE_STEPS))}
SAMPLES = {
    "event": "Quarterly best-practice workshop",
    "venue": "Moshi Cooperative College Hall A",
    "start": "Jumamosi 23 Des 14:00",
    "deadline": "Jumamosi 23 Des 23:59",
    "event_id": "1234",
    "checkin": "4821",
    "position": "120",
    "events": "12 Vision workshop Jumamosi 23 Des 14:00 (coming)",
    "invited": "1200", "yes": "1200", "no": "1200", "maybe": "1200", "waiting": "1200", "came": "1200",
    "yes_f": "1200", "yes_m": "1200", "came_f": "1200", "came_m": "1200",
}
