"""Joint purchases: deadlines that close or ask to extend, and the 50 % / 100 % notices."""

from __future__ import annotations

from datetime import datetime

from bot.handlers.purchases.common import plain_money, qty, tell
from bot.i18n import N_, NP_, Money
from bot.jobs.job import Job
from storage import members as member_store
from storage import purchases as store
from storage.clusters import Cluster
from storage.purchases import Purchase
from storage.schedule import claim


def run_deadlines(session, settings, now: datetime) -> int:
    """Close purchases whose deadline passed and send progress notices; every send claimed once."""
    sent = 0
    for purchase_id in store.due_to_close(session, now):
        sent += _close(session, purchase_id, now)
    for p in store.open_purchases(session):
        sent += _progress(session, p, now)
    return sent


def _close(session, purchase_id: int, now: datetime) -> int:
    p = store.close(session, purchase_id, now)
    if p is None or not claim(session, "purchases.close", f"{p.id}:{p.deadline.isoformat()}"):
        return 0
    cluster = session.get(Cluster, p.cluster_id)
    s = store.summary(session, p)
    sent = 0
    met = s.pledged >= p.minimum
    for member, account in store.accounts(session, p):
        if not account.quantity:
            continue
        if not met:
            msgid = N_(
                "{item} did not reach its minimum ({pledged} of {minimum} {units}). Do not pay yet; we "
                "will tell you what happens."
            )
        elif p.pay_to:
            msgid = N_(
                "{item} closed: {due} for {quantity} {units}. Pay to {pay_to}, then send PAID {id} "
                "{digits} and the ref."
            )
        else:
            msgid = N_(
                "{item} closed: {due} for {quantity} {units}. Pay the treasurer, then send PAID {id} "
                "{digits} and the ref."
            )
        sent += tell(
            session,
            member,
            cluster,
            msgid,
            p,
            due=Money(account.outstanding, p.currency),
            quantity=qty(account.quantity, member.language, cluster.region),
            units=p.unit_word(account.quantity),
            pay_to=p.pay_to,
            digits=plain_money(account.outstanding, p.currency),
        )
    for admin in member_store.admins(session, cluster.id, ("facilitator",)):
        if met:
            msgid = NP_(
                "{item} ({id}) closed: {pledged} of {minimum} {units}, {count} member, {due} due. Send "
                "ORDERED {id} once ordered.",
                "{item} ({id}) closed: {pledged} of {minimum} {units}, {count} members, {due} due. Send "
                "ORDERED {id} once ordered.",
            )
        else:
            msgid = N_(
                "{item} ({id}) closed short: {pledged} of {minimum} {units}. Send EXTEND {id} and a date, "
                "or CANCELBUY {id}."
            )
        sent += tell(session, admin, cluster, msgid, p, count=s.pledgers, due=Money(s.due, p.currency))
    return sent


def _progress(session, p: Purchase, now: datetime) -> int:
    """Tell those offered the purchase when pledges reach half and all of the minimum, once each."""
    pledged = store.pledged_total(session, p.id)
    reached = [mark for mark in (50, 100) if pledged * 100 >= p.minimum * mark]
    fresh = [mark for mark in reached if claim(session, "purchases.progress", f"{p.id}:{mark}")]
    if not fresh:
        return 0
    cluster = session.get(Cluster, p.cluster_id)
    if 100 in fresh and p.maximum is not None and pledged >= p.maximum:
        # full: nobody can join any more, so the notice does not invite them to
        msgid = N_(
            "{item} is full: {pledged} {units} pledged, all the supplier can sell. No more pledges can be taken."
        )
    elif 100 in fresh:
        msgid = N_(
            "{item} reached its minimum: {pledged} of {minimum} {units}. To join, send BUY {id} and how "
            "many by {when}."
        )
    else:
        msgid = N_(
            "{item} is half way: {pledged} of {minimum} {units}. To join, send BUY {id} and how many by "
            "{when}."
        )
    return sum(
        tell(session, m, cluster, msgid, p, kind="broadcast", batch=f"purchase-{p.id}-{max(fresh)}",
             now=now)
        for m in store.offered_members(session, p)
    )


JOBS = [Job("purchases.deadlines", run_deadlines, every_seconds=60)]
