"""Events over SMS and Telegram: a facilitator creates and publishes, members answer, remind, check in.

Members: EVENTS, YES/NO/MAYBE id, HERE id code. Facilitators: NEWEVENT (a guided flow), PUBLISH id,
EVENT [id], MOVE id date time, CANCELEVENT id, ATTEND id member... The jobs (bot/jobs/events.py) send the
reminders and the invitations a large segment still waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from sqlmodel import Session

from bot import outbox, parse, router, sms
from bot.context import ACTIVE, FACILITATOR, Command, Ctx
from bot.flow import Flow, Step, StepError
from bot.i18n import N_, NP_, Plural, format_timestamp
from storage import events as store
from storage.clusters import Cluster
from storage.db import utcnow
from storage.events import Event, EventError
from storage.members import Member, find_member
from storage.segments import SegmentError, count_members, describe, parse_segment

KIND_CHOICES = [("workshop", N_("Workshop")), ("training", N_("Training")), ("meeting", N_("Meeting")),
                ("trade_fair", N_("Trade fair")), ("study_tour", N_("Study tour")),
                ("buyer_visit", N_("Buyer visit")), ("other", N_("Other event"))]
ANSWER_BUTTONS = [(N_("Yes"), "YES {}"), (N_("No"), "NO {}"), (N_("Maybe"), "MAYBE {}")]
CONFIRM_CHOICES = [("publish", N_("Publish")), ("draft", N_("Draft")), ("drop", N_("Drop"))]
STATE_LABELS = {"invited": N_("not answered"), "yes": N_("coming"), "no": N_("not coming"),
                "maybe": N_("maybe"), "waitlist": N_("waitlist"), "draft": N_("draft"),
                "published": N_("published"), "cancelled": N_("cancelled")}

TITLE_HINT = N_("Please send a title of 2 to 32 letters.")
KIND_QUESTION = N_("What kind of event? 1 Workshop, 2 Training, 3 Meeting, 4 Trade fair, 5 Study tour, "
                   "6 Buyer visit, 7 Other")
PLACE_HINT = N_("Please send a place of 2 to 32 letters.")
CAPACITY_HINT = N_("Please send a number of places, or 0 for no limit.")
WHEN_HINT = N_("Please send a date and time, e.g. 12/12 14:00, 2026-12-12 14:00 or 12 Dec 14:00")
SEGMENT_HINT = N_("Whom to invite? Send ALL, or terms like sector:tailoring location:Moshi gender:F "
                  "role:academia event:12")

# Every code a rule of storage/events.py refuses with, worded; _error fills the placeholders.
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
    "bad_title": TITLE_HINT,
    "bad_kind": KIND_QUESTION,
    "bad_place": PLACE_HINT,
    "bad_capacity": CAPACITY_HINT,
}
# Every code storage/segments.py refuses a segment with; {word} is the term it could not read.
SEGMENT_ERRORS = {
    "empty": SEGMENT_HINT,
    "missing_value": SEGMENT_HINT,
    "unknown_key": N_("I do not know {word}. Use all, or sector:, location:, gender:, role:, event:"),
    "bad_gender": N_("Gender must be F or M, e.g. gender:F"),
    "bad_role": N_("Role must be firm, government, academia or support, e.g. role:academia"),
    "bad_event": N_("There is no event {word} to take members from."),
    "unknown_event": N_("There is no event {word} to take members from."),
}
# What an answer did, by the invitation's new state.
ANSWERED = {
    "yes": N_("You are coming to {event}, {start}, {venue}. At the venue send HERE {event_id} and the code."),
    "waitlist": N_("{event} is full. You are number {position} on the waitlist; we will tell you if a place "
                   "opens."),
    "no": N_("Noted: you will not come to {event}. Thank you for telling us."),
    "maybe": N_("Noted: maybe for {event}, {start}. Send YES {event_id} when you are sure."),
}
INVITATION = N_("Invitation: {event}, {start}, {venue}. Reply YES {event_id}, NO {event_id} or MAYBE "
                "{event_id}.")
MOVED = N_("{event} has moved to {start}, {venue}. Send NO {event_id} if you can no longer come.")
CANCELLED = N_("Sorry: {event} on {start} is cancelled.")
PLACE_OPENED = N_("A place opened: you are coming to {event}, {start}, {venue}. Send NO {event_id} if you cannot.")
REMINDER = N_("Reminder: {event} starts {start} at {venue}. At the venue send HERE {event_id} and the code.")
# An event created without a place (by the CLI or an import) is worded without one: each message has its
# own sentence with no {venue}, so no stray ", ." is left where the place would be.
WITHOUT_PLACE = {
    INVITATION: N_("Invitation: {event}, {start}. Reply YES {event_id}, NO {event_id} or MAYBE {event_id}."),
    MOVED: N_("{event} has moved to {start}. Send NO {event_id} if you can no longer come."),
    ANSWERED["yes"]: N_("You are coming to {event}, {start}. When you arrive, send HERE {event_id} and the code."),
    PLACE_OPENED: N_("A place opened: you are coming to {event}, {start}. Send NO {event_id} if you cannot."),
    REMINDER: N_("Reminder: {event} starts {start}. When you arrive, send HERE {event_id} and the code."),
}


def placed(msgid: str, event: Event) -> str:
    """The message as worded for this event: its sentence without a place when the event has none."""
    return msgid if event.place.strip() else WITHOUT_PLACE.get(msgid, msgid)


# Dates and times: the shared parser (a date just gone by is refused as past there, for every domain).

END_OF_DAY = time(23, 59)
VAGUE = frozenset({"empty", "invalid"})  # refusals that get the step's own example rather than the parser's


def when_refusal(exc: parse.ParseError, fallback: str) -> str:
    """The parser's precise reply (no such day, add the time...), or `fallback` when it could read nothing."""
    return fallback if exc.code in VAGUE else exc.msgid


