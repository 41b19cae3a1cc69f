"""`clusterbot poll create|schedule|list|cancel|results`.

Every option is read by the shared parser (bot/parse.py), as the same value typed in a message would be:
ids as `12` or `#12`, the start as any date and time it reads (`2031-01-01 18:00`, `1 Jan 2031 6pm`) in the
cluster's timezone, counts in figures. A refusal names the option and says what was expected.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import i18n, parse, tables
from bot.cli.common import CliError
from bot.handlers.polls import DEFAULT_SCHEDULE, create_checked
from bot.parse import ParseError
from storage import polls as store
from storage.db import session_scope, utcnow
from storage.polls import Poll, PollError, PollRound, Schedule

START_GRACE = timedelta(days=1)  # as far back as storage.polls.schedule_poll takes a start
# Why the poll rules refused, by code, as the terminal says it.
REASONS = {
    "no_questions": "a poll needs at least one question",
    "too_many_questions": f"a poll may have at most {store.MAX_QUESTIONS} questions",
    "too_many_options": f"a choice question may have at most {store.MAX_OPTIONS} options",
    "too_few_options": "a choice question needs at least 2 options",
    "options_differ": "a choice question needs as many options in each language",
    "options_not_allowed": "only a choice question has options",
    "bad_question": "a question must be a mapping with kind and text",
    "too_long": "a question with its options does not fit one SMS",
    "bad_kind": f"question kinds are {', '.join(store.KINDS)}",
    "no_text": "a question or the title has no text",
    "title_too_long": "a title may have at most 80 characters",
    "bad_audience": "the audience is not a segment (all, sector:X, location:Y, gender:F, role:firm)",
    "bad_start": "the start must be a date and a time, e.g. '2031-01-01 18:00'",
    "start_past": "the start is in the past",
    "bad_every": "the months between rounds must be 0 (once) to 24",
    "bad_close": "reminder days must be fewer than close days, and a round must close before the next",
    "bad_window": "the send window must be 1-7 days of 0-12 hours and end before the round closes",
    "cancelled": "the poll is cancelled",
    "unknown_template": f"templates are {', '.join(store.TEMPLATES)}",
}


def _explain(exc: PollError) -> str:
    return REASONS.get(exc.code, exc.code) + (f" ({exc.detail})" if exc.detail else "")


def _words(exc: ParseError) -> str:
    """The parser's reply, in English, as the terminal's explanation."""
    return i18n.translate("en", exc.msgid)


def _option(read: Callable[[str], int], name: str) -> Callable[[str], int]:
    """An argparse type that reads through the shared parser; its refusal becomes argparse's error."""
    def convert(text: str) -> int:
        try:
            return read(text)
        except ParseError as exc:
            raise argparse.ArgumentTypeError(_words(exc)) from exc
    convert.__name__ = name  # argparse names the type in its error: "invalid <name> value"
    return convert


def _count(text: str) -> int:
    """A whole number of days, hours or months, 0 included: 3, or 1 000."""
    return parse.quantity(text, whole=True) // parse.QTY_SCALE


def _start(text: str, tz: str) -> datetime:
    """The first round's moment as the parser reads it; a date written in full may lie up to a day back
    (the poll rules open such a round at once), so an operator can start a round that is due now."""
    now = utcnow()
    try:
        return parse.moment(text, tz, now)
    except ParseError as exc:
        if exc.code != "past":
            raise
        return parse.moment(text, tz, now - START_GRACE)


