"""`clusterbot purchase create|list`: every option is read by the shared parser, as NEWBUY reads answers."""

from __future__ import annotations

from bot import i18n, parse
from bot.cli.common import CliError
from bot.handlers.purchases.common import DEFAULT_CLOSING, parsed_values
from bot.handlers.purchases.flows import TEXT_LIMITS, publish_purchase
from bot.parse import ParseError
from storage import purchases as store
from storage.db import session_scope, utcnow
from storage.purchases import PurchaseError
from storage.segments import SegmentError

UNIT_LIMIT = store.column_length("unit")  # Purchase.unit and Purchase.units hold as many


def register_cli(subparsers) -> None:
    group = subparsers.add_parser("purchase", help="joint purchases").add_subparsers(
        dest="action", required=True
    )
    p = group.add_parser("create", help="open a joint purchase and offer it to a segment of members")
    p.add_argument("--item", required=True, help=f"what the group buys, 2 to {TEXT_LIMITS['item']} characters")
    p.add_argument("--unit", required=True, help="one unit, one word, e.g. bag")
    p.add_argument("--units", default="", help="several units, e.g. bags (default: --unit)")
    p.add_argument("--fractional", action="store_true", help="members may pledge parts of a unit")
    p.add_argument("--price", required=True, help="price of one unit at the group rate, e.g. 45000 or 45 000")
    p.add_argument("--usual-price", default="0", help="usual price of one unit bought alone; 0 if unknown")
    p.add_argument("--supplier", default="", help=f"up to {TEXT_LIMITS['supplier']} characters")
    p.add_argument("--pay-to", default="", help=f"how members pay, e.g. 'Lipa na M-Pesa till 5123456 Moshi Coffee Coop' "
                   f"({TEXT_LIMITS['pay_to']} characters)")
    p.add_argument("--minimum", required=True, help="least the group must order in total, in units")
    p.add_argument("--maximum", default="0", help="most the supplier can sell in total; 0 for no limit")
    p.add_argument("--limit", default="0", help="most one member may pledge; 0 for no limit")
    p.add_argument("--deadline", required=True,
                   help="local date and time, e.g. 2026-03-14 17:00 or 14/03 17:00; a date alone closes at 18:00")
    p.add_argument("--segment", default="all")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_create)
    p = group.add_parser("list", help="purchases with their progress and payments")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_list)


def _text(option: str, value: str, limit: int, *, required: bool = True, word: bool = False) -> str:
    """A name typed on the command line, tidied, within the column it goes in (never cut short)."""
    text = parse.clean(value)
    if not text and not required:
        return ""
    if word and (not text or len(text) > limit or " " in text):
        raise CliError(f"{option}: one word of at most {limit} characters")
    if not word and not 2 <= len(text) <= limit:
        raise CliError(f"{option}: 2 to {limit} characters")
    return text


def _read(option: str, reader, currency: str):
    """The value the shared parser reads, or a CLI error worded as the bot words it in English."""
    try:
        return reader()
    except ParseError as exc:
        raise CliError(f"{option}: {i18n.translate('en', exc.msgid, **parsed_values(exc, currency))}") from exc


def cmd_create(args, cli) -> None:
    now = utcnow()
    whole = not args.fractional
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        currency = cluster.currency

        def quantity(option: str, text: str, *, allow_zero: bool = True) -> int:
            return _read(option, lambda: parse.quantity(text, whole=whole, allow_zero=allow_zero), currency)

        unit = _text("--unit", args.unit, UNIT_LIMIT, word=True)
        closing = _read("--deadline", lambda: parse.moment(args.deadline, cluster.timezone, now,
                                                          default_time=DEFAULT_CLOSING), currency)
        data = dict(
            item=_text("--item", args.item, TEXT_LIMITS["item"]),
            unit=unit,
            units=_text("--units", args.units, UNIT_LIMIT, required=False, word=True) or unit,
            whole="whole" if whole else "parts",
            price=_read("--price", lambda: parse.amount(args.price, currency), currency),
            usual=_read("--usual-price", lambda: parse.amount(args.usual_price, currency, allow_zero=True),
                        currency),
            supplier=_text("--supplier", args.supplier, TEXT_LIMITS["supplier"], required=False),
            pay_to=_text("--pay-to", args.pay_to, TEXT_LIMITS["pay_to"], required=False),
            minimum=quantity("--minimum", args.minimum, allow_zero=False),
            maximum=quantity("--maximum", args.maximum),
            limit=quantity("--limit", args.limit),
            segment=args.segment,
            deadline=closing.isoformat(),
        )
        try:
            p, told = publish_purchase(session, cluster, data, None, now)
        except (PurchaseError, SegmentError) as exc:
            raise CliError(f"purchase refused: {exc.code}") from exc
        local = i18n.local_time(p.deadline, cluster.timezone)
        print(f"purchase {p.id} ({p.item}) open until {local:%Y-%m-%d %H:%M}; offered to {told} member{'' if told == 1 else 's'}")


def cmd_list(args, cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        for p in store.cluster_purchases(session, cluster):
            s = store.summary(session, p)
            due, paid_, saved = (store.money_text(v, p.currency) for v in (s.due, s.paid, s.saving))
            progress = f"{store.quantity_text(s.pledged)}/{store.quantity_text(p.minimum)} {p.units}"
            fields = [str(p.id), p.item, p.status, progress, f"due {due}", f"paid {paid_}", f"saved {saved}"]
            print("\t".join(fields), p.currency)
        total, per_member = store.cluster_savings(session, cluster)
        count = len(per_member)
        print(f"saved {store.money_text(total, cluster.currency)} {cluster.currency} for {count} "
              f"member{'' if count == 1 else 's'}")
