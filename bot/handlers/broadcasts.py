"""Broadcasts by message: a facilitator sends to a segment and reads the delivery report.

`BCAST sector:tailoring gender:F Workshop Friday 10am` sends at once when the text fits one SMS and the
same text did not go to the same members within the hour; otherwise it asks first. `BCAST` alone is the
guided version: whom, what, then a preview of members and SMS segments (the cost) before anything goes.
A text too long for one SMS is only ever sent split after the facilitator said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import outbox, router, sms
from bot.context import FACILITATOR, Command, Ctx, Flow
from bot.i18n import N_
from storage import broadcasts as store
from storage.broadcasts import Broadcast, BroadcastError
from storage.clusters import Cluster
from storage.members import Identity, Member, contact_identities
from storage.segments import ALL_WORDS, Segment, SegmentError, describe, parse_segment, select_members

SEGMENT_ERRORS = {
    "empty": N_("Say who gets it: all, or terms like sector:tailoring location:Moshi gender:F role:academia "
                "event:ID"),
    "unknown_key": N_("Unknown segment {word}. Use all, sector:X, location:Y, gender:F or M, role:academia "
                      "or event:ID."),
    "missing_value": N_("Give a value after {word}:, for example sector:tailoring"),
    "bad_gender": N_("Gender must be F or M, for example gender:F"),
    "bad_role": N_("Role must be firm, government, academia or support, for example role:academia"),
    "bad_event": N_("No event {word} in your cluster."),
    "unknown_event": N_("No event {word} in your cluster."),
}
UNKNOWN_SEGMENT = SEGMENT_ERRORS["unknown_key"]
UNKNOWN_EVENT = SEGMENT_ERRORS["unknown_event"]
CHOICES = {"1": "send", "2": "cancel"}
TIME_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ t-](\d{1,2})[:h.](\d{2})$"), ("y", "m", "d", "H", "M")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?[ -](\d{1,2})[:h.](\d{2})$"), ("d", "m", "y", "H", "M")),
    (re.compile(r"^(\d{1,2})[:h.](\d{2})$"), ("H", "M")),
)


@dataclass
class Plan:
    """Who a broadcast reaches and what it costs, computed the same way for the preview and the send."""

    members: list[tuple[Member, Identity]]  # (member, the address it goes to)
    skipped: int
    parts: list[str]

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def segments_each(self) -> int:
        return sum(sms.encode(part).segments for part in self.parts)

    @property
    def total(self) -> int:
        return self.segments_each * sum(identity.channel == "sms" for _m, identity in self.members)


def sms_parts(text: str) -> list[str]:
    """The text as it goes by SMS: one message when it fits the budget, else split on word boundaries."""
    return [text] if sms.fits(text) else sms.split(text)


def plan(session: Session, cluster: Cluster, segment: Segment, text: str) -> Plan:
    """Members a segment reaches now; those who sent STOP, or whose every address is silenced, are skipped."""
    reached: list[tuple[Member, Identity]] = []
    skipped = 0
    members = select_members(session, cluster, segment)
    addresses = contact_identities(session, [m.id for m in members if not m.opted_out])
    for member in members:
        identity = None if member.opted_out else addresses.get(member.id)
        if identity is None:
            skipped += 1
        else:
            reached.append((member, identity))
    return Plan(reached, skipped, sms_parts(text))


def send(session: Session, cluster: Cluster, broadcast: Broadcast, now: datetime) -> int:
    """Queue the broadcast's messages (one outbox row per part and member); returns how many were queued."""
    segment = parse_segment(broadcast.segment)
    found = plan(session, cluster, segment, broadcast.text)
    queued = 0
    for member, identity in found.members:
        texts = found.parts if identity.channel == "sms" else [broadcast.text]
        for text in texts:
            outbox.queue(session, identity, text, kind="broadcast", member_id=member.id,
                         cluster_id=cluster.id, batch=store.batch_key(broadcast))
            queued += 1
    store.record_sent(session, broadcast, found.count, found.skipped, found.total, now)
    return queued


def parse_when(text: str, tz: str, now: datetime) -> datetime | None:
    """A time written as 18:00, 25/12 18:00 or 2025-12-25 18:00 in the cluster's timezone, as UTC.

    A bare time that has passed today means tomorrow; a date without a year means this year.
    """
    local_now = now.astimezone(ZoneInfo(tz))
    cleaned = " ".join(text.strip().lower().split())
    for pattern, names in TIME_FORMS:
        found = pattern.match(cleaned)
        if not found:
            continue
        parts = {name: int(value) for name, value in zip(names, found.groups(), strict=True) if value}
        try:
            moment = local_now.replace(year=parts.get("y", local_now.year), month=parts.get("m", local_now.month),
                                       day=parts.get("d", local_now.day), hour=parts["H"], minute=parts["M"],
                                       second=0, microsecond=0)
        except ValueError:
            return None
        if "d" not in parts and moment <= local_now:
            moment += timedelta(days=1)
        return moment.astimezone(ZoneInfo("UTC"))
    return None




