"""Broadcasts: scheduled sends when due, and the completion notice to the facilitator."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.config import Settings
from bot.handlers.broadcasts import send
from bot.i18n import NP_
from bot.jobs.job import Job
from storage import broadcasts as store
from storage.clusters import Cluster
from storage.members import Member
from storage.schedule import claim
from storage.segments import SegmentError


def run_scheduled(session: Session, settings: Settings, now: datetime) -> int:
    """Send the scheduled broadcasts that are due; each exactly once, whoever runs the job."""
    queued = 0
    for broadcast in store.due(session, now):
        if not claim(session, "broadcast.send", str(broadcast.id)):
            continue
        cluster = session.get(Cluster, broadcast.cluster_id)
        try:
            queued += send(session, cluster, broadcast, now)
        except SegmentError:
            store.record_sent(session, broadcast, 0, 0, 0, now)
        author = session.get(Member, broadcast.author_member_id) if broadcast.author_member_id else None
        if author is not None:
            queued += bool(outbox.notify(session, author, NP_(
                "Broadcast {id} is going out now to {count} member. Send REPORT {id} to see delivery.",
                "Broadcast {id} is going out now to {count} members. Send REPORT {id} to see delivery."),
                in_cluster=cluster, id=broadcast.id, count=broadcast.recipients))
    return queued


def run_finished(session: Session, settings: Settings, now: datetime) -> int:
    """Tell the author once a broadcast has left the outbox, so nobody sends it again for want of news."""
    told = 0
    for broadcast in store.in_progress(session):
        d = store.delivery(session, broadcast)
        if d["queued"] or not claim(session, "broadcast.done", str(broadcast.id)):
            continue
        store.finish(session, broadcast, now)
        author = session.get(Member, broadcast.author_member_id) if broadcast.author_member_id else None
        if author is not None:
            told += bool(outbox.notify(session, author, "Broadcast {id} has gone out: {sent} sent, {delivered} "
                                       "delivered, {failed} failed.", id=broadcast.id,
                                       sent=d["sent"] + d["delivered"], delivered=d["delivered"],
                                       failed=d["failed"]))
    return told


JOBS = [Job("broadcasts.scheduled", run_scheduled, 60), Job("broadcasts.finished", run_finished, 60)]
