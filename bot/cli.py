"""The `clusterbot` command: serve, web, worker, chat, cluster, facilitator, export, import.

Domain handler modules add their own subcommands with a `register_cli(subparsers)` function; each
subcommand's `func(args, cli)` receives this module's `Cli` helper for settings, database and cluster.
"""

from __future__ import annotations

import argparse
import logging
import sys
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from bot.config import Settings
from storage.clusters import Cluster, ClusterError, all_clusters, create_cluster, find_by_code
from storage.db import make_engine, migrate, session_scope


class CliError(Exception):
    """Ends a command with a message on stderr and exit status 2."""


class Cli:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def db(self) -> Engine:
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return engine

    def cluster(self, session, code: str | None) -> Cluster:
        """The cluster named by --cluster, or the only one when there is just one."""
        if code:
            cluster = find_by_code(session, code)
            if cluster is None:
                raise CliError(f"no cluster with code {code}")
            return cluster
        clusters = all_clusters(session)
        if len(clusters) == 1:
            return clusters[0]
        if not clusters:
            raise CliError("no cluster yet: create one with `clusterbot cluster create NAME --code CODE`")
        raise CliError("several clusters exist: name one with --cluster CODE")


def cmd_serve(args, cli: Cli) -> None:
    import uvicorn

    from bot.app import create_app
    from bot.runtime import start_workers

    def workers(app):
        dispatcher, stop = start_workers(cli.db, cli.settings)
        app.state.dispatcher = dispatcher
        return stop

    app = create_app(cli.settings, cli.db, workers=workers)
    print(f"clusterbot on http://{args.host}:{args.port}"
          + (" (simulator on)" if cli.settings.simulator else ""), file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)


def cmd_web(args, cli: Cli) -> None:
    import uvicorn

    from bot.app import create_app

    uvicorn.run(create_app(cli.settings, cli.db), host=args.host, port=args.port, access_log=False)