# Words used by several commands.

def _ident(text: str) -> int | None:
    """The event number the text names (12, #12, no. 12), or its first word does (12 please), or None."""
    for candidate in (text, parse.first_word(text)[0]):
        try:
            return parse.ident(candidate)
        except parse.ParseError:
            continue
    return None


def _error(ctx: Ctx, code: str, **kwargs) -> None:
    """Word a refusal from the ERRORS table; every placeholder any of them uses gets a value."""
    kwargs.setdefault("event_id", "")
    kwargs.setdefault("deadline", ctx.now)
    ctx.reply(ERRORS.get(code) or ERRORS["unknown_event"], **kwargs)


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


def send_invitations(session: Session, cluster: Cluster, event: Event, members: list[Member] | None = None,
                     *, now: datetime | None = None, limit: int | None = store.INVITATION_BATCH) -> int:
    """Queue invitations still to be sent, each in its member's language: these members' (all of them),
    or the event's next `limit`. Each is marked sent in this transaction, so it is queued exactly once
    whatever fails; returns how many were taken (a member who cannot be reached is taken, sent nothing)."""
    ids = None if members is None else [m.id for m in members]
    now = now or utcnow()
    taken = store.claim_invitations(session, event.id, now, member_ids=ids,
                                    limit=None if ids is not None else limit)
    answers = [(label, value.format(event.id)) for label, value in ANSWER_BUTTONS]
    for member in taken:
        outbox.notify(session, member, placed(INVITATION, event), kind="invitation", batch=f"event:{event.id}",
                      in_cluster=cluster, buttons=answers, now=now, event=event.title, start=event.starts_at,
                      venue=event.place, event_id=event.id)
    return len(taken)


def tell(session: Session, cluster: Cluster, event: Event, members: list[Member], msgid: str) -> None:
    """A change (MOVED, CANCELLED) told to those who said yes or maybe, or who wait for a place."""
    for member in members:
        outbox.notify(session, member, placed(msgid, event), in_cluster=cluster, batch=f"event:{event.id}",
                      event=event.title, start=event.starts_at, venue=event.place, event_id=event.id)


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
    word = parse.first_word(ctx.args)[0]
    if not word:
        open_ = store.open_invitations(ctx.session, ctx.member, ctx.now)
        if len(open_) != 1:
            ctx.reply("Send {keyword} and the event number, e.g. {keyword} 12. Send EVENTS to see your "
                      "invitations.", keyword=router.keyword(ctx.command, ctx.lang))
            return
        word = str(open_[0].id)
    event_id = _ident(ctx.args or word)
    if event_id is None:
        _error(ctx, "unknown_event", event_id=word[:12])
        return
    try:
        result = store.answer(ctx.session, ctx.cluster, event_id, ctx.member, choice, now=ctx.now,
                              channel=ctx.channel)
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    event = ctx.session.get(Event, event_id)
    ctx.reply(placed(ANSWERED[result.invitation.state], event), event=event.title, start=event.starts_at, venue=event.place,
              event_id=event.id, position=result.position)
    for member in result.promoted:
        outbox.notify(ctx.session, member, placed(PLACE_OPENED, event), in_cluster=ctx.cluster,
                      event=event.title, start=event.starts_at, venue=event.place, event_id=event.id)


