"""Events: reminders before the start and before the answer deadline."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.handlers.events import ANSWER_BUTTONS
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
                row = outbox.notify(session, member, "Reminder: {event} starts {start} at {venue}. At the venue "
                                    "send HERE {event_id} and the code.", kind="reminder",
                                    batch=f"event:{event.id}:reminder", in_cluster=cluster, event=event.title,
                                    start=event.starts_at, venue=event.place, event_id=event.id)
            else:
                row = outbox.notify(session, member, "Please answer by {deadline}: {event}, {start}. Reply YES "
                                    "{event_id}, NO {event_id} or MAYBE {event_id}.", kind="reminder",
                                    batch=f"event:{event.id}:deadline", in_cluster=cluster,
                                    buttons=[(label, value.format(event.id)) for label, value in ANSWER_BUTTONS],
                                    deadline=event.deadline, event=event.title, start=event.starts_at,
                                    event_id=event.id)
            sent += row is not None
    return sent


JOBS = [Job("events.reminders", run_reminders, every_seconds=60)]