def cmd_worker(args, cli: Cli) -> None:
    import signal
    import threading

    from bot.runtime import start_workers

    _dispatcher, stop = start_workers(cli.db, cli.settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # a PaaS or systemd asks politely first
    print("clusterbot worker running: dispatcher and scheduler", file=sys.stderr)
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    stop()


def cmd_migrate(args, cli: Cli) -> None:
    _ = cli.db
    print("database is up to date", file=sys.stderr)


def cmd_chat(args, cli: Cli) -> None:
    from sqlmodel import select

    from bot.channels.simulator import provider_id
    from bot.engine import Inbound, receive
    from storage.glossary import GlossaryIndex
    from storage.members import normalise_phone
    from storage.messages import OutboundMessage

    phone = normalise_phone(args.sender, cli.settings.default_region)
    if phone is None:
        raise CliError(f"{args.sender} is not a valid phone number (region {cli.settings.default_region})")
    print(f"Chatting as {phone}. Type a message, or an empty line / Ctrl-D to leave.", file=sys.stderr)
    last_seen = _last_outbound_id(cli.db)
    glossary = GlossaryIndex()
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            break
        outcome = receive(cli.db, cli.settings, Inbound("sms", phone, line, provider_id()), reply_status="sent",
                          glossary=glossary)
        for reply in outcome.replies:
            print(f"< {reply.text}")
        with session_scope(cli.db) as session:
            for msg in session.exec(select(OutboundMessage).where(
                    OutboundMessage.address == phone, OutboundMessage.inbound_id == None,  # noqa: E711
                    OutboundMessage.id > last_seen).order_by(OutboundMessage.id)):
                print(f"< {msg.text}")
        last_seen = _last_outbound_id(cli.db)
        sys.stdout.flush()


def _last_outbound_id(db: Engine) -> int:
    from sqlmodel import func, select

    from storage.messages import OutboundMessage

    with session_scope(db) as session:
        return session.exec(select(func.coalesce(func.max(OutboundMessage.id), 0))).one()


def cmd_cluster_create(args, cli: Cli) -> None:
    s = cli.settings
    with session_scope(cli.db) as session:
        try:
            cluster = create_cluster(session, args.name, args.code, language=args.language or s.default_language,
                                     currency=args.currency or s.default_currency,
                                     timezone=args.timezone or s.timezone, region=args.region or s.default_region)
        except ClusterError as exc:
            raise CliError(str(exc)) from exc
        print(f"cluster {cluster.name} created; members join with: JOIN {cluster.code}")


def cmd_cluster_list(args, cli: Cli) -> None:
    with session_scope(cli.db) as session:
        for c in all_clusters(session):
            print(f"{c.code}\t{c.name}\t{c.language}\t{c.currency}\t{c.timezone}")


def cmd_facilitator_add(args, cli: Cli) -> None:
    from storage.members import MemberError, normalise_phone, set_admin

    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        phone = normalise_phone(args.phone, cluster.region)
        if phone is None:
            raise CliError(f"{args.phone} is not a valid phone number")
        try:
            member = set_admin(session, cluster, phone, args.role)
        except MemberError as exc:
            raise CliError(f"cannot make {phone} a {args.role}: {exc.code}") from exc
        print(f"{phone} is now {args.role} of {cluster.name} (member {member.number})")


def cmd_export(args, cli: Cli) -> None:
    from bot import tables
    from storage.exports import registry

    kinds = registry()
    if args.kind != "all" and args.kind not in kinds:
        raise CliError(f"unknown kind {args.kind}; one of: all, {', '.join(sorted(kinds))}")
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        if args.format == "xlsx":
            names = sorted(kinds) if args.kind == "all" else [args.kind]
            sheets = ((name, *kinds[name](session, cluster)) for name in names)
            tables.write_xlsx(sheets, sys.stdout.buffer)
            return
        if args.kind == "all":
            raise CliError("`export all` needs --format xlsx (one sheet per kind)")
        columns, rows = kinds[args.kind](session, cluster)
        writer = tables.write_csv if args.format == "csv" else tables.write_json
        writer(columns, rows, sys.stdout)


def cmd_import_members(args, cli: Cli) -> None:
    from bot import tables
    from storage.members import import_rows

    path = Path(args.file)
    if not path.exists():
        raise CliError(f"no file {path}")
    try:
        rows = tables.read_member_table(path)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        created, errors = import_rows(session, cluster, rows, actor=f"import {path.name}")
    print(f"imported {len(created)} members into {cluster.name}; {len(errors)} rows rejected")
    for row, reason in errors:
        print(f"row {row}: {reason}")


def _find_member(session, cli: Cli, args):
    from storage.members import find_member

    cluster = cli.cluster(session, args.cluster)
    member = find_member(session, cluster, args.member)
    if member is None:
        raise CliError(f"no member {args.member} in {cluster.name}")
    return member


def cmd_member_export(args, cli: Cli) -> None:
    import json

    from storage.privacy import export_member

    with session_scope(cli.db) as session:
        data = export_member(session, _find_member(session, cli, args))
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\n")


def cmd_member_forget(args, cli: Cli) -> None:
    from storage.privacy import forget_member

    if not args.yes:
        raise CliError("this erases the member's personal data for good: add --yes to confirm")
    with session_scope(cli.db) as session:
        member = _find_member(session, cli, args)
        forget_member(session, member)
        print(f"member {member.number} forgotten; amounts on record are kept under the anonymous number")


def cmd_backup(args, cli: Cli) -> None:
    import sqlite3

    if cli.db.dialect.name != "sqlite":
        raise CliError("backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see README)")
    target = Path(args.path)
    if target.exists():
        raise CliError(f"{target} exists: choose a new file")
    source = sqlite3.connect(cli.db.url.database)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    print(f"backup written to {target}")


def cmd_telegram_set_webhook(args, cli: Cli) -> None:
    from bot.channels.telegram import set_webhook

    try:
        print(set_webhook(cli.settings, args.url))
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusterbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    for name, func, helptext in (("serve", cmd_serve, "web, scheduler and dispatcher in one process"),
                                 ("web", cmd_web, "the web process only (Procfile web)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.set_defaults(func=func)
    sub.add_parser("worker", help="scheduler and outbox dispatcher (Procfile worker)").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)

    p = sub.add_parser("chat", help="talk to the bot in the terminal as a phone")
    p.add_argument("--from", dest="sender", required=True)
    p.set_defaults(func=cmd_chat)

    cluster = sub.add_parser("cluster", help="clusters").add_subparsers(dest="action", required=True)
    p = cluster.add_parser("create")
    p.add_argument("name")
    p.add_argument("--code", required=True)
    p.add_argument("--language", choices=["en", "sw", "fr", "am"])
    p.add_argument("--currency")
    p.add_argument("--timezone")
    p.add_argument("--region", help="country for phone numbers, e.g. TZ, KE, SN, ET")
    p.set_defaults(func=cmd_cluster_create)
    cluster.add_parser("list").set_defaults(func=cmd_cluster_list)

    fac = sub.add_parser("facilitator", help="facilitators and treasurers").add_subparsers(dest="action",
                                                                                            required=True)
    p = fac.add_parser("add")
    p.add_argument("phone")
    p.add_argument("--cluster")
    p.add_argument("--role", choices=["facilitator", "treasurer"], default="facilitator")
    p.set_defaults(func=cmd_facilitator_add)

    p = sub.add_parser("export", help="export a kind of record to stdout")
    p.add_argument("kind")
    p.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_export)

    imp = sub.add_parser("import", help="import records").add_subparsers(dest="kind", required=True)
    p = imp.add_parser("members", help="CSV or XLSX member list with a header row")
    p.add_argument("file")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_import_members)

    member = sub.add_parser("member", help="one member's data").add_subparsers(dest="action", required=True)
    p = member.add_parser("export", help="everything held about one member, as JSON")
    p.add_argument("member", help="phone or member number")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_member_export)
    p = member.add_parser("forget", help="erase a member's personal data, keeping amounts anonymously")
    p.add_argument("member", help="phone or member number")
    p.add_argument("--cluster")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_member_forget)

    tg = sub.add_parser("telegram", help="Telegram setup").add_subparsers(dest="action", required=True)
    p = tg.add_parser("set-webhook", help="point Telegram at PUBLIC_BASE_URL/webhooks/telegram")
    p.add_argument("--url", help="another public HTTPS URL")
    p.set_defaults(func=cmd_telegram_set_webhook)

    p = sub.add_parser("backup", help="copy the SQLite database safely while it runs")
    p.add_argument("path")
    p.set_defaults(func=cmd_backup)

    from bot.handlers import MODULES

    for module in MODULES:
        if hasattr(module, "register_cli"):
            module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs every send with the number
    args = build_parser().parse_args(argv)
    cli = Cli(Settings.from_env())
    try:
        args.func(args, cli)
    except CliError as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