def here(ctx: Ctx) -> None:
    word, code = parse.first_word(ctx.args)
    if not word or not code:
        ctx.reply("Send HERE, the event number and the code you were given, e.g. HERE 12 4821")
        return
    event_id = _ident(word)
    if event_id is None:
        _error(ctx, "unknown_event", event_id=word[:12])
        return
    try:
        store.check_in(ctx.session, ctx.cluster, event_id, ctx.member, code, ctx.now)
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    event = ctx.session.get(Event, event_id)
    ctx.reply("Welcome to {event}, {name}! Your attendance is recorded.", event=event.title,
              name=ctx.member.name)


# Facilitators: NEWEVENT, a flow of eight questions; each reader checks what the event rules will check.

def _title(ctx: Ctx, text: str, values: dict) -> str:
    if not any(ch.isalpha() for ch in text):
        raise StepError(TITLE_HINT)
    return " ".join(text.split())


def _start(ctx: Ctx, text: str, values: dict) -> str:
    """The start (and the end, three hours on unless a range is given), as the event rules will take them."""
    try:
        start, end = parse.span(text, ctx.timezone, ctx.now, ctx.lang)
        end = end or start + store.DEFAULT_LENGTH
        store.check_schedule(start, end, None, ctx.now)
    except parse.ParseError as exc:
        raise StepError(when_refusal(exc, WHEN_HINT)) from exc
    except EventError as exc:
        raise StepError(ERRORS[exc.code]) from exc
    values["end"] = end.isoformat()
    return start.isoformat()


def _place(ctx: Ctx, text: str, values: dict) -> str:
    return " ".join(text.split())


def _capacity(ctx: Ctx, text: str, values: dict) -> int:
    try:
        places = parse.quantity(text, whole=True, lang=ctx.lang, region=ctx.region) // parse.QTY_SCALE
    except parse.ParseError as exc:
        raise StepError(CAPACITY_HINT) from exc
    if places > store.MAX_CAPACITY:
        raise StepError(CAPACITY_HINT)
    return places


def _deadline(ctx: Ctx, text: str, values: dict) -> str:
    """Until when answers are taken ("" for the start); a date alone means the end of that day."""
    if text == "0":
        return ""
    try:
        deadline = parse.span(text, ctx.timezone, ctx.now, ctx.lang, default_time=END_OF_DAY)[0]
    except parse.ParseError as exc:
        raise StepError(ERRORS["bad_deadline"]) from exc
    if not ctx.now < deadline <= datetime.fromisoformat(values["start"]):
        raise StepError(ERRORS["bad_deadline"])
    return deadline.isoformat()


def _segment(ctx: Ctx, text: str, values: dict) -> str:
    """The segment as stored; its reach goes in the values for the summary (a count, no write)."""
    try:
        segment = parse_segment(text)
        reach = count_members(ctx.session, ctx.cluster, segment)
    except SegmentError as exc:
        raise StepError(SEGMENT_ERRORS.get(exc.code, SEGMENT_HINT), word=exc.detail[:20]) from exc
    if reach == 0:
        raise StepError(N_("No active member is in that segment. Send another one, or ALL."))
    values["reach"] = reach
    return describe(segment)


def _summary(ctx: Ctx, values: dict) -> dict:
    return {"event": values["title"], "start": datetime.fromisoformat(values["start"]),
            "count": values["reach"]}