def _segment_error(ctx: Ctx, exc: SegmentError) -> None:
    ctx.reply(SEGMENT_ERRORS.get(exc.code, UNKNOWN_SEGMENT), word=(exc.detail or "")[:20])


def _split_args(args: str) -> tuple[str, str, str]:
    """(schedule, segment, text): leading `at:TIME` and segment terms, then the message itself.

    In this one-message form each segment term is one word (`location:Moshi`); the guided BCAST takes
    values with spaces (`location:Moshi Town`).
    """
    when, terms = "", []
    words = args.split(" ")
    while words:
        word = words[0]
        if router.fold(word).startswith("at:") and not when:
            when = word[3:]
        elif ":" in word or router.fold(word) in ALL_WORDS:
            terms.append(word)
        else:
            break
        words.pop(0)
    return when, " ".join(terms), " ".join(words).strip()


def bcast(ctx: Ctx) -> None:
    args = ctx.args.strip()
    if not args:
        ctx.start_flow("bcast", "segment", {})
        ctx.reply("Who should get it? Send all, or terms like sector:tailoring location:Moshi gender:F")
        return
    if args.lstrip("#").isdecimal():
        return _report(ctx, int(args.lstrip("#")))
    when_text, segment_text, text = _split_args(args)
    if not segment_text:
        ctx.reply(UNKNOWN_SEGMENT, word=router.split_first(args)[0][:20])
        return
    try:
        segment = parse_segment(segment_text)
    except SegmentError as exc:
        return _segment_error(ctx, exc)
    if not text:
        ctx.reply("Add the message after the segment, for example: {keyword} sector:tailoring Meeting Friday 10am",
                  keyword=router.keyword("BCAST", ctx.lang))
        return
    send_at = None
    if when_text:
        send_at = parse_when(when_text.replace("-", " ", 1) if "/" in when_text else when_text,
                             ctx.timezone, ctx.now)
        if send_at is None or send_at <= ctx.now:
            ctx.reply("Write the time as 18:00 or 25/12-18:00, in the future.")
            return
    data = {"segment": describe(segment), "text": text, "at": send_at.isoformat() if send_at else ""}
    _prepare(ctx, data, guided=False)


def _plan_or_refuse(ctx: Ctx, data: dict) -> Plan | None:
    try:
        found = plan(ctx.session, ctx.cluster, parse_segment(data["segment"]), data["text"])
    except SegmentError as exc:
        ctx.end_flow()
        _segment_error(ctx, exc)
        return None
    except ImportError:
        ctx.end_flow()
        ctx.reply(UNKNOWN_EVENT, word=data["segment"][:20])
        return None
    if len(data["text"]) > store.MAX_TEXT or len(found.parts) > store.MAX_PARTS:
        ctx.end_flow()
        ctx.reply("That text is too long: at most {count} SMS. Please shorten it.", count=store.MAX_PARTS)
        return None
    if found.count == 0 and not data["at"]:
        ctx.end_flow()
        ctx.reply("No member matches {segment}, or all of them sent STOP. Nothing was sent.",
                  segment=data["segment"][:40])
        return None
    return found


