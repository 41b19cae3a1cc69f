"""Broadcasts by message: a facilitator sends to a segment and reads the delivery report.

`BCAST sector:tailoring gender:F Workshop Friday 10am` sends at once when the text fits one SMS and the
same text did not go to the same members within the hour; otherwise it asks first. `BCAST` alone is the
guided version, a flow (bot/flow.py): whom, what, then a preview of members and SMS segments (the cost)
before anything goes; the preview also takes a time (18:00: today, or tomorrow once past) to send later.
A text too long for one SMS is only ever sent split after the facilitator said so. A broadcast that would
go out in the cluster's quiet hours is asked about too: it waits for their end, or, marked urgent, goes now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import flow, outbox, parse, router, sms
from bot.context import FACILITATOR, Command, Ctx
from bot.flow import END, Flow, Step, StepError
from bot.i18n import N_, NP_
from bot.parse import ParseError
from storage import broadcasts as store
from storage.broadcasts import Broadcast, BroadcastError
from storage.clusters import Cluster, quiet_until
from storage.members import Identity, Member, contact_identities
from storage.segments import ALL_WORDS, Segment, SegmentError, describe, parse_segment, select_members

BAD_TIME = N_("Write the time as 18:00 or 25/12-18:00, in the future.")
REPLY_1_2 = N_("Reply 1 to send, 2 to cancel.")
# Refusals by code: the segment's (storage.segments), the broadcast rules' (storage.broadcasts) and this
# module's own. Every one is worded by `refusal`, which gives each placeholder a value.
ERRORS = {
    "empty": N_("Say who gets it: all, or terms like sector:tailoring location:Moshi gender:F role:academia "
                "event:ID"),
    "unknown_key": N_("Unknown segment {word}. Use all, sector:X, location:Y, gender:F or M, role:academia "
                      "or event:ID."),
    "missing_value": N_("Give a value after {word}:, for example sector:tailoring"),
    "bad_gender": N_("Gender must be F or M, for example gender:F"),
    "bad_role": N_("Role must be firm, government, academia or support, for example role:academia"),
    "bad_event": N_("No event {word} in your cluster."),
    "unknown_event": N_("No event {word} in your cluster."),
    "no_text": N_("Add the message after the segment, for example: {keyword} sector:tailoring Meeting Friday "
                  "10am"),
    "too_long": N_("That text is too long: at most {count} SMS. Please shorten it."),
    "no_members": N_("No member matches {segment}, or all of them sent STOP. Nothing was sent."),
    "past": BAD_TIME,
    "bad_time": BAD_TIME,
}
# When a reply to the preview is neither 1 nor 2 nor a time, the parser's own words where it read a date.
TIME_CODES = frozenset({"past", "no_time", "no_such_day", "weekday", "ambiguous_time"})
CHOICES = [("send", N_("Send")), ("cancel", N_("Cancel"))]
QUIET_CHOICES = [*CHOICES, ("urgent", N_("Urgent"))]
CONFIRMS = ("again", "split", "preview", "quiet")  # the flow's yes-or-no steps, in the order they may be asked
HELD = N_("Broadcast {id} will reach {segment} on {when}, when quiet hours end. Send REPORT {id} to check it.")
SAMPLES = {"segment": "sector:tailoring location:Moshi gender:female", "parts": "4",
           "messages": "12345", "skipped": "120", "sent": "1200", "delivered": "1200",
           "failed": "1200", "waiting": "1200", "reach": "12345 members", "pieces": "4 messages",
           "segments": "123456 SMS segments", "window": "20:00-08:00"}


def refusal(ctx: Ctx, code: str, **kwargs) -> StepError:
    """The table's words for a code, an unknown one read as an unknown segment."""
    values = {"word": "", "segment": "", "count": store.MAX_PARTS, "keyword": router.keyword("BCAST", ctx.lang),
              **kwargs}
    return StepError(ERRORS.get(code, ERRORS["unknown_key"]), **values)


def _refuse(ctx: Ctx, problem: StepError) -> None:
    ctx.reply(problem.msgid, **problem.kwargs)


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
    addresses = contact_identities(session, members, kind="broadcast")
    for member in members:
        identity = addresses.get(member.id)
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
                         cluster_id=cluster.id, batch=store.batch_key(broadcast), now=now,
                         urgent=broadcast.urgent)
            queued += 1
    store.record_sent(session, broadcast, found.count, found.skipped, found.total, now)
    return queued


def parse_when(text: str, tz: str, now: datetime, lang: str | None = None) -> datetime | None:
    """A time written as 18:00, 25/12 18:00, 2025-12-25 18:00, kesho 18:00 or demain 18h in the cluster's
    timezone, as UTC (the shared parser's rule: a bare time that has passed today means tomorrow, a date
    without a year the next such date); None when it is not a moment to come."""
    try:
        return parse.moment(text, tz, now, lang)
    except ParseError:
        return None


def _at_time(word: str) -> str:
    """`at:25/12-18:00` is one word: the dash before the time stands for the space."""
    return re.sub(r"-(?=[0-9]{1,2}(?:[:h.][0-9]{2}|h)$)", " ", word)


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


