"""Broadcast speed: 10,000 members, a fake Twilio on 127.0.0.1 that answers 429 beyond R messages a second.

    python -m benchmarks.broadcast [--quick] [--rate R] [--members N]

A broadcast to everyone is queued (the same code BCAST uses), then one worker process
(`python -m benchmarks.worker --no-scheduler`, the dispatcher of `clusterbot worker`) with SMS_RATE=R
sends it to the fake (tests/fakes FakeTwilio with `limit_rate(R)`). Target: all accepted by the provider
within 1.05 x N / R seconds, none lost, no 429 provoked. Printed: the time to queue, the span from the
first to the last message the provider accepted, throttles, and what the outbox says.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import replace

from sqlmodel import func, select

from benchmarks.common import measure, new_cluster, parser_for
from benchmarks.large import Data, grow
from bot.config import Settings
from bot.handlers.broadcasts import send
from storage import broadcasts
from storage.clusters import Cluster
from storage.db import session_scope
from storage.messages import OutboundMessage
from tests.fakes import FakeTwilio
from tests.fakes import server as fake_server
from tests.support_workers import Worker, worker_env

TEXT = "Market day moves to Friday 9:00 at Moshi hall. Bring samples of your best work."


def queue_broadcast(db, cluster: Cluster) -> tuple[str, float]:
    """Queue the broadcast as BCAST all would; returns its outbox batch and how long queueing took."""
    start = time.perf_counter()
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        b = broadcasts.create(s, c, None, "all", TEXT)
        send(s, c, b, b.created_at)
        batch = broadcasts.batch_key(b)
    return batch, round(time.perf_counter() - start, 2)


def statuses(db, batch: str) -> Counter:
    with session_scope(db) as s:
        return Counter(dict(s.exec(select(OutboundMessage.status, func.count())
                                   .where(OutboundMessage.batch == batch).group_by(OutboundMessage.status)).all()))


def run(args) -> dict:
    members = args.members or (500 if args.quick else 10_000)
    rate = args.rate or (100.0 if args.quick else 200.0)
    db, cluster, workdir, url = new_cluster("broadcast")
    data = Data(db, cluster)
    grow(data, members)
    batch, queue_s = queue_broadcast(db, cluster)
    print(f"{members} members: broadcast queued in {queue_s} s; provider limit and SMS_RATE {rate:g}/s")

    fake_server._Handler.disable_nagle_algorithm = True  # answer in one packet, as a real API does
    with FakeTwilio() as fake:
        fake.limit_rate(rate)
        settings = replace(Settings(database_url=url), public_base_url="https://bot.example.org",
                           twilio_account_sid="AC" + "0" * 32, twilio_auth_token="benchmark-token",
                           twilio_from_number="+15005550006", twilio_api_base=fake.url, sms_rate=rate)
        started = time.perf_counter()
        worker = Worker(worker_env(settings), workdir / "worker.log", "--no-scheduler")
        try:
            limit = 1.05 * members / rate
            while statuses(db, batch).get("queued", 0) and time.perf_counter() - started < 3 * limit + 30:
                time.sleep(0.25)
            wall = time.perf_counter() - started
        finally:
            worker.stop()
        accepted = [r for r in fake.calls() if r.status == 201]
        span = accepted[-1].at - accepted[0].at if accepted else 0.0
        throttled = fake.throttled
        unique = len({r.params.get("To") for r in accepted})
    outcome = statuses(db, batch)
    db.dispose()
    result = {"members": members, "rate": rate, "queue_s": queue_s, "accepted": len(accepted),
              "unique_recipients": unique, "throttled_429": throttled, "span_s": round(span, 2),
              "wall_s": round(wall, 2), "limit_s": round(limit, 2), "outbox": dict(outcome),
              "lost": members - outcome.get("sent", 0), "achieved_rate": round(len(accepted) / max(span, 1e-9), 1),
              "targets": {"span_s": round(limit, 2), "lost": 0, "throttled_429": 0}}
    print(f"accepted {len(accepted)} ({unique} recipients) in {span:.2f} s from first to last "
          f"(target <= {limit:.2f} s; {result['achieved_rate']}/s); 429s: {throttled}; lost: {result['lost']}; "
          f"worker wall time incl. start-up {wall:.1f} s; outbox {dict(outcome)}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--rate", type=float, help="provider limit and SMS_RATE (default 200, quick 100)")
    parser.add_argument("--members", type=int, help="default 10,000 (quick 500)")
    args = parser.parse_args(argv)
    return measure("broadcast", run, args)


if __name__ == "__main__":
    sys.exit(main())
