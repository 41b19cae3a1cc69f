"""SACCOS contributions: reminders before the due day, fines and the treasurer told after it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot import outbox
from bot.config import Settings
from bot.handlers.savings import LIST_LIMIT, as_money, day_text
from bot.jobs.job import Job
from storage import savings as store
from storage.clusters import Cluster, all_clusters
from storage.members import Member, admins
from storage.schedule import claim


def contributions_job(session: Session, settings: Settings, now: datetime) -> int:
    """Remind before the due day; after it, tell who missed it (and fine them), and give the treasurer
    the list. Each (cluster, due day) is claimed once, with the messages, so a rerun sends nothing."""
    sent = 0
    for cluster in all_clusters(session):
        rules = store.rules_for(session, cluster)
        if rules.contribution_minor <= 0:
            continue
        today = store.local_date(now, cluster)
        this_due = store.due_day(rules, today.year, today.month)
        if this_due - timedelta(days=rules.remind_days) <= today < this_due:
            sent += _remind(session, cluster, rules, this_due, now)
        for due in (store.add_months(this_due, -1), this_due):
            if due < today <= due + timedelta(days=10):
                sent += _missed(session, cluster, rules, due, now)
    return sent


def _remind(session: Session, cluster: Cluster, rules, due: date, now: datetime) -> int:
    if not claim(session, "savings.remind", f"{cluster.id}:{due.isoformat()}"):
        return 0
    sent = 0
    for member in store.behind(session, cluster, rules, due):
        sent += (
            outbox.notify(
                session,
                member,
                "Reminder: the {amount} savings contribution is due {date}. "
                "When you pay, send SAVE, the amount and the reference.",
                kind="reminder",
                batch=f"savings-remind-{due}",
                in_cluster=cluster,
                now=now,
                amount=as_money(rules.contribution_minor, cluster.currency),
                date=day_text(due, member.language, cluster),
            )
            is not None
        )
    return sent


def _missed(session: Session, cluster: Cluster, rules, due: date, now: datetime) -> int:
    if not claim(session, "savings.missed", f"{cluster.id}:{due.isoformat()}"):
        return 0
    late = store.behind(session, cluster, rules, due)
    sent = 0
    for member in late:
        kwargs = dict(
            kind="notice",  # about the member's own money (a fine taken, a contribution owed): STOP does not hold it
            batch=f"savings-missed-{due}",
            in_cluster=cluster,
            now=now,
            amount=as_money(rules.contribution_minor, cluster.currency),
            date=day_text(due, member.language, cluster),
        )
        if rules.fine_minor > 0:
            account = store.account_for(session, cluster, member)
            fee = store.charge_fee(session, account, rules.fine_minor, now, f"missed contribution {due}")
            message = outbox.notify(
                session,
                member,
                "You missed the {amount} contribution due {date}. A fine of "
                "{due} was taken from your savings (entry {entry}).",
                due=as_money(rules.fine_minor, cluster.currency),
                entry=fee.id,
                **kwargs,
            )
        else:
            message = outbox.notify(
                session,
                member,
                "You missed the {amount} contribution due {date}. Please pay "
                "soon and send SAVE with the amount.",
                **kwargs,
            )
        sent += message is not None
    return sent + _tell_treasurer_missed(session, cluster, due, late)


def _tell_treasurer_missed(session: Session, cluster: Cluster, due: date, late: list[Member]) -> int:
    sent = 0
    for treasurer in admins(session, cluster.id, ("treasurer",)):
        day = day_text(due, treasurer.language, cluster)
        if not late:
            sent += (
                outbox.notify(
                    session,
                    treasurer,
                    "Everyone paid the contribution due {date}.",
                    in_cluster=cluster,
                    date=day,
                )
                is not None
            )
        for chunk in _chunks([m.number for m in late]):
            sent += (
                outbox.notify(
                    session,
                    treasurer,
                    "{count} missed the contribution due {date}: {numbers}",
                    in_cluster=cluster,
                    count=len(late),
                    date=day,
                    numbers=chunk,
                )
                is not None
            )
    return sent


def _chunks(numbers: list[str]) -> list[str]:
    chunks, current = [], ""
    for number in numbers:
        candidate = f"{current}, {number}" if current else number
        if len(candidate) > LIST_LIMIT and current:
            chunks.append(current)
            candidate = number
        current = candidate
    return [*chunks, current] if current else chunks


JOBS = [Job("savings.contributions", contributions_job, every_seconds=3600)]
