"""Large clusters: per-message latency as the data grows, and the reports that read all of it.

    python -m benchmarks.large [--quick] [--database-url URL]

One cluster grows to 10,000 and then 100,000 members (quick: 500 and 5,000) with, per member, 10 ledger
entries, 2 event RSVPs and 1 poll response, inserted in bulk (executemany through SQLAlchemy Core into
the domains' real tables). At each size: p50/p95 of BAL, STMT, DEF, EVENTS, YES and BUY through
bot.engine.receive, the poll round's results, the KPI report, and `clusterbot export members` in a child
process (its wall time and peak RSS). A domain whose tables are missing is skipped with a note; its
command still goes through the engine and gets a reply.
Targets: p95 <= 10 ms on SQLite; the 10x data <= 1.5x slower; poll results < 1 s; KPIs < 2 s; the
export of 100,000 members < 10 s in bounded memory.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import Engine, insert, select

from benchmarks.common import latency_ms, measure, new_cluster, parser_for
from bot.config import Settings
from bot.engine import Inbound, receive
from storage import kpis
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.events import Event, Invitation
from storage.glossary import GlossaryIndex
from storage.members import Identity, Member
from storage.polls import Poll, PollQuestion, PollRecipient, PollResponse, PollRound, round_results
from storage.purchases import QTY_SCALE, PurchaseOffer, create_purchase
from storage.savings import Account, Entry

LEDGER, RSVPS, RESPONSES = 10, 2, 1  # rows per member
EVENTS = 20
CHUNK = 20_000
COMMANDS = ("BAL", "STMT", "DEF", "EVENTS", "YES", "BUY")
TERMS = ("cluster", "value chain", "facilitator", "SACCOS", "joint purchase")
_sids = itertools.count(1)


def now():
    return utcnow()


class Data:
    """The rows the generator needs to know about: events, the poll round, and members so far."""

    def __init__(self, db: Engine, cluster: Cluster):
        self.db, self.cluster = db, cluster
        self.members = 0
        self.event_ids: list[int] = []
        self.poll: tuple[int, int] | None = None  # (round id, question id)
        self.purchase: int | None = None
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        print(f"note: {text}")
        self.notes.append(text)


def chunks(rows, size: int = CHUNK):
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def bulk(db: Engine, table, rows) -> int:
    count = 0
    for batch in chunks(rows):
        with db.begin() as conn:
            conn.execute(insert(table), batch)
        count += len(batch)
    return count


def prepare(data: Data) -> None:
    """Events, a poll round and a joint purchase: the things members' rows point at."""
    t = now()
    try:
        rows = [dict(cluster_id=data.cluster.id, title=f"Workshop {i}", kind="workshop",
                     starts_at=t + timedelta(days=10 + i), ends_at=t + timedelta(days=10 + i, hours=3),
                     place="Moshi hall", status="published", published_at=t, planned_at=t, created_at=t)
                for i in range(EVENTS)]
        bulk(data.db, Event.__table__, rows)
        with session_scope(data.db) as s:
            data.event_ids = list(s.exec(select(Event.id).order_by(Event.id)).scalars())
    except Exception as exc:
        data.note(f"events not available ({type(exc).__name__}: {exc}); no RSVPs generated")
    try:
        with data.db.begin() as conn:
            poll_id = conn.execute(insert(Poll.__table__).values(
                cluster_id=data.cluster.id, title="Satisfaction", titles="{}", status="scheduled",
                created_at=t)).inserted_primary_key[0]
            question_id = conn.execute(insert(PollQuestion.__table__).values(
                poll_id=poll_id, position=1, key="overall", kind="rating",
                texts=json.dumps({"en": "How useful was the cluster this quarter? 1-5"}),
                options="{}")).inserted_primary_key[0]
            round_id = conn.execute(insert(PollRound.__table__).values(
                poll_id=poll_id, number=1, due_at=t, opened_at=t, closes_at=t + timedelta(days=7),
                status="open")).inserted_primary_key[0]
        data.poll = (round_id, question_id)
    except Exception as exc:
        data.note(f"polls not available ({type(exc).__name__}: {exc}); no poll responses generated")
    try:
        with session_scope(data.db) as s:
            data.purchase = create_purchase(s, s.get(Cluster, data.cluster.id), item="Fertiliser", unit="bag",
                                            unit_price=65_000, minimum=100 * QTY_SCALE,
                                            deadline=t + timedelta(days=20), now=t).id
    except Exception as exc:
        data.note(f"purchases not available ({type(exc).__name__}: {exc}); BUY finds nothing open")