def _prepare(ctx: Ctx, data: dict, *, guided: bool) -> None:
    """Send now when nothing needs a yes; else open the confirm step with the preview that explains why."""
    found = _plan_or_refuse(ctx, data)
    if found is None:
        return
    data["parts"] = len(found.parts)
    duplicate = store.recent_duplicate(ctx.session, ctx.cluster, data["segment"], data["text"], ctx.now)
    if duplicate is not None and not data.get("again"):
        data["again"] = True
        ctx.start_flow("bcast", "confirm", data)
        done = store.delivery(ctx.session, duplicate)
        ctx.reply("The same text went to these members {count} min ago ({sent} of {messages} sent so far). "
                  "Reply 1 to send it again, 2 to cancel.",
                  count=max(int((ctx.now - duplicate.created_at).total_seconds() // 60), 1),
                  sent=done["sent"] + done["delivered"], messages=sum(done.values()))
        return
    if len(found.parts) > 1 and not data.get("split"):
        data["split"] = True
        data["previewed"] = guided
        ctx.start_flow("bcast", "confirm", data)
        ctx.reply("Too long for one SMS: it would go as {parts} messages to each of {count} members, {cost} "
                  "SMS segments. Reply 1 to send it split, 2 to cancel.",
                  parts=len(found.parts), count=found.count, cost=found.total)
        return
    if guided and not data.get("previewed"):
        data["previewed"] = True
        ctx.start_flow("bcast", "confirm", data)
        ctx.reply("{count} members will get it ({skipped} skipped: STOP), {parts} SMS each, {cost} SMS "
                  "segments. Reply 1 to send, 2 to cancel, or a time like 18:00.",
                  count=found.count, skipped=found.skipped, parts=len(found.parts), cost=found.total)
        return
    ctx.end_flow()
    _go(ctx, data, found)


def _go(ctx: Ctx, data: dict, found: Plan) -> None:
    send_at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    try:
        broadcast = store.create(ctx.session, ctx.cluster, ctx.member.id, data["segment"], data["text"],
                                 parts=len(found.parts), now=ctx.now, send_at=send_at)
    except BroadcastError:
        ctx.reply("Write the time as 18:00 or 25/12-18:00, in the future.")
        return
    if send_at is not None:
        ctx.reply("Broadcast {id} will go to {segment} on {when}. Send REPORT {id} to check it.",
                  id=broadcast.id, segment=data["segment"][:40], when=send_at)
        return
    send(ctx.session, ctx.cluster, broadcast, ctx.now)
    ctx.reply("Broadcast {id} is going to {count} members, {cost} SMS segments. Send REPORT {id} to see "
              "delivery.", id=broadcast.id, count=broadcast.recipients, cost=broadcast.segments_total)


def bcast_step(ctx: Ctx) -> None:
    step, data = ctx.conversation.step, ctx.data
    if step == "segment":
        try:
            segment = parse_segment(ctx.text)
        except SegmentError as exc:
            return _segment_error(ctx, exc)
        ctx.set_step("text", {"segment": describe(segment), "at": ""})
        ctx.reply("Now send the text of the message.")
        return
    if step == "text":
        data.update(text=ctx.text.strip(), guided=True)
        return _prepare(ctx, data, guided=True)
    choice = CHOICES.get(ctx.text.strip(" .").lower())
    if choice == "cancel":
        ctx.end_flow()
        ctx.reply("Cancelled. Nothing was sent.")
        return
    if choice is None:
        when = parse_when(ctx.text, ctx.timezone, ctx.now) if data.get("previewed") else None
        if when is None or when <= ctx.now:
            ctx.reply("Reply 1 to send, 2 to cancel.")
            return
        data["at"] = when.isoformat()
    _prepare(ctx, data, guided=bool(data.get("guided")))


def report(ctx: Ctx) -> None:
    ref = router.split_first(ctx.args)[0].lstrip("#")
    if not ref.isdecimal() or len(ref) > 9:
        ctx.reply("Send REPORT and a broadcast number, for example: REPORT 12")
        return
    _report(ctx, int(ref))


def _report(ctx: Ctx, broadcast_id: int) -> None:
    broadcast = store.find(ctx.session, ctx.cluster, broadcast_id)
    if broadcast is None:
        ctx.reply("No broadcast {id} in your cluster.", id=broadcast_id)
        return
    if broadcast.status in ("scheduled", "cancelled"):
        ctx.reply("Broadcast {id} is {status}: {when}.", id=broadcast.id, when=broadcast.send_at,
                  status=ctx.t(STATUS_LABELS[broadcast.status]))
        return
    d = store.delivery(ctx.session, broadcast)
    ctx.reply("Broadcast {id} to {count} members: {sent} sent, {delivered} delivered, {failed} failed, "
              "{waiting} waiting.", id=broadcast.id, count=broadcast.recipients, sent=d["sent"] + d["delivered"],
              delivered=d["delivered"], failed=d["failed"], waiting=d["queued"])


STATUS_LABELS = {"scheduled": N_("scheduled"), "cancelled": N_("cancelled")}






COMMANDS = [
    Command("BCAST", bcast, access=FACILITATOR),
    Command("REPORT", report, access=FACILITATOR),
]
FLOWS = {"bcast": Flow(bcast_step, free_text=frozenset({"segment", "text"}))}
SAMPLES = {"segment": "sector:tailoring location:Moshi gender:female", "parts": "4", "cost": "123456",
           "messages": "12345", "members": "12345", "skipped": "120", "sent": "1200", "delivered": "1200",
           "failed": "1200", "waiting": "1200"}
