"""`clusterbot facilitator add`, `import members` (CSV or XLSX) and one member: `member export|forget|commit|uncommit`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot import i18n, tables
from bot.cli.common import Cli, CliError
from bot.handlers.registration import announce_pending
from storage import kpis
from storage.db import session_scope, utcnow
from storage.members import (
    MemberError,
    admins,
    clear_committed,
    find_member,
    import_rows,
    mark_committed,
    normalise_phone,
    set_admin,
)
from storage.privacy import export_member, forget_member


def cmd_facilitator_add(args, cli: Cli) -> None:
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        written = " ".join(args.phone)  # 0712 000 006 unquoted is one phone number
        phone = normalise_phone(written, cluster.region)
        if phone is None:
            raise CliError(f"{written} is not a valid phone number")
        before = find_member(session, cluster, phone)
        was = before.admin_role if before is not None and before.status == "active" else None
        try:
            member = set_admin(session, cluster, phone, args.role)
        except MemberError as exc:
            raise CliError(f"cannot make {phone} a {args.role}: {exc.code}") from exc
        newly = args.role == "facilitator" and was != "facilitator"
        waiting = announce_pending(session, cluster, member) if newly else 0
        print(f"{phone} is now {args.role} of {cluster.name} (member {member.number})")
        if waiting:
            print(f"{waiting} registration(s) wait for approval: sent to {phone}")
        if not admins(session, cluster.id, ("treasurer",)):
            print("no treasurer yet: members' SAVE and REPAY wait until you name one "
                  f"(clusterbot facilitator add PHONE --role treasurer --cluster {cluster.code})")


def cmd_import_members(args, cli: Cli) -> None:
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
    return cli.member(session, cli.cluster(session, args.cluster), args.member)


def cmd_member_export(args, cli: Cli) -> None:

    with session_scope(cli.db) as session:
        data = export_member(session, _find_member(session, cli, args))
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
    sys.stdout.write("\n")


def cmd_member_forget(args, cli: Cli) -> None:
    if not args.yes:
        raise CliError("this erases the member's personal data for good: add --yes to confirm")
    with session_scope(cli.db) as session:
        member = _find_member(session, cli, args)
        forget_member(session, member)
        print(f"member {member.number} forgotten; amounts on record are kept under the anonymous number")


def cmd_member_commit(args, cli: Cli) -> None:
    """The facilitator's committed mark from the terminal: set (it counts for 12 months) or cleared."""
    with session_scope(cli.db) as session:
        cluster = cli.cluster(session, args.cluster)
        member = cli.member(session, cluster, args.member)
        now = utcnow()
        if args.action == "commit":
            try:
                mark_committed(session, member, None, now, via="cli")
            except MemberError as exc:
                raise CliError(f"cannot mark {member.number}: {exc.code}") from exc
            until = i18n.format_day(i18n.local_time(now + kpis.YEAR, cluster.timezone), "en", cluster.region)
            print(f"{member.number} {member.name} is marked committed until {until}")
            return
        if not clear_committed(session, member, None, via="cli"):
            print(f"{member.number} {member.name} has no committed mark; nothing changed")
            return
        session.flush()
        still = member.id in kpis.committed_ids(session, cluster.id, now)
        print(f"mark cleared for {member.number} {member.name}; "
              + ("still committed by their own records (saved, attended or pledged in 12 months)" if still
                 else "no longer counted as committed"))


def register_cli(sub) -> None:
    fac = sub.add_parser("facilitator", help="facilitators and treasurers").add_subparsers(dest="action",
                                                                                            required=True)
    p = fac.add_parser("add")
    p.add_argument("phone", nargs="+", help="phone number (0712 000 006 may be written with spaces)")
    p.add_argument("--cluster")
    p.add_argument("--role", choices=["facilitator", "treasurer"], default="facilitator")
    p.set_defaults(func=cmd_facilitator_add)

    imp = sub.add_parser("import", help="import records").add_subparsers(dest="kind", required=True)
    p = imp.add_parser("members", help="CSV or XLSX member list with a header row")
    p.add_argument("file")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_import_members)

    member = sub.add_parser("member", help="one member's data").add_subparsers(dest="action", required=True)
    p = member.add_parser("export", help="everything held about one member, as JSON")
    p.add_argument("member", nargs="+", help="phone or member number")
    p.add_argument("--cluster")
    p.set_defaults(func=cmd_member_export)
    p = member.add_parser("forget", help="erase a member's personal data, keeping amounts anonymously")
    p.add_argument("member", nargs="+", help="phone or member number")
    p.add_argument("--cluster")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(func=cmd_member_forget)
    for action, text in (("commit", "mark a member committed for 12 months (the COMMITTED command)"),
                         ("uncommit", "clear a member's committed mark (the UNCOMMITTED command)")):
        p = member.add_parser(action, help=text)
        p.add_argument("member", nargs="+", help="phone or member number")
        p.add_argument("--cluster")
        p.set_defaults(func=cmd_member_commit)