def _create(ctx: Ctx, values: dict) -> None:
    if values["confirm"] == "drop":
        ctx.reply("Dropped. Nothing was saved.")
        return
    try:
        event = store.create_event(
            ctx.session, ctx.cluster, title=values["title"], kind=values["kind"], now=ctx.now,
            starts_at=datetime.fromisoformat(values["start"]), ends_at=datetime.fromisoformat(values["end"]),
            place=values["place"], capacity=values["capacity"], segment=values["segment"],
            created_by=ctx.member,
            rsvp_deadline=datetime.fromisoformat(values["deadline"]) if values["deadline"] else None)
    except EventError as exc:
        _error(ctx, exc.code)
        return
    if values["confirm"] == "draft":
        ctx.reply("Saved as draft event {event_id}. Send PUBLISH {event_id} when it is ready.",
                  event_id=event.id)
        return
    _publish(ctx, event.id)


def _words(command: str) -> list[str]:
    return [word for words in router.keyword_table().get(command, {}).values() for word in words]


NEWEVENT = Flow(
    "events.create",
    steps=[
        Step("title", N_("New event. What is its title? (up to 32 letters)"), reader=_title, free_text=True,
             max_length=store.TITLE_MAX, hint=TITLE_HINT),
        Step("kind", KIND_QUESTION, choices=KIND_CHOICES, listed=True, free_text=True, hint=KIND_QUESTION),
        Step("start", N_("When does it start? Send date and time, e.g. 12/12 14:00 or 12 Dec 09:00-13:00"),
             reader=_start, free_text=True),
        Step("place", N_("Where will it be? (place, up to 32 letters)"), reader=_place, free_text=True,
             max_length=store.PLACE_MAX, hint=PLACE_HINT),
        Step("capacity", N_("How many places? Send a number, or 0 for no limit."), reader=_capacity,
             free_text=True),
        Step("deadline", N_("Until when may members answer? Send a date and time, e.g. 10/12 18:00, or 0 to "
                            "accept answers until the start."), reader=_deadline, free_text=True,
             optional=True, default=""),
        Step("segment", SEGMENT_HINT, reader=_segment, free_text=True),
        Step("confirm", NP_("{event}, {start}: {count} member invited. Reply 1 to publish now, 2 to keep as "
                            "a draft, 3 to drop it.",
                            "{event}, {start}: {count} members invited. Reply 1 to publish now, 2 to keep "
                            "as a draft, 3 to drop it."),
             choices=CONFIRM_CHOICES, listed=True, free_text=True, fill=_summary,
             aliases={"publish": _words("YES"), "drop": _words("NO")},
             hint=N_("Reply 1 to publish now, 2 to keep as a draft, 3 to drop it.")),
    ],
    finish=_create,
    keyword="NEWEVENT",
    access=FACILITATOR,
)


# Facilitators: publish, summarise, move, cancel, mark attendance.

def _publish(ctx: Ctx, event_id: int) -> None:
    """Record every invitation and queue the first batch; the job queues the rest in batches of its own."""
    try:
        members = store.publish(ctx.session, event_id, ctx.cluster, ctx.now)
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    event = ctx.session.get(Event, event_id)
    send_invitations(ctx.session, ctx.cluster, event, now=ctx.now)
    ctx.reply(NP_("Event {event_id} published: {count} invitation on its way. Check-in code: {checkin}.",
                  "Event {event_id} published: {count} invitations on their way. Check-in code: {checkin}."),
              event_id=event.id, count=len(members), checkin=event.checkin_code)


def publish(ctx: Ctx) -> None:
    event_id = _ident(ctx.args)
    if event_id is None:
        ctx.reply("Send PUBLISH and the event number, e.g. PUBLISH 12")
        return
    _publish(ctx, event_id)


def event_summary(ctx: Ctx) -> None:
    word = parse.first_word(ctx.args)[0]
    if not word:
        _cluster_events(ctx)
        return
    event_id = _ident(ctx.args)
    event = store.get_event(ctx.session, ctx.cluster, event_id) if event_id is not None else None
    if event is None:
        _error(ctx, "unknown_event", event_id=word[:12])
        return
    if event.status == "draft":
        reach = count_members(ctx.session, ctx.cluster, parse_segment(event.segment))
        ctx.reply(NP_("Draft {event_id} {event}, {start}: reaches {count} member. Code {checkin}. Send "
                      "PUBLISH {event_id} to invite.",
                      "Draft {event_id} {event}, {start}: reaches {count} members. Code {checkin}. Send "
                      "PUBLISH {event_id} to invite."),
                  event_id=event.id, event=event.title, start=event.starts_at, count=reach,
                  checkin=event.checkin_code)
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