def phone(i: int) -> str:
    return f"+2557{i:08d}"


def grow(data: Data, target: int) -> dict[str, int]:
    """Add members (and their rows in every domain) up to `target`; returns the rows added per table."""
    first, t = data.members, now()
    ids = range(first, target)
    added = {"members": bulk(data.db, Member.__table__, (dict(
        cluster_id=data.cluster.id, number=f"{data.cluster.code}-{i + 1:06d}", name=f"Member {i}",
        business="Tailoring shop", sector=("tailoring", "dairy", "coffee")[i % 3], location=("Moshi", "Hai")[i % 2],
        gender=("female", "male")[i % 2], role="firm", language="en", status="active", admin_role="member",
        committed=i % 5 != 0, opted_out=False, phone=phone(i), joined_at=t) for i in ids))}
    with session_scope(data.db) as s:
        member_ids = list(s.exec(select(Member.id).where(Member.cluster_id == data.cluster.id)
                                 .order_by(Member.id).offset(first)).scalars())
    added["identities"] = bulk(data.db, Identity.__table__, (dict(
        channel="sms", address=phone(first + n), member_id=mid, language="", opted_out=False, opt_out_reason="",
        last_seen_at=t, created_at=t) for n, mid in enumerate(member_ids)))
    added.update(_savings(data, member_ids, t))
    added.update(_rsvps(data, member_ids, first, t))
    added.update(_responses(data, member_ids, t))
    added.update(_offers(data, member_ids, t))
    data.members = target
    return added


def _savings(data: Data, member_ids: list[int], t) -> dict[str, int]:
    currency = data.cluster.currency
    bulk(data.db, Account.__table__, (dict(cluster_id=data.cluster.id, member_id=mid, currency=currency,
                                           balance_minor=LEDGER * 5000, opened_at=t) for mid in member_ids))
    with session_scope(data.db) as s:
        accounts = list(s.exec(select(Account.id).where(Account.member_id.in_(member_ids[:1]))).scalars())
    start = accounts[0]
    rows = (dict(cluster_id=data.cluster.id, account_id=start + n, loan_id=None, kind="deposit", amount_minor=5000,
                 currency=currency, reference="", note="", at=t - timedelta(days=LEDGER - k))
            for n in range(len(member_ids)) for k in range(LEDGER))
    return {"ledger_entries": bulk(data.db, Entry.__table__, rows)}


def _rsvps(data: Data, member_ids: list[int], first: int, t) -> dict[str, int]:
    if not data.event_ids:
        return {}
    states = ("invited", "yes", "no", "maybe")
    rows = (dict(event_id=data.event_ids[(first + n + k * 7) % len(data.event_ids)], member_id=mid,
                 state=states[(n + k) % 4], answered_at=t, channel="sms", invited_at=t)
            for n, mid in enumerate(member_ids) for k in range(RSVPS))
    return {"rsvps": bulk(data.db, Invitation.__table__, rows)}


def _responses(data: Data, member_ids: list[int], t) -> dict[str, int]:
    if data.poll is None:
        return {}
    round_id, question_id = data.poll
    bulk(data.db, PollRecipient.__table__, (dict(round_id=round_id, member_id=mid, slot_at=t, sent_at=t)
                                            for mid in member_ids))
    rows = (dict(round_id=round_id, question_id=question_id, member_id=mid, value=1 + n % 5, text="",
                 skipped=False, answered_at=t) for n, mid in enumerate(member_ids) for _ in range(RESPONSES))
    return {"poll_responses": bulk(data.db, PollResponse.__table__, rows)}


def _offers(data: Data, member_ids: list[int], t) -> dict[str, int]:
    if data.purchase is None:
        return {}
    return {"purchase_offers": bulk(data.db, PurchaseOffer.__table__, (
        dict(purchase_id=data.purchase, member_id=mid, offered_at=t) for mid in member_ids))}


def message(data: Data, command: str, i: int) -> str:
    if command == "DEF":
        return f"DEF {TERMS[i % len(TERMS)]}"
    if command == "YES" and data.event_ids:
        return f"YES {data.event_ids[i % len(data.event_ids)]}"
    return command


