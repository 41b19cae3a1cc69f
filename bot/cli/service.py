"""Running the bot: serve, web, worker, migrate, chat in the terminal, SQLite backups, the Telegram webhook."""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import uuid
from pathlib import Path

import uvicorn
from sqlalchemy import Engine
from sqlmodel import func, select

from bot.app import create_app
from bot.channels import ussd
from bot.channels.simulator import SERVICE_CODE, provider_id
from bot.channels.telegram import set_webhook
from bot.cli.common import Cli, CliError
from bot.config import Settings
from bot.engine import Inbound, receive
from bot.runtime import start_workers
from storage.db import session_scope
from storage.glossary import GlossaryIndex
from storage.members import normalise_phone
from storage.messages import OutboundMessage


def uvicorn_options(settings: Settings) -> dict:
    """How uvicorn is run: X-Forwarded-For/-Proto are believed only from the proxies FORWARDED_ALLOW_IPS
    names (uvicorn on its own would trust 127.0.0.1, so a local proxy could make anyone look local)."""
    ips = settings.forwarded_allow_ips
    return {"proxy_headers": bool(ips), "forwarded_allow_ips": ips or None, "access_log": False}


def cmd_serve(args, cli: Cli) -> None:

    def workers(app):
        dispatcher, stop = start_workers(cli.db, cli.settings)
        app.state.dispatcher = dispatcher
        return stop

    app = create_app(cli.settings, cli.db, workers=workers)
    print(f"clusterbot on http://{args.host}:{args.port}"
          + (" (simulator on)" if cli.settings.simulator else ""), file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=cli.settings.log_level.lower(),
                **uvicorn_options(cli.settings))


def cmd_web(args, cli: Cli) -> None:

    print(f"clusterbot web on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(create_app(cli.settings, cli.db), host=args.host, port=args.port,
                log_level=cli.settings.log_level.lower(), **uvicorn_options(cli.settings))


def cmd_worker(args, cli: Cli) -> None:

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

    phone = normalise_phone(args.sender, cli.settings.default_region)
    if phone is None:
        raise CliError(f"{args.sender} is not a valid phone number (region {cli.settings.default_region})")
    if args.ussd:
        _chat_ussd(cli, phone)
        return
    print(f"Chatting as {phone}. Type a message, or an empty line / Ctrl-D to leave.", file=sys.stderr)
    last_seen = _last_outbound_id(cli.db)
    glossary = GlossaryIndex()
    prompt = "> " if sys.stdin.isatty() else ""  # typed by hand: a prompt; piped in: the replies alone
    while True:
        line = _read(prompt)
        if line is None:
            break
        outcome = receive(cli.db, cli.settings, Inbound("sms", phone, line, provider_id()), reply_status="sent",
                          glossary=glossary)
        for reply in outcome.replies:
            print(f"< {reply.text}")
        last_seen = _print_notices(cli.db, phone, last_seen, "< ")
        sys.stdout.flush()


def _chat_ussd(cli: Cli, phone: str) -> None:
    """USSD as a handset dials it: a fresh session, each answer sent with every earlier one joined by `*`,
    until an END screen; the next line dials again. Receipts the session queued by SMS are printed too."""
    code = cli.settings.ussd_service_code or SERVICE_CODE
    print(f"Dialling {code} as {phone}. Answer each screen, or an empty line / Ctrl-D to leave; "
          "after the session ends, any line dials again.", file=sys.stderr)
    last_seen = _last_outbound_id(cli.db)
    glossary = GlossaryIndex()
    tty = sys.stdin.isatty()
    while True:
        session_id, given, end = "chat-" + uuid.uuid4().hex, [], False
        while not end:
            screen = ussd.respond(cli.db, cli.settings, ussd.Dial(session_id, phone, "*".join(given), code),
                                  glossary=glossary)
            end = screen.startswith("END")
            print(screen[4:])
            if end:
                print("(session ended)")
            last_seen = _print_notices(cli.db, phone, last_seen, "< SMS: ")
            sys.stdout.flush()
            if not end:
                answer = _read("> " if tty else "")
                if answer is None:
                    return
                given.append(answer.strip())
        if _read(f"{code} to dial again> " if tty else "") is None:
            return


def _read(prompt: str) -> str | None:
    """The next line typed, or None to leave (an empty line or the end of input)."""
    try:
        line = input(prompt)
    except EOFError:
        return None
    return line if line.strip() else None


def _print_notices(db: Engine, phone: str, last_seen: int, prefix: str) -> int:
    """Print what the bot queued for the phone on its own (notices, receipts) since `last_seen`."""
    with session_scope(db) as session:
        for msg in session.exec(select(OutboundMessage).where(
                OutboundMessage.address == phone, OutboundMessage.inbound_id == None,  # noqa: E711
                OutboundMessage.id > last_seen).order_by(OutboundMessage.id)):
            print(f"{prefix}{msg.text}")
    return _last_outbound_id(db)


def _last_outbound_id(db: Engine) -> int:

    with session_scope(db) as session:
        return session.exec(select(func.coalesce(func.max(OutboundMessage.id), 0))).one()


def cmd_backup(args, cli: Cli) -> None:
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
    try:
        print(set_webhook(cli.settings, args.url))
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def register_cli(sub) -> None:
    for name, command, helptext in (("serve", cmd_serve, "web, scheduler and dispatcher in one process"),
                                    ("web", cmd_web, "the web process only (Procfile web)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        p.set_defaults(func=command)
    sub.add_parser("worker", help="scheduler and outbox dispatcher (Procfile worker)").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)

    p = sub.add_parser("chat", help="talk to the bot in the terminal as a phone")
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--ussd", action="store_true", help="dial the USSD menus instead of writing SMS")
    p.set_defaults(func=cmd_chat)

    tg = sub.add_parser("telegram", help="Telegram setup").add_subparsers(dest="action", required=True)
    p = tg.add_parser("set-webhook", help="point Telegram at PUBLIC_BASE_URL/webhooks/telegram")
    p.add_argument("--url", help="another public HTTPS URL")
    p.set_defaults(func=cmd_telegram_set_webhook)

    p = sub.add_parser("backup", help="copy the SQLite database safely while it runs")
    p.add_argument("path")
    p.set_defaults(func=cmd_backup)
