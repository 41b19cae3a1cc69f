"""The `clusterbot` command: serve, web, worker, chat, cluster, facilitator, export, import, and each
domain's own subcommands (event, purchase, savings, poll, glossary).

Each module of this package is named after the domain it serves (`bot/cli/events.py` beside
`bot/handlers/events.py` and `storage/events.py`) and adds its subcommands with `register_cli(subparsers)`;
each subcommand's `func(args, cli)` receives a `Cli` (bot/cli/common.py) for settings, database and cluster.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.cli import clusters, events, exports, glossary, members, polls, purchases, savings, service
from bot.cli.common import Cli, CliError
from bot.config import Settings

MODULES = (service, clusters, members, exports, glossary, events, purchases, savings, polls)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusterbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for module in MODULES:
        module.register_cli(sub)
    return parser


# Libraries whose INFO lines are routine, not news: alembic on every call (even when nothing migrates),
# APScheduler at every run of every job. They speak at INFO only when LOG_LEVEL=DEBUG.
ROUTINE = ("alembic", "apscheduler")


def configure_logging(level_name: str) -> None:
    """LOG_LEVEL for the bot's own lines (default WARNING: a terminal shows only what needs attention)."""
    level = logging.getLevelName(level_name)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs every send with the number
    for name in ROUTINE:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    cli = Cli(settings)
    try:
        args.func(args, cli)
    except CliError as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
