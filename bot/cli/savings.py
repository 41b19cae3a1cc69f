"""`clusterbot savings check|dividend|rules|committee`: reconciliation and the year end."""

from __future__ import annotations

from bot import outbox, parse
from bot.cli.common import CliError
from bot.handlers.savings import as_money
from bot.parse import MAX_MINOR, ParseError
from storage import savings as store
from storage.clusters import all_clusters
from storage.db import session_scope, utcnow
from storage.savings import SavingsError


def register_cli(subparsers) -> None:
    sav = subparsers.add_parser("savings", help="SACCOS: check the ledger, dividends, rules, committee")
    actions = sav.add_subparsers(dest="action", required=True)
    p = actions.add_parser("check", help="verify every ledger invariant and flag negative savings; exit 1 on any")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_check)
    p = actions.add_parser("dividend", help="preview (or --post) the year's dividend on savings")
    p.add_argument("--rate", required=True, help="percent a year, e.g. 5 or 7.5")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--post", action="store_true", help="post the entries and tell the members")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_dividend)
    p = actions.add_parser("rules", help="show the cluster's rules, or change them")
    p.add_argument("--cluster")
    p.add_argument("--multiple", type=int, help="a loan may be this many times the savings (default 3)")
    p.add_argument("--rate", help="loan interest, percent a month, e.g. 1.5")
    p.add_argument("--method", choices=store.METHODS)
    p.add_argument("--max-term", type=int, help="longest loan, months")
    p.add_argument("--ceiling", help="largest amount one message may carry; 0 for none")
    p.add_argument("--contribution", help="regular contribution amount; 0 for none")
    p.add_argument("--day", type=int, help="day of the month the contribution is due (1-28)")
    p.add_argument("--remind-days", type=int, help="days before the due day to remind")
    p.add_argument("--fine", help="fine for a missed contribution; 0 for none")
    p.add_argument("--committee-k", type=int, help="approvals a loan needs from the committee; 0: treasurer")
    p.set_defaults(func=cli_rules)
    p = actions.add_parser("committee", help="loan committee members")
    p.add_argument("op", choices=["add", "remove", "list"])
    p.add_argument("member", nargs="*", help="member number or phone (0712 000 006 may have spaces)")
    p.add_argument("--cluster")
    p.set_defaults(func=cli_committee)


def _percent_bp(text: str) -> int:
    """Basis points from a percentage as people write it (5, 7.5, 7,5, 1.25%), read by bot.parse."""
    try:
        thousandths = parse.quantity(text.strip().removesuffix("%"), lang="en")
    except ParseError as exc:
        if exc.code == "negative":
            raise CliError(f"{text}: a percentage from 0 to 100 with at most two decimals") from exc
        raise CliError(f"{text} is not a percentage") from exc
    if thousandths % 10 or thousandths > 100 * 1000:
        raise CliError(f"{text}: a percentage from 0 to 100 with at most two decimals")
    return thousandths // 10


def cli_check(args, cli) -> None:
    with session_scope(cli.db) as session:
        clusters = [cli.cluster(session, args.cluster)] if args.cluster else all_clusters(session)
        problems = [f"{c.code}: {p}" for c in clusters for p in store.check(session, c)]
        problems += [f"{c.code}: account {account.id} of {member.number}: savings {account.balance_minor} "
                     f"{account.currency} (minor units) is negative"
                     for c in clusters for account, member in store.negative_balances(session, c)]
    if problems:
        print("\n".join(problems))
        print(f"savings check FAILED: {len(problems)} problems")
        raise SystemExit(1)
    print(f"savings check passed for {len(clusters)} clusters")


def cli_dividend(args, cli) -> None:
    rate = _percent_bp(args.rate)
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        shares = store.dividends(session, cluster, args.year, rate)
        for share in shares:
            print(
                f"{share.member.number}\t{share.member.name}\t"
                f"average {share.average}\tdividend {share.amount}"
            )
        total = sum(s.amount for s in shares)
        print(
            f"total {total} {cluster.currency} (minor units) at {args.rate}% for {args.year}"
            + ("" if args.post else "; preview only, add --post to post")
        )
        if not args.post:
            return
        try:
            posted = store.post_dividends(session, cluster, args.year, rate, utcnow())
        except SavingsError as exc:
            raise CliError(f"dividends for {args.year} were already posted") from exc
        for share, _entry in posted:
            outbox.notify(
                session,
                share.member,
                "Dividend for {year}: {amount} added to your savings. Your savings: {balance}.",
                in_cluster=cluster,
                year=args.year,
                amount=as_money(share.amount, cluster.currency),
                balance=as_money(session.get(store.Account, share.account.id).balance_minor, cluster.currency),
            )
        print(f"posted {len(posted)} dividend entries")


def cli_rules(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        changes = _rule_changes(args, cluster.currency)
        if changes:
            try:
                store.set_rules(session, cluster, **changes)
            except SavingsError as exc:
                raise CliError(f"bad value for {exc.detail.get('name')}: {exc.detail.get('value')}") from exc
        rules = store.rules_for(session, cluster)
        for name in store.RULE_LIMITS | {"interest_method": None}:
            print(f"{name}\t{getattr(rules, name)}")


def _rule_changes(args, currency: str) -> dict:
    def amount(text: str, ceiling: int | None = None) -> int:
        try:
            return parse.amount(text, currency, ceiling_minor=ceiling, allow_zero=True)
        except ParseError as exc:
            raise CliError(f"{text} is not an amount ({exc.code})") from exc

    changes = {
        "loan_multiple": args.multiple,
        "interest_method": args.method,
        "max_term_months": args.max_term,
        "contribution_day": args.day,
        "remind_days": args.remind_days,
        "committee_k": args.committee_k,
        "interest_bp": _percent_bp(args.rate) if args.rate else None,
        "contribution_minor": amount(args.contribution) if args.contribution else None,
        "fine_minor": amount(args.fine) if args.fine else None,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if args.ceiling is not None:
        changes["ceiling_minor"] = amount(args.ceiling, MAX_MINOR) or None  # the ceiling may exceed the default
    return changes


def cli_committee(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        if args.op != "list":
            member = cli.member(session, cluster, args.member)  # every word after the op
            store.set_committee(session, cluster, member, args.op == "add")
        members = store.committee(session, cluster)
        k = store.rules_for(session, cluster).committee_k
        print(f"loan committee ({k} of {len(members)} must approve; 0: the treasurer decides):")
        for m in members:
            print(f"{m.number}\t{m.name}")
