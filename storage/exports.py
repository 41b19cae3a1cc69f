"""Exports: each KIND is a function giving column names and rows (streamed), for CSV, JSON and XLSX."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from storage.clusters import Cluster
from storage.members import Member
from storage.messages import InboundMessage, OutboundMessage

Rows = tuple[list[str], Iterator[list]]
Exporter = Callable[[Session, Cluster], Rows]


def local(moment, cluster: Cluster) -> str:
    """A timestamp in the cluster's timezone, ISO 8601 with offset; empty when unset."""
    return moment.astimezone(ZoneInfo(cluster.timezone)).isoformat(timespec="seconds") if moment else ""


def messages_rows(session: Session, cluster: Cluster) -> Rows:
    """Both directions, oldest first; the cluster's messages are those of its members."""
    columns = ["direction", "id", "at", "channel", "member_number", "kind", "status", "segments", "text",
               "last_error"]
    numbers = dict(session.exec(select(Member.id, Member.number).where(Member.cluster_id == cluster.id)).all())

    def rows():
        for m in session.exec(select(InboundMessage).where(InboundMessage.member_id.in_(numbers))
                              .order_by(InboundMessage.id).execution_options(yield_per=1000)):
            yield ["in", m.id, local(m.received_at, cluster), m.channel, numbers.get(m.member_id, ""),
                   m.command, "received", "", m.text, ""]
        for m in session.exec(select(OutboundMessage).where(OutboundMessage.cluster_id == cluster.id)
                              .order_by(OutboundMessage.id).execution_options(yield_per=1000)):
            yield ["out", m.id, local(m.created_at, cluster), m.channel, numbers.get(m.member_id, ""),
                   m.kind, m.status, m.segments, "" if m.kind == "login" else m.text, m.last_error]

    return columns, rows()
