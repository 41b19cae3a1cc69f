"""`clusterbot event ...`: create, publish, list, show, move, cancel and mark attendance from the terminal."""

from __future__ import annotations

from datetime import datetime

from bot import i18n, parse
from bot.cli.common import CliError
from bot.handlers.events import (
    CANCELLED,
    END_OF_DAY,
    ERRORS,
    MOVED,
    SEGMENT_ERRORS,
    WHEN_HINT,
    send_invitations,
    tell,
    when_refusal,
)
from storage import events as store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.events import Event, EventError
from storage.exports import local
from storage.members import find_member
from storage.segments import SegmentError


def register_cli(subparsers) -> None:
    events = subparsers.add_parser("event", help="events: create, publish, list, show, move, cancel, attend")
    sub = events.add_subparsers(dest="action", required=True)
    p = sub.add_parser("create", help="create an event (a draft unless --publish)")
    p.add_argument("title")
    p.add_argument("--start", required=True, help='local date and time, e.g. "2026-12-12 14:00" or "12/12 14:00-17:00"')
    p.add_argument("--end", help="local date and time; default three hours after the start")
    p.add_argument("--kind", choices=store.KINDS, default="workshop")
    p.add_argument("--place", default="")
    p.add_argument("--capacity", type=int, default=0, help="0: no limit")
    p.add_argument("--deadline", help="answers accepted until this local date and time; default the start")
    p.add_argument("--segment", default="all", help='e.g. "sector:tailoring location:Moshi"')
    p.add_argument("--reminders", default="1d,2h", help="before the start, to YES answers, e.g. 1d,2h")
    p.add_argument("--deadline-reminder", default="1d", help="before the deadline, to those not answered; 0: none")
    p.add_argument("--publish", action="store_true", help="invite the segment now")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_create)
    for name, func, helptext in (("publish", cli_publish, "invite the segment of a draft event"),
                                 ("show", cli_show, "answers and attendance of an event"),
                                 ("cancel", cli_cancel, "cancel an event and tell who said YES or MAYBE")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("id", type=int)
        p.add_argument("--cluster")
        p.set_defaults(func=func)
    p = sub.add_parser("list", help="drafts and upcoming events")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_list)
    p = sub.add_parser("move", help="give an event a new time; who said YES or MAYBE is told")
    p.add_argument("id", type=int)
    p.add_argument("--start", required=True)
    p.add_argument("--end")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_move)
    p = sub.add_parser("remind", help="set an event's reminder times")
    p.add_argument("id", type=int)
    p.add_argument("times", help="before the start, e.g. 1d,2h")
    p.add_argument("--deadline-reminder", help="before the answer deadline, e.g. 1d; 0: none")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_remind)
    p = sub.add_parser("attend", help="record that members came")
    p.add_argument("id", type=int)
    p.add_argument("members", nargs="+", help="member numbers or phones")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_attend)


def _cli_when(cluster: Cluster, text: str | None, now: datetime, *, default_time=None):
    """A local date and time read as messages read them (bot.parse), or (None, None) when not given."""
    if not text:
        return None, None
    try:
        return parse.span(text, cluster.timezone, now, default_time=default_time)
    except parse.ParseError as exc:
        reason = i18n.translate("en", when_refusal(exc, WHEN_HINT))
        raise CliError(f"cannot take the date and time '{text}': {reason}") from exc


def _cli_span(cluster: Cluster, args, now: datetime):
    """--start and --end: an end given apart wins over one written in the start (14/12 10:00-12:00)."""
    start, end = _cli_when(cluster, args.start, now)
    if args.end:
        end = _cli_when(cluster, args.end, now)[0]
    return start, end


def _cli_fail(exc: EventError | SegmentError, cluster: Cluster, event_id: int | str = ""):
    """The rule's refusal as a facilitator reads it by SMS, in English, after its code."""
    table = SEGMENT_ERRORS if isinstance(exc, SegmentError) else ERRORS
    reason = i18n.translate("en", table.get(exc.code) or ERRORS["unknown_event"], tz=cluster.timezone,
                            event_id=event_id, deadline=utcnow(), word=exc.detail[:20])
    return CliError(f"refused ({exc.code}): {reason}")


def _invite_the_rest(cli, cluster_id: int, event_id: int) -> None:
    """The invitations after the first batch, one committed transaction per batch, so the web process's
    messages are never kept waiting behind the whole fan-out; an interrupted run leaves the rest to the
    scheduler's events.invitations job."""
    while True:
        with session_scope(cli.db) as session:
            cluster, event = session.get(Cluster, cluster_id), session.get(Event, event_id)
            if not send_invitations(session, cluster, event):
                return


