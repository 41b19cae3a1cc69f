"""Events: reminders before the start and before the answer deadline; invitations still to be queued."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.handlers.events import ANSWER_BUTTONS, REMINDER, placed, send_invitations
from bot.jobs.job import Job
from storage import events as store
from storage.clusters import Cluster


def run_reminders(session: Session, settings, now: datetime) -> int:
    sent = 0
    for due in store.take_due_reminders(session, now):
        event = due.event
        cluster = session.get(Cluster, event.cluster_id)
        for member in due.members:
            if due.kind == "start":
                row = outbox.notify(session, member, placed(REMINDER, event), kind="reminder",
                                    batch=f"event:{event.id}:reminder", in_cluster=cluster, now=now, event=event.title,
                                    start=event.starts_at, venue=event.place, event_id=event.id)
            else:
                row = outbox.notify(session, member, "Please answer by {deadline}: {event}, {start}. Reply YES "
                                    "{event_id}, NO {event_id} or MAYBE {event_id}.", kind="reminder",
                                    batch=f"event:{event.id}:deadline", in_cluster=cluster, now=now,
                                    buttons=[(label, value.format(event.id)) for label, value in ANSWER_BUTTONS],
                                    deadline=event.deadline, event=event.title, start=event.starts_at,
                                    event_id=event.id)
            sent += row is not None
    return sent


def run_invitations(session: Session, settings, now: datetime) -> int:
    """Queue one batch of the invitations published events still wait for (a segment larger than the batch
    PUBLISH queued, or a fan-out a crash cut short). One batch per run keeps each transaction short; the
    dispatcher sends far slower than this queues."""
    taken = 0
    for event in store.inviting(session, now):
        if taken >= store.INVITATION_BATCH:
            break
        cluster = session.get(Cluster, event.cluster_id)
        taken += send_invitations(session, cluster, event, now=now, limit=store.INVITATION_BATCH - taken)
    return taken


JOBS = [Job("events.reminders", run_reminders, every_seconds=60),
        Job("events.invitations", run_invitations, every_seconds=10)]