MOVE_USAGE = N_("Send MOVE, the event number and the new date and time, e.g. MOVE 12 14/12 10:00")


def move(ctx: Ctx) -> None:
    word, when = parse.first_word(ctx.args)
    event_id = _ident(word)
    if event_id is None:
        ctx.reply(MOVE_USAGE)
        return
    try:
        start, end = parse.span(when, ctx.timezone, ctx.now, ctx.lang)
    except parse.ParseError as exc:
        ctx.reply(when_refusal(exc, MOVE_USAGE))
        return
    _change(ctx, event_id,
            lambda: store.move(ctx.session, ctx.cluster, event_id, start, ctx.now, ends_at=end, actor=ctx.member),
            MOVED, NP_("Event {event_id} moved to {start}; {count} member is told.",
                       "Event {event_id} moved to {start}; {count} members are told."))


def cancel(ctx: Ctx) -> None:
    event_id = _ident(ctx.args)
    if event_id is None:
        ctx.reply("Send CANCELEVENT and the event number, e.g. CANCELEVENT 12")
        return
    _change(ctx, event_id, lambda: store.cancel(ctx.session, ctx.cluster, event_id, ctx.now, actor=ctx.member),
            CANCELLED, NP_("Event {event_id} {event} is cancelled; {count} member is told.",
                           "Event {event_id} {event} is cancelled; {count} members are told."))


def _change(ctx: Ctx, event_id: int, change: Callable[[], tuple[Event, list[Member]]], notice: str,
            reply: Plural) -> None:
    """MOVE and CANCELEVENT: make the change, tell those it concerns, then the facilitator how many were told."""
    try:
        event, told = change()
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    tell(ctx.session, ctx.cluster, event, told, notice)
    ctx.reply(reply, event_id=event.id, event=event.title, start=event.starts_at, count=len(told))


def attend(ctx: Ctx) -> None:
    """ATTEND 12 MOSHI-001, 4, 0712 000 006: each member named, read by the shared member parser."""
    word, rest = parse.first_word(ctx.args)
    event_id = _ident(word)
    if event_id is None or not rest:
        ctx.reply("Send ATTEND, the event number and member numbers or phones, e.g. ATTEND 12 MOSHI-001")
        return
    try:
        refs = parse.member_refs(rest, ctx.region)
    except parse.ParseError as exc:
        ctx.reply(exc.msgid)
        return
    members = []
    for ref in refs:
        member = find_member(ctx.session, ctx.cluster, ref.key)
        if member is None:
            ctx.reply("No member {word} in your cluster; nothing was recorded.", word=ref.text[:20])
            return
        members.append(member)
    try:
        for member in members:
            store.mark_attendance(ctx.session, ctx.cluster, event_id, member, ctx.now, by=ctx.member)
    except EventError as exc:
        _refuse(ctx, exc, event_id)
        return
    event = ctx.session.get(Event, event_id)
    if len(members) == 1:
        ctx.reply("Recorded: {name} ({number}) came to {event}.", name=members[0].name,
                  number=members[0].number, event=event.title)
    else:
        ctx.reply(NP_("Recorded: {count} member came to {event}.",
                      "Recorded: {count} members came to {event}."), count=len(members), event=event.title)


COMMANDS = [
    Command("EVENTS", list_events, access=ACTIVE),
    Command("YES", yes, access=ACTIVE),
    Command("NO", no, access=ACTIVE, help=False),
    Command("MAYBE", maybe, access=ACTIVE, help=False),
    Command("HERE", here, access=ACTIVE),
    NEWEVENT.command(),
    Command("PUBLISH", publish, access=FACILITATOR, help=False),
    Command("EVENT", event_summary, access=FACILITATOR),
    Command("MOVE", move, access=FACILITATOR, help=False),
    Command("CANCELEVENT", cancel, access=FACILITATOR, help=False),
    Command("ATTEND", attend, access=FACILITATOR, help=False),
]
FLOWS = {NEWEVENT.name: NEWEVENT}
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