def _counted(count: int, noun: str) -> str:
    """'1 question', '7 questions': the terminal speaks English, whose plural adds an s."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


IDENT = _option(parse.ident, "id")
COUNT = _option(_count, "count")


def results_rows(session: Session, poll_row: Poll, rnd: PollRound, members: set[int] | None = None
                 ) -> tuple[list[str], list[list]]:
    """The full results of a round: all members, then each group by gender, sector, location and role
    (groups under five respondents left out, figures under five answers blank), with the change."""
    columns = ["round", "dimension", "group", "respondents", "question", "key", "kind", "answers", "skipped",
               "mean", "score", "change", "distribution"]
    current = store.round_results(session, rnd, members)
    before = store.previous_round(session, rnd)
    diff = store.change(current, store.round_results(session, before, members) if before else None)
    rows = [[rnd.number, "all", "all", current.respondents, *_question_cells(q, diff)] for q in current.questions]
    if members is None:
        for dimension in store.DIMENSIONS:
            groups, hidden = store.breakdown(session, rnd, dimension)
            for group in groups:
                for q in current.questions:
                    found = group.questions.get(q.question.position)
                    cells = _question_cells(found, {}) if found else [
                        q.question.position, q.question.key, q.question.kind, "<5", "", "", "", "", ""]
                    rows.append([rnd.number, dimension, group.group, group.respondents, *cells])
            if hidden:
                rows.append([rnd.number, dimension, f"({hidden} groups under {store.MIN_GROUP})", "", "", "", "",
                             "", "", "", "", "", ""])
    return columns, rows


def _question_cells(q: store.QuestionResult, diff: dict) -> list:
    p = q.question.position
    delta = diff.get(f"score:{p}", diff.get(f"mean:{p}"))
    distribution = " ".join(f"{k}:{v}" for k, v in q.distribution.items())
    return [p, q.question.key, q.question.kind, q.answers, q.skipped,
            "" if q.mean is None else round(q.mean, 2), "" if q.score is None else round(q.score, 1),
            "" if delta is None else round(delta, 2), distribution]


def _cli_create(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        try:
            if args.file in store.TEMPLATES:
                spec = store.load_template(args.file)
            elif _is_ident(args.file):
                source = store.get_poll(session, cluster, parse.ident(args.file))
                if source is None:
                    raise CliError(f"no poll {args.file} in {cluster.code}")
                spec = store.poll_spec(session, source)
            else:
                path = Path(args.file)
                if not path.exists():
                    raise CliError(f"no file {path}; or name a template: {', '.join(store.TEMPLATES)}")
                spec = store.read_spec_file(path)
            if args.title:
                spec["title"] = args.title
            item = create_checked(session, cluster, spec, "cli")
        except PollError as exc:
            raise CliError(f"poll refused: {_explain(exc)}") from exc
        count = len(store.questions(session, item))
    print(f"poll {item.id} created with {_counted(count, 'question')} (draft); schedule it with: "
          f"clusterbot poll schedule {item.id} --start 'YYYY-MM-DD HH:MM' [--every-months 6]")


def _is_ident(text: str) -> bool:
    """Whether `poll create` names a poll to copy (12, #12) rather than a file."""
    try:
        parse.ident(text)
    except ParseError:
        return False
    return True


def _cli_schedule(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        item = store.get_poll(session, cluster, args.id)
        if item is None:
            raise CliError(f"no poll {args.id} in {cluster.code}")
        try:
            start = _start(args.start, cluster.timezone)
        except ParseError as exc:
            raise CliError(f"schedule refused: --start {args.start!r}: {_words(exc)}") from exc
        local = start.astimezone(ZoneInfo(cluster.timezone)).replace(tzinfo=None)
        try:
            schedule = Schedule(local, args.every_months, args.remind_days, args.close_days, args.window_hours,
                                args.window_days)
            store.schedule_poll(session, item, cluster, schedule, utcnow(), audience=args.audience, actor="cli")
        except PollError as exc:
            raise CliError(f"schedule refused: {_explain(exc)}") from exc
        first = store.next_due(item, cluster.timezone, None)
        print(f"poll {item.id} scheduled for {item.audience}: first round "
              f"{first.astimezone(ZoneInfo(cluster.timezone)):%Y-%m-%d %H:%M} ({cluster.timezone})"
              + (f", then every {_counted(item.every_months, 'month')}" if item.every_months else ", once"))


def _cli_list(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        for item in store.cluster_polls(session, cluster):
            rounds = store.rounds(session, item)
            print(f"{item.id}\t{item.status}\t{item.title}\t{item.audience}\t"
                  f"every {_counted(item.every_months, 'month')}\t{_counted(len(rounds), 'round')}")


def _cli_cancel(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        item = store.get_poll(session, cluster, args.id)
        if item is None:
            raise CliError(f"no poll {args.id} in {cluster.code}")
        store.cancel_poll(session, item, utcnow(), actor="cli")
    print(f"poll {args.id} cancelled")


def _cli_results(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        item = store.get_poll(session, cluster, args.id)
        if item is None:
            raise CliError(f"no poll {args.id} in {cluster.code}")
        all_rounds = store.rounds(session, item)
        chosen = [r for r in all_rounds if args.round in (None, r.number)]
        if not chosen:
            raise CliError(f"poll {item.id} has no round {args.round or ''}".strip())
        rnd = chosen[-1]
        try:
            members = store.segment_members(session, cluster, args.segment) if args.segment else None
        except PollError as exc:
            raise CliError(_explain(exc)) from exc
        columns, rows = results_rows(session, item, rnd, members)
        result = store.round_results(session, rnd, members)
    if args.format == "csv":
        tables.write_csv(columns, rows, sys.stdout)
        return
    rate = "-" if result.rate is None else f"{100 * result.rate:.0f}%"
    print(f"poll {item.id} {item.title}: round {rnd.number} ({rnd.status}); {result.respondents} of "
          f"{_counted(result.recipients, 'member')} answered ({rate})" + (f"; segment {args.segment}" if args.segment else ""))
    widths = [max(len(str(c)) for c in [col, *(row[i] for row in rows)]) for i, col in enumerate(columns)]
    for row in [columns, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for q in result.questions:
        for text in q.texts[:50]:
            print(f"#{q.question.position} {q.question.key}: {text}")


def register_cli(subparsers) -> None:
    group = subparsers.add_parser("poll", help="satisfaction and interest polls").add_subparsers(
        dest="action", required=True)
    p = group.add_parser("create", help="a poll from a YAML or CSV file, a template name or a poll id to copy")
    p.add_argument("file", help=f"FILE.yaml, FILE.csv, {' or '.join(store.TEMPLATES)}, or a poll id")
    p.add_argument("--title")
    p.add_argument("--cluster")
    p.set_defaults(func=_cli_create)
    p = group.add_parser("schedule", help="when a poll runs, who gets it, reminder and closing")
    p.add_argument("id", type=IDENT)
    p.add_argument("--start", required=True,
                   help="date and time to come in the cluster's timezone: '2031-01-01 18:00', '1 Jan 2031 6pm'")
    p.add_argument("--every-months", type=COUNT, default=0, help="0: once")
    p.add_argument("--remind-days", type=COUNT, default=DEFAULT_SCHEDULE["remind_days"], help="0: no reminder")
    p.add_argument("--close-days", type=COUNT, default=DEFAULT_SCHEDULE["close_days"])
    p.add_argument("--window-hours", type=COUNT, default=DEFAULT_SCHEDULE["window_hours"])
    p.add_argument("--window-days", type=COUNT, default=DEFAULT_SCHEDULE["window_days"])
    p.add_argument("--audience", help="segment: all, sector:X, location:Y, gender:F, role:firm")
    p.add_argument("--cluster")
    p.set_defaults(func=_cli_schedule)
    p = group.add_parser("list")
    p.add_argument("--cluster")
    p.set_defaults(func=_cli_list)
    p = group.add_parser("cancel")
    p.add_argument("id", type=IDENT)
    p.add_argument("--cluster")
    p.set_defaults(func=_cli_cancel)
    p = group.add_parser("results", help="a round's results by group and the change since the round before")
    p.add_argument("id", type=IDENT)
    p.add_argument("--round", type=IDENT)
    p.add_argument("--segment")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    p.add_argument("--cluster")
    p.set_defaults(func=_cli_results)
