"""`clusterbot purchase create|list`."""

from __future__ import annotations

from bot import i18n
from bot.cli.common import CliError
from bot.handlers.purchases import QuantityError, parse_deadline, parse_quantity, publish_purchase
from bot.money import AmountError, parse_amount
from storage import purchases as store
from storage.db import session_scope, utcnow
from storage.purchases import PurchaseError
from storage.segments import SegmentError


def register_cli(subparsers) -> None:
    group = subparsers.add_parser("purchase", help="joint purchases").add_subparsers(
        dest="action", required=True
    )
    p = group.add_parser("create", help="open a joint purchase and offer it to a segment of members")
    p.add_argument("--item", required=True)
    p.add_argument("--unit", required=True, help="one unit, e.g. bag")
    p.add_argument("--units", default="", help="several units, e.g. bags (default: --unit)")
    p.add_argument("--fractional", action="store_true", help="members may pledge parts of a unit")
    p.add_argument("--price", required=True, help="price of one unit at the group rate")
    p.add_argument("--usual-price", default="0", help="usual price of one unit bought alone")
    p.add_argument("--supplier", default="")
    p.add_argument("--pay-to", default="", help="how members pay, e.g. 'M-Pesa 0712 345 678'")
    p.add_argument("--minimum", required=True)
    p.add_argument("--maximum", default="0")
    p.add_argument("--limit", default="0", help="most one member may pledge")
    p.add_argument("--deadline", required=True, help="local date and time, e.g. 2026-03-14 17:00")
    p.add_argument("--segment", default="all")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_create)
    p = group.add_parser("list", help="purchases with their progress and payments")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_list)


def cmd_create(args, cli) -> None:
    now = utcnow()
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        try:
            data = dict(
                item=args.item,
                unit=args.unit,
                units=args.units or args.unit,
                whole="no" if args.fractional else "yes",
                price=parse_amount(args.price, cluster.currency),
                usual=parse_amount(args.usual_price, cluster.currency, allow_zero=True),
                supplier=args.supplier,
                pay_to=args.pay_to,
                minimum=parse_quantity(args.minimum),
                maximum=parse_quantity(args.maximum),
                limit=parse_quantity(args.limit),
                segment=args.segment,
            )
        except (AmountError, QuantityError) as exc:
            raise CliError(f"not a valid amount or quantity: {exc.code}") from exc
        deadline = parse_deadline(args.deadline, cluster.timezone, now)
        if deadline is None:
            raise CliError("deadline: write a local date and time, e.g. 2026-03-14 17:00")
        data["deadline"] = deadline.isoformat()
        try:
            p, told = publish_purchase(session, cluster, data, None, now)
        except (PurchaseError, SegmentError) as exc:
            raise CliError(f"purchase refused: {exc.code}") from exc
        closing = i18n.local_time(p.deadline, cluster.timezone)
        print(f"purchase {p.id} ({p.item}) open until {closing:%Y-%m-%d %H:%M}; offered to {told} members")


def cmd_list(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        for p in store.cluster_purchases(session, cluster):
            s = store.summary(session, p)
            due, paid_, saved = (store.money_text(v, p.currency) for v in (s.due, s.paid, s.saving))
            progress = f"{store.quantity_text(s.pledged)}/{store.quantity_text(p.minimum)} {p.units}"
            fields = [str(p.id), p.item, p.status, progress, f"due {due}", f"paid {paid_}", f"saved {saved}"]
            print("\t".join(fields), p.currency)