def _minutes(text: str) -> int:
    return 0 if text.strip() == "0" else int(store.parse_reminders(text).split(",")[0])


def cli_create(args, cli) -> None:
    now = utcnow()
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        start, end = _cli_span(cluster, args, now)
        deadline = _cli_when(cluster, args.deadline, now, default_time=END_OF_DAY)[0]
        try:
            event = store.create_event(session, cluster, title=args.title, kind=args.kind, starts_at=start,
                                       ends_at=end, place=args.place, capacity=args.capacity,
                                       rsvp_deadline=deadline, segment=args.segment, now=now,
                                       reminders=args.reminders,
                                       deadline_reminder=_minutes(args.deadline_reminder))
            members = store.publish(session, event.id, cluster, now) if args.publish else []
        except (EventError, SegmentError) as exc:
            raise _cli_fail(exc, cluster) from exc
        if members:
            send_invitations(session, cluster, event, now=now)
        cluster_id, event_id = cluster.id, event.id
        state = f"published, {len(members)} invitations queued" if args.publish else "draft"
        print(f"event {event.id} {event.title}: {state}; check-in code {event.checkin_code}")
    if members:
        _invite_the_rest(cli, cluster_id, event_id)


def cli_publish(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        now = utcnow()
        try:
            members = store.publish(session, args.id, cluster, now)
        except (EventError, SegmentError) as exc:
            raise _cli_fail(exc, cluster, args.id) from exc
        send_invitations(session, cluster, session.get(Event, args.id), now=now)
        cluster_id = cluster.id
        print(f"event {args.id} published: {len(members)} invitations queued")
    _invite_the_rest(cli, cluster_id, args.id)


def cli_list(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        for e in store.cluster_events(session, cluster, utcnow()):
            print(f"{e.id}\t{e.status}\t{local(e.starts_at, cluster)}\t{e.title}\t{e.place}\t{e.segment}")


def cli_show(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        event = store.get_event(session, cluster, args.id)
        if event is None:
            raise _cli_fail(EventError("unknown_event"), cluster, args.id)
        s = store.summary(session, event)
        print(f"event {event.id} {event.title} ({event.status}), {local(event.starts_at, cluster)}, "
              f"{event.place}; capacity {event.capacity or 'none'}; code {event.checkin_code}")
        print(f"invited {s.invited}")
        for state in (*store.STATES, "attended"):
            by = ", ".join(f"{g} {c}" for g, c in sorted(s.by_gender.get(state, {}).items()))
            print(f"{state}\t{s.counts.get(state, 0)}" + (f"\t({by})" if by else ""))


def cli_cancel(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        try:
            event, told = store.cancel(session, cluster, args.id, utcnow())
        except EventError as exc:
            raise _cli_fail(exc, cluster, args.id) from exc
        tell(session, cluster, event, told, CANCELLED)
        print(f"event {event.id} cancelled; {len(told)} members told")


def cli_move(args, cli) -> None:
    now = utcnow()
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        start, end = _cli_span(cluster, args, now)
        try:
            event, told = store.move(session, cluster, args.id, start, now, ends_at=end)
        except EventError as exc:
            raise _cli_fail(exc, cluster, args.id) from exc
        tell(session, cluster, event, told, MOVED)
        print(f"event {event.id} moved to {local(event.starts_at, cluster)}; {len(told)} members told")


def cli_remind(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        try:
            deadline = _minutes(args.deadline_reminder) if args.deadline_reminder else None
            event = store.set_reminders(session, cluster, args.id, args.times, deadline)
        except EventError as exc:
            raise _cli_fail(exc, cluster, args.id) from exc
        print(f"event {event.id}: reminders {event.reminders} minutes before the start, "
              f"{event.deadline_reminder} before the answer deadline")


def cli_attend(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        try:
            refs = parse.member_refs(", ".join(args.members), cluster.region)
        except parse.ParseError as exc:
            raise CliError(f"{i18n.translate('en', exc.msgid)} Nothing recorded.") from exc
        for ref in refs:
            member = find_member(session, cluster, ref.key)
            if member is None:
                raise CliError(f"no member {ref.text} in {cluster.name}; nothing recorded")
            try:
                _record, new = store.mark_attendance(session, cluster, args.id, member, utcnow(), method="cli")
            except EventError as exc:
                raise _cli_fail(exc, cluster, args.id) from exc
            print(f"{member.number} {member.name}: " + ("recorded" if new else "already recorded"))
