"""A member's data: everything we hold about one person, and erasing it without changing any total.

Export walks every table with a foreign key to the member, and the few columns that name a member by
number instead (audit entries, poll authors). Forgetting blanks the member's personal
fields, removes their addresses and the text of their messages, and asks each domain module with a
`forget_member(session, member_id)` function to clear its own free text. Rows that carry amounts
(ledger entries, pledges, payments) stay, attached to the now anonymous member record, so every
total and balance is unchanged.
"""

from __future__ import annotations

import json

from sqlalchemy import Table, delete, select, update
from sqlmodel import Session

from storage import audit, ussd
from storage.db import utcnow
from storage.members import Identity, Member
from storage.messages import Conversation, InboundMessage, OutboundMessage
from storage.models import DOMAINS, metadata

FORGOTTEN = "(forgotten)"


def _by_number(number: str) -> list[tuple[Table, object]]:
    """Rows that name a member by number rather than by a foreign key: audit entries about them (the
    subject of an approval or a visit, or a detail such as the member a payment was recorded for) and
    the polls they wrote."""
    audit_log, polls = metadata.tables["audit_log"], metadata.tables["polls"]
    quoted = json.dumps(number)
    return [(audit_log, (audit_log.c.subject == number) | audit_log.c.details.contains(quoted, autoescape=True)),
            (polls, polls.c.created_by == number)]


def _member_columns(table: Table) -> list:
    return [c for c in table.columns
            if any(fk.column.table.name == "members" for fk in c.foreign_keys)]


def export_member(session: Session, member: Member) -> dict[str, list[dict]]:
    """Every row of every table that refers to this member, by table name (JSON-ready values)."""
    found: dict[str, list[dict]] = {"members": [_plain(member.model_dump())]}
    for table in metadata.sorted_tables:
        columns = _member_columns(table)
        if table.name == "members" or not columns:
            continue
        condition = columns[0] == member.id
        for col in columns[1:]:
            condition = condition | (col == member.id)
        rows = [_plain(dict(r._mapping)) for r in session.execute(select(table).where(condition))]
        if rows:
            found[table.name] = rows
    for table, condition in _by_number(member.number):
        rows = [_plain(dict(r._mapping)) for r in session.execute(
            select(table).where(condition, table.c.cluster_id == member.cluster_id))]
        if rows:
            found.setdefault(table.name, [])
            found[table.name] += [r for r in rows if r not in found[table.name]]
    return found


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def forget_member(session: Session, member: Member, actor: str = "cli") -> None:
    identity_ids = session.execute(select(Identity.id).where(Identity.member_id == member.id)).scalars().all()
    ussd.forget(session, list(identity_ids), member.phone)  # before the identities its rows point to
    member.name = member.business = FORGOTTEN
    member.sector = member.location = member.gender = member.phone = ""
    member.status, member.opted_out, member.decided_at = "left", True, utcnow()
    session.add(member)
    session.execute(update(InboundMessage).where(InboundMessage.member_id == member.id)
                    .values(text="", address=FORGOTTEN))
    if identity_ids:
        session.execute(update(InboundMessage).where(InboundMessage.identity_id.in_(identity_ids))
                        .values(text="", address=FORGOTTEN, identity_id=None))
        session.execute(update(OutboundMessage).where(OutboundMessage.identity_id.in_(identity_ids))
                        .values(identity_id=None))
        session.execute(delete(Conversation).where(Conversation.identity_id.in_(identity_ids)))
    session.execute(update(OutboundMessage).where(OutboundMessage.member_id == member.id)
                    .values(text="", address=FORGOTTEN))
    session.execute(delete(Identity).where(Identity.member_id == member.id))
    for module in DOMAINS:
        hook = getattr(module, "forget_member", None)
        if hook is not None:
            hook(session, member.id)
    audit.record(session, "member.forget", cluster_id=member.cluster_id, actor=actor, subject=member.number)
