"""Glossary: votes that close by themselves and the term of the week."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot import i18n, outbox
from bot.config import Settings
from bot.handlers.glossary import WEEKLY_MESSAGE, announce, fitted, heading, term_names
from bot.jobs.job import Job
from storage import glossary as store
from storage.glossary import GlossaryBallot
from storage.members import Member
from storage.schedule import claim


def run_close_votes(session: Session, settings: Settings, now: datetime) -> int:
    """Decide every vote whose close time has passed; a vote is decided once, however often this runs."""
    queued = 0
    for ballot_id in store.due_ballots(session, now):
        if not claim(session, "glossary.close_votes", f"ballot:{ballot_id}"):
            continue
        ballot = session.get(GlossaryBallot, ballot_id)
        names = term_names(session, ballot)
        decided = store.decide(session, ballot_id, now, final=True)
        if decided is not None:
            queued += announce(session, decided, names)
    return queued


def run_term_of_week(session: Session, settings: Settings, now: datetime) -> int:
    """On the chosen local weekday, from the chosen hour, send the week's term once per cluster and week."""
    queued = 0
    for cluster, rule in store.weekly_clusters(session):
        local = now.astimezone(ZoneInfo(cluster.timezone))
        if local.weekday() != rule.weekly_day or local.hour < rule.weekly_hour:
            continue
        year, week, _day = local.isocalendar()
        slot = f"{cluster.id}:{year}-W{week:02d}"
        if not claim(session, "glossary.term_of_week", slot):
            continue
        term_id = store.weekly_term(session, cluster.id, store.week_number(now, cluster.timezone))
        if term_id is None:
            continue
        members = session.exec(select(Member).where(Member.cluster_id == cluster.id, Member.status == "active"))
        for member in members:
            entry, title = heading(session, term_id, cluster.id, member.language)
            if entry is None or not entry.short:
                continue
            definition, _rest = fitted(lambda shown, lang=member.language, title=title: i18n.translate(
                lang, WEEKLY_MESSAGE, term=title, definition=shown), entry.short)
            queued += bool(outbox.notify(session, member, WEEKLY_MESSAGE, kind="broadcast",
                                         batch=f"glossary-week-{slot}", in_cluster=cluster, now=now, term=title,
                                         definition=definition))
    return queued


JOBS = [Job("glossary.close_votes", run_close_votes, 60), Job("glossary.term_of_week", run_term_of_week, 900)]