# ---------------------------------------------------------------- what a broadcast would do


def _segment(ctx: Ctx, text: str) -> Segment:
    try:
        return parse_segment(text)
    except SegmentError as exc:
        raise refusal(ctx, exc.code, word=(exc.detail or "")[:20]) from exc


def _hold(ctx: Ctx, values: dict) -> None:
    """Put in `values` when quiet hours would hold the broadcast until (ISO, '' when they would not)."""
    moment = datetime.fromisoformat(values["at"]) if values.get("at") else ctx.now
    until = quiet_until(ctx.cluster, moment)
    values["held"] = until.isoformat() if until is not None else ""


def _measure(ctx: Ctx, values: dict) -> None:
    """Put in `values` what the questions show: reach, parts, cost and a duplicate sent within the hour."""
    text = values["text"]
    found = plan(ctx.session, ctx.cluster, _segment(ctx, values["segment"]), text)
    if len(text) > store.MAX_TEXT or len(found.parts) > store.MAX_PARTS:
        raise refusal(ctx, "too_long")
    if found.count == 0 and not values.get("at"):
        raise refusal(ctx, "no_members", segment=values["segment"][:40])
    duplicate = store.recent_duplicate(ctx.session, ctx.cluster, values["segment"], text, ctx.now)
    done = store.delivery(ctx.session, duplicate) if duplicate is not None else None
    values.update(parts=len(found.parts), count=found.count, skipped=found.skipped, cost=found.total,
                  duplicate={"minutes": max(int((ctx.now - duplicate.created_at).total_seconds() // 60), 1),
                             "sent": done["sent"] + done["delivered"], "messages": sum(done.values())}
                  if duplicate is not None else None)
    _hold(ctx, values)


def _cost(ctx: Ctx, values: dict) -> dict:
    """The preview's figures, each counted noun worded in its own plural form."""
    return {"count": values["count"], "skipped": values["skipped"], "parts": values["parts"],
            "reach": ctx.t(NP_("{count} member", "{count} members"), count=values["count"]),
            "pieces": ctx.t(NP_("{count} message", "{count} messages"), count=values["parts"]),
            "segments": ctx.t(NP_("{count} SMS segment", "{count} SMS segments"), count=values["cost"])}


def _quiet(ctx: Ctx, values: dict) -> dict:
    return {"window": ctx.cluster.quiet_hours, "when": datetime.fromisoformat(values["held"])}


def _duplicate(ctx: Ctx, values: dict) -> dict:
    seen = values["duplicate"]
    return {"count": seen["minutes"], "sent": seen["sent"], "messages": seen["messages"]}


# ---------------------------------------------------------------- the guided BCAST


def _read_segment(ctx: Ctx, text: str, values: dict) -> str:
    segment = describe(_segment(ctx, text))
    if not plan(ctx.session, ctx.cluster, parse_segment(segment), "").count:
        raise refusal(ctx, "no_members", segment=segment[:40])
    return segment


def _read_text(ctx: Ctx, text: str, values: dict) -> str:
    values.update(text=text.strip(), at="", guided=True)
    _measure(ctx, values)
    return values["text"]


def _send_or_time(ctx: Ctx, text: str, values: dict) -> str:
    """1 or 2 (or their words); in the guided BCAST also a time to send it at instead of now."""
    choice = flow.pick(text, _CHOICE)
    if choice is not None:
        return choice
    if not values.get("guided"):
        raise StepError(REPLY_1_2)
    try:
        values["at"] = parse.moment(text, ctx.timezone, ctx.now, ctx.lang).isoformat()
    except ParseError as exc:
        raise StepError(exc.msgid if exc.code in TIME_CODES else REPLY_1_2) from exc
    _hold(ctx, values)
    return "send"


def _unless_cancelled(key: str, following: str):
    return lambda values: END if values.get(key) == "cancel" else following


_CHOICE = Step("choice", REPLY_1_2, choices=CHOICES)


def _finish(ctx: Ctx, values: dict) -> None:
    if any(values.get(key) == "cancel" for key in CONFIRMS):
        ctx.reply("Cancelled. Nothing was sent.")
        return
    _go(ctx, values)


def _go(ctx: Ctx, values: dict) -> None:
    """Record the broadcast and queue it now, or leave it for the scheduler at its time."""
    try:
        found = plan(ctx.session, ctx.cluster, _segment(ctx, values["segment"]), values["text"])
        if found.count == 0 and not values["at"]:
            raise refusal(ctx, "no_members", segment=values["segment"][:40])
    except StepError as problem:
        return _refuse(ctx, problem)
    send_at = datetime.fromisoformat(values["at"]) if values["at"] else None
    urgent = values.get("quiet") == "urgent"
    try:
        broadcast = store.create(ctx.session, ctx.cluster, ctx.member.id, values["segment"], values["text"],
                                 parts=len(found.parts), now=ctx.now, send_at=send_at, urgent=urgent)
    except BroadcastError as exc:
        return _refuse(ctx, refusal(ctx, exc.code))
    held = None if urgent else quiet_until(ctx.cluster, send_at or ctx.now)
    if held is not None:
        if send_at is None:
            send(ctx.session, ctx.cluster, broadcast, ctx.now)
        ctx.reply(HELD, id=broadcast.id, segment=values["segment"][:40], when=held)
        return
    if send_at is not None:
        ctx.reply("Broadcast {id} will go to {segment} on {when}. Send REPORT {id} to check it.",
                  id=broadcast.id, segment=values["segment"][:40], when=send_at)
        return
    send(ctx.session, ctx.cluster, broadcast, ctx.now)
    ctx.reply("Broadcast {id} is going to {reach}, {segments}. Send REPORT {id} to see delivery.",
              id=broadcast.id, reach=ctx.t(NP_("{count} member", "{count} members"), count=broadcast.recipients),
              segments=ctx.t(NP_("{count} SMS segment", "{count} SMS segments"), count=broadcast.segments_total))


GUIDED = Flow(
    "bcast",
    steps=[
        Step("segment", N_("Who should get it? Send all, or terms like sector:tailoring location:Moshi gender:F"),
             reader=_read_segment, free_text=True),
        Step("text", N_("Now send the text of the message."), reader=_read_text, free_text=True),
        Step("again", N_("The same text went to these members {count} min ago ({sent} of {messages} sent so "
                         "far). Reply 1 to send it again, 2 to cancel."),
             choices=CHOICES, listed=True, hint=REPLY_1_2, fill=_duplicate, when=lambda v: bool(v["duplicate"]),
             next=_unless_cancelled("again", "split")),
        Step("split", N_("Too long for one SMS: it would go as {pieces} to each of {reach}, {segments}. Reply 1 "
                         "to send it split, 2 to cancel."),
             reader=_send_or_time, choices=CHOICES, listed=True, fill=_cost, when=lambda v: v["parts"] > 1,
             next=_unless_cancelled("split", "preview")),
        Step("preview", NP_("{count} member will get it ({skipped} skipped: STOP), {parts} SMS each, {segments}. "
                            "Reply 1 to send, 2 to cancel, or a time like 18:00.",
                            "{count} members will get it ({skipped} skipped: STOP), {parts} SMS each, {segments}. "
                            "Reply 1 to send, 2 to cancel, or a time like 18:00."),
             reader=_send_or_time, choices=CHOICES, listed=True, fill=_cost,
             when=lambda v: v["guided"] and v["parts"] == 1, next=_unless_cancelled("preview", "quiet")),
        Step("quiet", N_("Quiet hours {window}: it would arrive on {when}. Reply 1 to send it then, 2 to "
                         "cancel, 3 or URGENT to send it now."),
             choices=QUIET_CHOICES, listed=True, fill=_quiet, when=lambda v: bool(v.get("held"))),
    ],
    finish=_finish,
    keyword="BCAST",
    access=FACILITATOR,
)


# ---------------------------------------------------------------- commands


def bcast(ctx: Ctx) -> None:
    """BCAST alone: the guided flow; BCAST 12: the report of broadcast 12; else segment and text at once."""
    args = parse.clean(ctx.args)
    if not args:
        return flow.open_flow(ctx, GUIDED, {})
    try:
        return _report(ctx, parse.ident(args))
    except ParseError:
        pass  # not a broadcast's number: a segment and a text
    when_text, segment_text, text = _split_args(args)
    values = {"segment": "", "text": text, "at": "", "guided": False}
    try:
        if not segment_text:
            raise refusal(ctx, "unknown_key", word=parse.first_word(args)[0][:20])
        values["segment"] = describe(_segment(ctx, segment_text))
        if not text:
            raise refusal(ctx, "no_text")
        if when_text:
            send_at = parse_when(_at_time(when_text), ctx.timezone, ctx.now, ctx.lang)
            if send_at is None:
                raise refusal(ctx, "bad_time")
            values["at"] = send_at.isoformat()
        _measure(ctx, values)
    except StepError as problem:
        return _refuse(ctx, problem)
    first = GUIDED.following(GUIDED.step("text"), values)
    if first == END:
        return _go(ctx, values)
    flow.open_flow(ctx, GUIDED, values, at=first)


def report(ctx: Ctx) -> None:
    try:
        broadcast_id = parse.ident(parse.first_word(ctx.args)[0])
    except ParseError:
        ctx.reply("Send REPORT and a broadcast number, for example: REPORT 12")
        return
    _report(ctx, broadcast_id)


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
    ctx.reply(NP_("Broadcast {id} to {count} member: {sent} sent, {delivered} delivered, {failed} failed, "
                  "{waiting} waiting.",
                  "Broadcast {id} to {count} members: {sent} sent, {delivered} delivered, {failed} failed, "
                  "{waiting} waiting."), id=broadcast.id, count=broadcast.recipients,
              sent=d["sent"] + d["delivered"], delivered=d["delivered"], failed=d["failed"], waiting=d["queued"])


STATUS_LABELS = {"scheduled": N_("scheduled"), "cancelled": N_("cancelled")}

COMMANDS = [
    Command("BCAST", bcast, access=FACILITATOR),
    Command("REPORT", report, access=FACILITATOR),
]
FLOWS = {GUIDED.name: GUIDED}