def latencies(data: Data, settings: Settings, samples: int) -> dict[str, dict]:
    """Each command `samples` times from random members, in random order, after a warm-up."""
    rng = random.Random(data.members)
    plan = [(c, rng.randrange(data.members)) for c in COMMANDS for _ in range(samples)]
    glossary = GlossaryIndex()  # one per process, as the web app keeps it
    for command, i in plan[:: max(1, len(plan) // 30)]:
        receive(data.db, settings, Inbound("sms", phone(i), message(data, command, i), f"W{next(_sids)}"),
                glossary=glossary)
    rng.shuffle(plan)
    times: dict[str, list[float]] = {c: [] for c in COMMANDS}
    replies: dict[str, str] = {}
    for command, i in plan:
        inbound = Inbound("sms", phone(i), message(data, command, i), f"L{next(_sids)}")
        start = time.perf_counter()
        outcome = receive(data.db, settings, inbound, reply_status="sent", glossary=glossary)
        times[command].append(time.perf_counter() - start)
        replies.setdefault(command, outcome.replies[0].text if outcome.replies else "")
    return {c: {**latency_ms(times[c]), "example_reply": replies.get(c, "")} for c in COMMANDS}


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - start, 3), value


def reports(data: Data, settings: Settings) -> dict[str, object]:
    out: dict[str, object] = {}
    with session_scope(data.db) as s:
        cluster = s.get(Cluster, data.cluster.id)
        if data.poll is not None:
            rnd = s.get(PollRound, data.poll[0])
            out["poll_results_s"], result = timed(lambda: round_results(s, rnd))
            out["poll_respondents"] = result.respondents if hasattr(result, "respondents") else None
        out["kpi_report_s"], _ = timed(lambda: kpis.compute(s, cluster, now()))
    out.update(export_members(settings, data.cluster.code))
    return out


EXPORT = """
import sys
from bot.cli import main
code = main(sys.argv[1:])
sys.stderr.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")))
sys.exit(code)
"""


def export_members(settings: Settings, code: str) -> dict[str, object]:
    """`clusterbot export members` in a child: its wall time, output size and own peak RSS (VmHWM).

    The child reports VmHWM itself: ru_maxrss of a child would include this process's memory at fork.
    """
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SIMULATOR": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", EXPORT, "export", "members", "--format", "csv", "--cluster", code],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    lines = sum(1 for _ in proc.stdout)
    err = proc.stderr.read()
    proc.wait()
    hwm = next((line.split()[1] for line in err.splitlines() if line.startswith("VmHWM")), "0")
    return {"export_members_s": round(time.perf_counter() - start, 2), "export_rows": lines - 1,
            "export_peak_rss_mb": round(int(hwm) / 1024, 1), "export_exit": proc.returncode}


def run(args) -> dict:
    scales = (500, 5_000) if args.quick else (10_000, 100_000)
    samples = args.samples or (20 if args.quick else 300)
    db, cluster, workdir, url = new_cluster("large", args.database_url)
    settings = Settings(database_url=url, simulator=True)
    data = Data(db, cluster)
    prepare(data)
    figures: dict[str, dict] = {}
    for size in scales:
        took, added = timed(lambda size=size: grow(data, size))
        print(f"== {size} members: generated {added} in {took} s")
        lat = latencies(data, settings, samples)
        for command, f in lat.items():
            print(f"  {command:<7} p50 {f['p50_ms']:7.2f} ms  p95 {f['p95_ms']:7.2f} ms   {f['example_reply'][:70]}")
        rep = reports(data, settings)
        print(f"  poll results {rep.get('poll_results_s')} s, KPI report {rep['kpi_report_s']} s, export "
              f"{rep['export_rows']} members {rep['export_members_s']} s peak RSS {rep['export_peak_rss_mb']} MB")
        figures[str(size)] = {"generated": added, "generate_s": took, "latency": lat, **rep}
    small, large = (figures[str(s)] for s in scales)
    growth = {c: round(large["latency"][c]["p95_ms"] / max(small["latency"][c]["p95_ms"], 0.01), 2)
              for c in COMMANDS}
    print(f"p95 growth from {scales[0]} to {scales[1]} members: {growth}")
    db.dispose()
    return {"backend": db.dialect.name, "scales": list(scales), "samples_per_command": samples,
            "per_member": {"ledger_entries": LEDGER, "rsvps": RSVPS, "poll_responses": RESPONSES},
            "figures": figures, "p95_growth": growth, "notes": data.notes,
            "targets": {"p95_ms": 10, "p95_growth": 1.5, "poll_results_s": 1, "kpi_report_s": 2,
                        "export_members_s": 10}}


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--database-url", help="an empty database to fill (default: a new SQLite file)")
    parser.add_argument("--samples", type=int, help="messages per command and size")
    args = parser.parse_args(argv)
    return measure("large", run, args)


if __name__ == "__main__":
    sys.exit(main())
