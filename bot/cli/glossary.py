"""`clusterbot glossary import|export|rule|weekly|history`."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlmodel import select

from bot import parse, tables
from bot.cli.common import CliError
from bot.handlers.glossary import MAX_PAGES, OFF_WORDS, day_name, long_fits, short_fits, weekday_number
from bot.parse import QTY_SCALE, ParseError
from storage import glossary as store
from storage.db import session_scope, utcnow


def import_check(row: dict[str, str]) -> str | None:
    """The SMS budget a facilitator's or importer's wording must meet, in the row's own language."""
    lang, name, short, long = row["lang"], row["name"], row.get("short", ""), row.get("long", "")
    if not short_fits(lang, name, short):
        return "short definition does not fit one SMS with its name"
    if not long_fits(lang, long):
        return f"long explanation does not fit {MAX_PAGES} messages"
    return None


def whole_number(text: str, option: str, low: int, high: int) -> int:
    """An option's whole number as people write it, read by bot.parse, from `low` to `high`."""
    try:
        value = parse.quantity(text, whole=True) // QTY_SCALE
    except ParseError as exc:
        raise CliError(f"{option} {text}: a whole number from {low} to {high}") from exc
    if not low <= value <= high:
        raise CliError(f"{option} {text}: a whole number from {low} to {high}")
    return value


def cmd_import(args, cli) -> None:
    path = Path(args.file)
    if not path.exists():
        raise CliError(f"no file {path}")
    rows = store.read_csv(path)
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster) if args.cluster else None
        stored, errors = store.import_rows(session, rows, cluster=cluster, check=import_check,
                                           actor=f"import {path.name}")
    print(f"imported {stored} glossary rows; {len(errors)} rows rejected")
    for number, reason in errors:
        print(f"row {number}: {reason}")


def cmd_export(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster) if args.cluster else None
        columns, rows = store.glossary_rows(session, cluster)
        tables.write_csv(columns, rows, sys.stdout)


def cmd_rule(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        rule = store.settings_for(session, cluster.id)
        if args.min_votes is not None:
            rule.min_votes = whole_number(args.min_votes, "--min-votes", 1, 10_000)
        if args.vote_days is not None:
            rule.vote_days = whole_number(args.vote_days, "--vote-days", 1, 60)
        if args.early_majority is not None:
            rule.early_majority = args.early_majority == "yes"
        if args.majority is not None:
            rule.plurality = args.majority == "plurality"
        session.add(rule)
        print(f"{cluster.code}: at least {rule.min_votes} votes, {rule.vote_days} days, "
              f"{'most votes' if rule.plurality else 'more than half of the votes'} wins at the close; "
              f"early adoption by an absolute majority of active members: {'yes' if rule.early_majority else 'no'}")


def cmd_weekly(args, cli) -> None:
    off = parse.fold(args.day) in OFF_WORDS
    hour = None if args.hour is None else whole_number(args.hour, "--hour", 0, 23)
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        day = None if off else weekday_number(args.day, tz=cluster.timezone, now=utcnow())
        if day is None and not off:
            raise CliError(f"{args.day} is not a weekday (mon..sun, 1..7, in any language) or off")
        rule = store.settings_for(session, cluster.id)
        rule.weekly_day = day
        if hour is not None:
            rule.weekly_hour = hour
        session.add(rule)
        print(f"{cluster.code}: term of the week "
              + ("off" if day is None else f"every {day_name(day, 'en')} from {rule.weekly_hour:02d}:00"))


def cmd_history(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        for row in session.exec(select(store.GlossaryHistory).where(store.GlossaryHistory.cluster_id == cluster.id)
                                .order_by(store.GlossaryHistory.id)):
            print(f"{row.at.isoformat(timespec='seconds')}\t{row.action}\t{row.actor}\t{row.term_id or ''}"
                  f"\t{row.details}")


def register_cli(subparsers) -> None:
    group = subparsers.add_parser("glossary", help="the glossary: import, export, voting rule, term of the week")
    sub = group.add_subparsers(dest="action", required=True)
    p = sub.add_parser("import", help="CSV, one row per term and language (columns as in the export)")
    p.add_argument("file")
    p.add_argument("--cluster", help="make every row this cluster's own; default: the file's cluster column")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", help="CSV to stdout: the global glossary, plus --cluster's own entries")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("rule", help="show or change a cluster's rule for adopting local words")
    p.add_argument("--cluster")
    p.add_argument("--min-votes", help="at least this many votes for a result (1 or more)")
    p.add_argument("--vote-days", help="how long a vote stays open, 1 to 60 days")
    p.add_argument("--early-majority", choices=["yes", "no"])
    p.add_argument("--majority", choices=["simple", "plurality"])
    p.set_defaults(func=cmd_rule)
    p = sub.add_parser("weekly", help="term of the week: a weekday (mon..sun, 1..7, jumatatu, lundi...) or off")
    p.add_argument("day")
    p.add_argument("--cluster")
    p.add_argument("--hour", help="local hour to send, 0 to 23, default 9")
    p.set_defaults(func=cmd_weekly)
    p = sub.add_parser("history", help="what changed: proposals, votes and their tallies, edits, imports")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_history)
