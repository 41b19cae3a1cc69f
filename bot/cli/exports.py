"""`clusterbot export KIND`: every kind of record as CSV or JSON, or all of them as one XLSX workbook."""

from __future__ import annotations

import sys

from bot import tables
from bot.cli.common import Cli, CliError
from storage.db import session_scope
from storage.models import export_registry


def cmd_export(args, cli: Cli) -> None:
    kinds = export_registry()
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


def register_cli(sub) -> None:
    p = sub.add_parser("export", help="export a kind of record to stdout")
    p.add_argument("kind")
    p.add_argument("--format", choices=["csv", "json", "xlsx"], default="csv")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_export)
