"""`clusterbot cluster create|edit|list`."""

from __future__ import annotations

from bot.cli.common import Cli, CliError
from storage.clusters import (
    SMS_PROVIDERS,
    ClusterError,
    all_clusters,
    check_sms_provider,
    create_cluster,
    find_by_code,
)
from storage.db import session_scope

DEFAULT = "default"  # --sms-provider default: the cluster follows SMS_PROVIDER again


def cmd_cluster_create(args, cli: Cli) -> None:
    s = cli.settings
    with session_scope(cli.db) as session:
        try:
            cluster = create_cluster(session, args.name, args.code, language=args.language or s.default_language,
                                     currency=args.currency or s.default_currency,
                                     timezone=args.timezone or s.timezone, region=args.region or s.default_region,
                                     sms_provider=args.sms_provider or "",
                                     quiet_hours=args.quiet or s.quiet_hours)
        except ClusterError as exc:
            raise CliError(str(exc)) from exc
        print(f"cluster {cluster.name} created; members join with: JOIN {cluster.code}")


def cmd_cluster_edit(args, cli: Cli) -> None:
    with session_scope(cli.db) as session:
        cluster = find_by_code(session, args.code)
        if cluster is None:
            raise CliError(f"no cluster with join code {args.code}")
        if args.sms_provider is not None:
            try:
                cluster.sms_provider = check_sms_provider("" if args.sms_provider == DEFAULT else args.sms_provider)
            except ClusterError as exc:
                raise CliError(str(exc)) from exc
        session.add(cluster)
        provider = cluster.sms_provider or f"{cli.settings.default_sms_provider} (SMS_PROVIDER)"
        print(f"cluster {cluster.name}: notices by SMS go through {provider}")


def cmd_cluster_list(args, cli: Cli) -> None:
    with session_scope(cli.db) as session:
        for c in all_clusters(session):
            print(f"{c.code}\t{c.name}\t{c.language}\t{c.currency}\t{c.timezone}\t{c.sms_provider or '-'}"
                  f"\tquiet {c.quiet_hours or 'unset'}")


def register_cli(sub) -> None:
    cluster = sub.add_parser("cluster", help="clusters").add_subparsers(dest="action", required=True)
    p = cluster.add_parser("create")
    p.add_argument("name")
    p.add_argument("--code", required=True)
    p.add_argument("--language", choices=["en", "sw", "fr", "am"])
    p.add_argument("--currency")
    p.add_argument("--timezone")
    p.add_argument("--region", help="country for phone numbers, e.g. TZ, KE, SN, ET")
    p.add_argument("--sms-provider", choices=SMS_PROVIDERS,
                   help="who sends this cluster's notices by SMS (default: SMS_PROVIDER)")
    p.add_argument("--quiet", metavar="HH:MM-HH:MM|off",
                   help="quiet hours (local time) when notices wait, e.g. 21:00-07:00, or off; default QUIET_HOURS")
    p.set_defaults(func=cmd_cluster_create)
    p = cluster.add_parser("edit")
    p.add_argument("code", help="the cluster's join code")
    p.add_argument("--sms-provider", choices=[*SMS_PROVIDERS, DEFAULT],
                   help=f"who sends this cluster's notices by SMS; {DEFAULT}: SMS_PROVIDER")
    p.set_defaults(func=cmd_cluster_edit)
    cluster.add_parser("list").set_defaults(func=cmd_cluster_list)
