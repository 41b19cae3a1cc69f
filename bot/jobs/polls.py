"""Polls: rounds sent over their window, reminders to those who have not answered, rounds closed.

A round may reach thousands of members. Its sends commit BATCH at a time, each in its own transaction
with the claims that guard it, so an inbound message waits at most for one batch on SQLite, and a crash
mid-way loses no committed send and repeats none: the next run claims only what is left.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot import outbox
from bot.config import Settings
from bot.context import CONVERSATION_TTL
from bot.handlers.polls import FLOW, SEND_LIMIT, question_message
from bot.i18n import N_, NP_
from bot.jobs.job import Job
from storage import polls as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member, admins, contact_identity
from storage.messages import Conversation
from storage.polls import Poll, PollRecipient, PollRound
from storage.schedule import claim

BATCH = 100  # sends committed together: a batch is what an inbound message may wait behind

Due = list[tuple[int, int]]  # (recipient id, round id), read in one transaction, sent in later ones


def run_rounds(db: Engine, settings: Settings, now: datetime) -> int:
    """Open due rounds, send each recipient's first question in their slot, remind, close. Idempotent:
    every send claims (poll round, member) first, in the same transaction as the message."""
    with session_scope(db) as session:
        _open_due(session, now)
        sent = sum(_close(session, rnd, now) for rnd in store.rounds_to_close(session, now))
        sends = [(r.id, rnd.id) for r, rnd in store.sends_due(session, now, SEND_LIMIT)]
    sent += _in_batches(db, sends, "polls.send", _send_first, now)
    with session_scope(db) as session:
        reminders = [(r.id, rnd.id) for r, rnd in store.reminders_due(session, now, SEND_LIMIT)]
    return sent + _in_batches(db, reminders, "polls.remind", _remind, now)


def _open_due(session: Session, now: datetime) -> None:
    for _ in range(100):
        due = store.rounds_to_open(session, now)
        opened = [store.open_round(session, p, c, n, when, now) for p, c, n, when in due
                  if claim(session, "polls.open", f"{p.id}:{n}")]
        if not any(opened):
            break


def _in_batches(db: Engine, due: Due, job: str, act: Callable[[Session, PollRecipient, PollRound, datetime], int],
                now: datetime) -> int:
    """Claim and send each (recipient, round), BATCH to a transaction; one already claimed is passed over."""
    sent = 0
    for start in range(0, len(due), BATCH):
        with session_scope(db) as session:
            queued = 0
            for recipient_id, round_id in due[start:start + BATCH]:
                recipient, rnd = session.get(PollRecipient, recipient_id), session.get(PollRound, round_id)
                if claim(session, job, f"{rnd.poll_id}:{rnd.number}:{recipient.member_id}"):
                    queued += act(session, recipient, rnd, now)
        sent += queued
    return sent


def _deliver(session: Session, member: Member, cluster: Cluster, rnd: PollRound, now: datetime, text: str,
             buttons: list[tuple[str, str]] | None = None) -> int:
    identity = contact_identity(session, member, kind="poll")
    if identity is None:
        return 0
    outbox.queue(session, identity, text, kind="poll", buttons=buttons, member_id=member.id,
                 cluster_id=cluster.id, batch=f"poll-{rnd.poll_id}-{rnd.number}", now=now)
    return 1


def _send_first(session: Session, recipient, rnd: PollRound, now: datetime) -> int:
    recipient.sent_at = now
    session.add(recipient)
    member = session.get(Member, recipient.member_id)
    poll_row = session.get(Poll, rnd.poll_id)
    cluster = session.get(Cluster, poll_row.cluster_id)
    identity = contact_identity(session, member, kind="poll")
    if identity is None or member.status != "active":
        return 0
    items = store.questions(session, poll_row)
    title = poll_row.title_in(member.language)
    if not _free_for_poll(session, identity.id, now):
        return _deliver(session, member, cluster, rnd, now, outbox.word(
            member, cluster, identity.channel,
            N_("{cluster} asks you to answer a short poll: {title}. Reply POLL when you are ready."),
            cluster=cluster.name, title=title))
    question = store.next_question(session, rnd, member) or items[0]
    conv = session.exec(select(Conversation).where(Conversation.identity_id == identity.id)).first()
    conv = conv or Conversation(identity_id=identity.id, flow=FLOW, step="answer")
    conv.flow, conv.step, conv.updated_at = FLOW, "answer", now
    conv.data = json.dumps({"round": rnd.id, "question": question.id})
    session.add(conv)
    intro = outbox.word(member, cluster, identity.channel, NP_(
        "{cluster} asks you {count} short question: {title}. Reply with its number or a few words.",
        "{cluster} asks you {count} short questions: {title}. Reply to each with its number or a few words."),
        cluster=cluster.name, count=len(items), title=title)
    body, buttons = question_message(question, member.language, len(items), identity.channel, cluster.region)
    return _deliver(session, member, cluster, rnd, now, intro) + _deliver(session, member, cluster, rnd, now, body, buttons)


def _free_for_poll(session: Session, identity_id: int, now: datetime) -> bool:
    """No other conversation is open (an expired one does not count), so a question can be asked now."""
    conv = session.exec(select(Conversation).where(Conversation.identity_id == identity_id)).first()
    if conv is None or conv.updated_at < now - CONVERSATION_TTL:
        return True
    if conv.flow != FLOW:
        return False
    current = session.get(PollRound, json.loads(conv.data or "{}").get("round", 0))
    return current is None or not current.is_open(now)


def _remind(session: Session, recipient, rnd: PollRound, now: datetime) -> int:
    store.mark_reminded(session, recipient, rnd, now)
    member = session.get(Member, recipient.member_id)
    poll_row = session.get(Poll, rnd.poll_id)
    cluster = session.get(Cluster, poll_row.cluster_id)
    identity = contact_identity(session, member, kind="poll")
    if identity is None:
        return 0
    text = outbox.word(member, cluster, identity.channel,
                       N_("Reminder: please answer the poll {title} before {when}. Reply POLL to start."),
                       title=poll_row.title_in(member.language), when=rnd.closes_at)
    return _deliver(session, member, cluster, rnd, now, text)


def _close(session: Session, rnd: PollRound, now: datetime) -> int:
    if not claim(session, "polls.close", f"{rnd.poll_id}:{rnd.number}"):
        return 0
    store.close_round(session, rnd, now)
    poll_row = session.get(Poll, rnd.poll_id)
    cluster = session.get(Cluster, poll_row.cluster_id)
    result = store.round_results(session, rnd)
    count = 0
    for admin in admins(session, cluster.id, ("facilitator",)):
        count += outbox.notify(session, admin, NP_(
            "Poll {id}, round {round} closed: {answered} of {count} member answered. Send RESULTS {id} for the "
            "figures.",
            "Poll {id}, round {round} closed: {answered} of {count} members answered. Send RESULTS {id} for the "
            "figures."), in_cluster=cluster, id=poll_row.id, round=rnd.number, answered=result.respondents,
            count=result.recipients) is not None
    return count


JOBS = [Job("polls.rounds", run_rounds, every_seconds=60, batched=True)]
