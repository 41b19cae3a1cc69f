"""Inbound throughput: signed Twilio webhooks through uvicorn, the bot against a durable reference webhook.

    python -m benchmarks.inbound [--quick] [--seconds S] [--rounds N] [--connections C] [--requests N]
                                 [--generator wrk|python] [--database-url URL]

The bot runs as `clusterbot web` (uvicorn, one process) on a SQLite file (or `--database-url`, an empty
PostgreSQL database) holding one cluster of 10,000 members with savings, event invitations, a poll and a
joint purchase (benchmarks/large.py builds them). Beside it, under the same uvicorn command line, the
durable reference webhook of benchmarks/reference.py: it checks the signature, parses the form, INSERTs
the message and COMMITs (its own SQLite file with the bot's PRAGMAs, or a table in the same PostgreSQL
database), then answers fixed TwiML; that is the floor a durable bot cannot go below. The bare endpoint
(fixed TwiML, nothing stored) is measured too, as a second line.

Rounds alternate (bare, durable, bot; `--rounds` times, default 2) with the same generator and the same
connections; every round sends MessageSids of its own, so nothing is a duplicate (a duplicate is cheap).
The mix, every 20 messages from 20 members: 10 BAL, 3 DEF term, 2 STMT, then EVENTS, YES id, BUY (the
list), HELP and an unknown word. Printed from the medians of the rounds: the headline ratio bot/durable
(target >= 0.3), req/s, p50/p99, the server process's CPU (utime + stime from /proc/<pid>/stat) per
message, the bot's peak RSS (VmHWM, target < 200 MB) and the generator's own CPU (it is not the limit
when it used a fraction of a core). Then, in this process (not over HTTP), for each message type: the SQL
statements per message, counted on the engine with SQLAlchemy's before_cursor_execute and, on SQLite,
everything SQLite ran (sqlite3's trace callback: also the BEGIN/COMMIT the DBAPI issues), and the CPU ms
per message of bot.engine.receive (time.process_time).
The generator is wrk with benchmarks/requests.lua cycling through the pre-signed requests; without wrk
(or with --generator python) an asyncio + httpx generator does the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import event, text
from sqlmodel import func, select
from twilio.request_validator import RequestValidator

from benchmarks.common import cpu_seconds, measure, new_cluster, parser_for, peak_rss_mb
from benchmarks.large import TERMS, Data, grow, phone, prepare
from benchmarks.reference import PATH, TABLE
from bot.config import Settings
from bot.engine import Inbound, receive
from storage.db import make_engine, session_scope
from storage.glossary import GlossaryIndex
from storage.messages import InboundMessage

PUBLIC_BASE = "https://bot.example.org"
TOKEN = "benchmark-auth-token-0123456789ab"
LUA = Path(__file__).with_name("requests.lua")
# every 20 messages: (type, how many)
MIX = (("BAL", 10), ("DEF", 3), ("STMT", 2), ("EVENTS", 1), ("YES", 1), ("BUY", 1), ("HELP", 1), ("unknown", 1))
TYPES = tuple(kind for kind, _ in MIX)
_SLOTS = [kind for kind, n in MIX for _ in range(n)]
SIDES = ("bare", "durable", "bot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(data: Data, kind: str, i: int) -> str:
    if kind == "DEF":
        return f"DEF {TERMS[i % len(TERMS)]}"
    if kind == "YES":
        return f"YES {data.event_ids[i % len(data.event_ids)]}" if data.event_ids else "YES 1"
    if kind == "unknown":
        return "hello there"
    return kind


def words(data: Data, i: int) -> str:
    """The i-th message of the mix (MIX: half BAL, every type in each 20)."""
    return message(data, _SLOTS[i % len(_SLOTS)], i)


def signed_requests(data: Data, count: int, prefix: str) -> list[tuple[str, str]]:
    """(signature, form body) pairs, each from a member in turn with a MessageSid of its own."""
    validator = RequestValidator(TOKEN)
    out = []
    for i in range(count):
        params = {"From": phone(i % data.members), "To": "+15005550006", "Body": words(data, i),
                  "MessageSid": f"SM{prefix}{i:030d}"}
        out.append((validator.compute_signature(PUBLIC_BASE + PATH, params), urlencode(params)))
    return out


def write_requests(pairs: list[tuple[str, str]], path: Path) -> Path:
    path.write_text("".join(f"{sig}\t{body}\n" for sig, body in pairs))
    return path


class Server:
    """A uvicorn process on a free port; `pid` is the process that serves (for its VmHWM)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "wb") as err:
            self.proc = subprocess.Popen([*argv, "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL,
                                         stderr=err, cwd=log.parent)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(self.url + PATH, timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def warm_up(url: str, pairs: list[tuple[str, str]]) -> None:
    """First requests load catalogs and open connections: keep them out of the measurement."""
    with httpx.Client(timeout=30) as client:
        for sig, body in pairs:
            r = client.post(url + PATH, content=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
            r.raise_for_status()


def run_wrk(url: str, requests_file: Path, seconds: float, connections: int) -> dict:
    """wrk with one thread (one Lua state, so every pre-signed request is sent once before any repeats)."""
    start = time.perf_counter()
    proc = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(LUA), url + PATH,
                             "--", str(requests_file)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    found = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    return {"tool": "wrk", "requests": found["requests"], "seconds": found["duration_us"] / 1e6,
            "errors": sum(found[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors",
                                            "timeouts")),
            "latency_p50_ms": found["p50_us"] / 1000, "latency_p99_ms": found["p99_us"] / 1000,
            "generator_cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "generator_wall_s": round(wall, 2)}


def run_python(url: str, pairs: list[tuple[str, str]], seconds: float, connections: int) -> dict:
    """The fallback generator: `connections` asyncio tasks on httpx, taking requests in turn."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    latencies: list[float] = []
    errors = 0
    sent = 0

    async def worker(client: httpx.AsyncClient, deadline: float) -> None:
        nonlocal errors, sent
        while time.perf_counter() < deadline:
            sig, body = pairs[sent % len(pairs)]
            sent += 1
            t = time.perf_counter()
            try:
                r = await client.post(PATH, content=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
                errors += r.status_code != 200
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - t)

    async def main() -> None:
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(worker(client, deadline) for _ in range(connections)))

    asyncio.run(main())
    wall = time.perf_counter() - wall0
    latencies.sort()
    return {"tool": "python-httpx", "requests": len(latencies), "seconds": wall, "errors": errors,
            "latency_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0,
            "latency_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0,
            "generator_cpu_s": round(time.process_time() - cpu0, 2), "generator_wall_s": round(wall, 2)}


def load(server: Server, pairs: list[tuple[str, str]], requests_file: Path, args) -> dict:
    """One round against one server: the generator's figures and the server's CPU per message."""
    cpu0 = cpu_seconds(server.pid)
    if args.generator == "wrk":
        result = run_wrk(server.url, requests_file, args.seconds, args.connections)
    else:
        result = run_python(server.url, pairs, args.seconds, args.connections)
    server_cpu = cpu_seconds(server.pid) - cpu0
    result["rate"] = round(result["requests"] / result["seconds"], 1)
    result["server_cpu_s"] = round(server_cpu, 2)
    result["server_cpu_ms_per_message"] = round(server_cpu * 1000 / max(result["requests"], 1), 3)
    result["generator_cpu_share"] = round(result["generator_cpu_s"] / max(result["generator_wall_s"], 1e-9), 3)
    result["wrapped"] = result["requests"] > len(pairs)
    return result


def summary(rounds: list[dict]) -> dict:
    """The medians over the rounds (and every round kept)."""
    def med(key: str) -> float:
        return round(statistics.median(r[key] for r in rounds), 3)

    return {"rate": med("rate"), "latency_p50_ms": med("latency_p50_ms"), "latency_p99_ms": med("latency_p99_ms"),
            "server_cpu_ms_per_message": med("server_cpu_ms_per_message"),
            "requests": sum(r["requests"] for r in rounds), "errors": sum(r["errors"] for r in rounds),
            "wrapped": any(r["wrapped"] for r in rounds), "tool": rounds[0]["tool"],
            "generator_cpu_s": round(sum(r["generator_cpu_s"] for r in rounds), 2),
            "generator_wall_s": round(sum(r["generator_wall_s"] for r in rounds), 2), "rounds": rounds}


def statement_kind(statement: str) -> str:
    """SELECT, INSERT, UPDATE, DELETE, SAVEPOINT, RELEASE, BEGIN, COMMIT...: the statement's first word."""
    return statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"


def per_message_type(url: str, data: Data, settings: Settings, samples: int) -> dict[str, dict]:
    """For each message type, in this process: statements per message and CPU ms per message of receive().

    Counted on a fresh engine for the same database: `cursor`, every statement SQLAlchemy sends through a
    cursor (SELECT, INSERT, UPDATE, DELETE, SAVEPOINT, RELEASE; before_cursor_execute); on SQLite also
    `sqlite`, every statement SQLite ran (the trace callback), which adds the BEGIN / BEGIN IMMEDIATE and
    COMMIT the DBAPI connection issues itself, outside the cursor; `commits`, the transactions committed
    (SQLAlchemy's commit event: one COMMIT each, on PostgreSQL also one BEGIN). Each type is sent first from `samples`
    members while counting, then from `samples` others while timing (no counting then)."""
    db = make_engine(url)
    counting = {"on": False}
    cursor: Counter[str] = Counter()
    traced: Counter[str] = Counter()

    @event.listens_for(db, "commit")
    def _commit(_conn):
        if counting["on"]:
            cursor["commits"] += 1

    @event.listens_for(db, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _params, _context, _executemany):
        if counting["on"]:
            cursor[statement_kind(statement)] += 1
            cursor["all"] += 1

    if db.dialect.name == "sqlite":
        @event.listens_for(db, "connect")
        def _trace(dbapi_conn, _record):
            def seen(statement: str) -> None:
                if counting["on"] and not statement.startswith("--"):  # "--": a trigger's own statements
                    traced[statement_kind(statement)] += 1
                    traced["all"] += 1
            dbapi_conn.set_trace_callback(seen)

    glossary = GlossaryIndex()
    sid = iter(range(10**9))

    def send(kind: str, i: int) -> None:
        receive(db, settings, Inbound("sms", phone(i % data.members), message(data, kind, i), f"IP{next(sid):030d}",
                                      provider="twilio"), reply_status="sent", glossary=glossary)

    for j, kind in enumerate(TYPES * 3):  # warm-up: catalogs, the glossary index, the connection
        send(kind, 7 * j + 1)
    out: dict[str, dict] = {}
    base = 0
    for kind in TYPES:
        cursor.clear()
        traced.clear()
        counting["on"] = True
        for j in range(samples):
            send(kind, base + j)
        counting["on"] = False
        base += samples
        cpu0 = time.process_time()
        for j in range(samples):
            send(kind, base + j)
        cpu = time.process_time() - cpu0
        base += samples
        commits = cursor.pop("commits", 0)
        figures = {"cursor": round(cursor["all"] / samples, 2), "commits": round(commits / samples, 2),
                   "cursor_by_kind": {k: round(v / samples, 2) for k, v in sorted(cursor.items()) if k != "all"},
                   "cpu_ms": round(cpu * 1000 / samples, 3)}
        if traced:
            figures["sqlite"] = round(traced["all"] / samples, 2)
            figures["sqlite_by_kind"] = {k: round(v / samples, 2) for k, v in sorted(traced.items()) if k != "all"}
        out[kind] = figures
    db.dispose()
    return out


def reference_target(url: str, workdir: Path) -> str:
    """Where the durable reference stores: its own SQLite file, or a table of the same PostgreSQL database."""
    if url.startswith("postgresql"):
        db = make_engine(url)
        with db.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        db.dispose()
        return url
    return str(workdir / "durable.db")


def reference_rows(target: str) -> int:
    db = make_engine(target if target.startswith("postgresql") else f"sqlite:///{target}")
    with db.connect() as conn:
        count = conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar_one()
    db.dispose()
    return count


def run(args) -> dict:
    members = 1_000 if args.quick else 10_000
    db, cluster, workdir, url = new_cluster("inbound", args.database_url)
    backend = db.dialect.name
    data = Data(db, cluster)
    prepare(data)
    grow(data, members)
    count = args.requests or (8_000 if args.quick else 120_000)
    target = reference_target(url, workdir)
    env = {**os.environ, "DATABASE_URL": url, "PUBLIC_BASE_URL": PUBLIC_BASE, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15005550006", "SIMULATOR": "0",
           "REFERENCE_DATABASE": target, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    mix = ", ".join(f"{n} {kind}" for kind, n in MIX)
    print(f"{backend}, {members} members, {count} pre-signed requests a round, {args.rounds} rounds, generator "
          f"{args.generator}, {args.connections} connections, {args.seconds:g} s a run; mix every 20: {mix}")

    uvicorn = [sys.executable, "-m", "uvicorn", "--workers", "1", "--no-access-log", "--log-level", "warning"]
    servers: dict[str, Server] = {}
    results: dict[str, list[dict]] = {side: [] for side in SIDES}
    try:
        servers["bare"] = Server([*uvicorn, "benchmarks.reference:bare_app"], env, workdir / "bare.log")
        servers["durable"] = Server([*uvicorn, "benchmarks.reference:durable_app"], env, workdir / "durable.log")
        servers["bot"] = Server([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1"], env,
                                workdir / "bot.log")
        warm = signed_requests(data, 100, "W")
        for server in servers.values():
            warm_up(server.url, warm)
        for number in range(args.rounds):
            pairs = signed_requests(data, count, f"R{number}")  # fresh MessageSids: none is a duplicate
            requests_file = write_requests(pairs, workdir / f"requests-{number}.txt")
            for side in SIDES:
                r = load(servers[side], pairs, requests_file, args)
                results[side].append(r)
                print(f"  round {number + 1} {side:>7}: {r['rate']:8.1f} req/s, p50 {r['latency_p50_ms']:.1f} ms, "
                      f"p99 {r['latency_p99_ms']:.1f} ms, server CPU {r['server_cpu_ms_per_message']:.3f} ms a "
                      f"message, {r['errors']} errors" + (" (requests repeated: raise --requests)"
                                                          if r["wrapped"] and side != "bare" else ""))
        bot_rss = peak_rss_mb(servers["bot"].pid)
    finally:
        for server in servers.values():
            server.stop()
    with session_scope(db) as s:
        recorded = s.exec(select(func.count()).select_from(InboundMessage)).one()
    db.dispose()
    durable_rows = reference_rows(target)

    sides = {side: summary(rounds) for side, rounds in results.items()}
    bot, durable, bare = sides["bot"], sides["durable"], sides["bare"]
    ratio = round(bot["rate"] / max(durable["rate"], 1e-9), 3)
    ratio_bare = round(bot["rate"] / max(bare["rate"], 1e-9), 3)
    print(f"medians of {args.rounds} rounds:")
    for side in SIDES:
        r = sides[side]
        print(f"{side:>7}: {r['rate']:8.1f} req/s  p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms, "
              f"server CPU {r['server_cpu_ms_per_message']:.3f} ms a message ({r['requests']} requests, "
              f"{r['errors']} errors); generator CPU {r['generator_cpu_s']} s of {r['generator_wall_s']} s wall")
    print(f"ratio bot/durable: {ratio} (target >= 0.3)")
    print(f"ratio bot/bare: {ratio_bare}; bot peak RSS {bot_rss} MB (target < 200); inbound rows recorded "
          f"{recorded}, durable reference rows {durable_rows}")

    samples = 20 if args.quick else 200
    settings = Settings.from_env(env)
    types = per_message_type(url, data, settings, samples)
    counted = ("sqlite: every statement SQLite ran, BEGIN/COMMIT included; " if backend == "sqlite" else "") + \
        "cursor: statements through SQLAlchemy's cursor (SAVEPOINT/RELEASE included, BEGIN/COMMIT not); " \
        "commits: transactions committed"
    print(f"in process, bot.engine.receive, {samples} messages a type ({counted}):")
    print(f"  {'type':<8} {'sqlite':>6} {'cursor':>6} {'commits':>7} {'CPU ms':>7}  cursor by kind")
    for kind, f in types.items():
        print(f"  {kind:<8} {f.get('sqlite', '-'):>6} {f['cursor']:>6} {f['commits']:>7} {f['cpu_ms']:>7.3f}  "
              + ", ".join(f"{k} {v:g}" for k, v in f["cursor_by_kind"].items()))
    return {"backend": backend, "members": members, "requests_per_round": count, "rounds": args.rounds,
            "connections": args.connections, "seconds": args.seconds,
            "mix": {kind: n / len(_SLOTS) for kind, n in MIX},
            "durable": durable, "bot": bot, "bare": bare, "ratio": ratio, "ratio_bare": ratio_bare,
            "bot_peak_rss_mb": bot_rss, "inbound_rows": recorded, "durable_rows": durable_rows,
            "statements": types, "statements_counted": counted, "in_process_samples": samples,
            "notes": data.notes,
            "server": f"uvicorn, 1 worker (`clusterbot web` and `python -m uvicorn benchmarks.reference:...`), "
                      f"{backend}",
            "targets": {"ratio": 0.3, "bot_p99_ms": 50, "bot_peak_rss_mb": 200}}


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--seconds", type=float, help="length of each load run (default 20, quick 3)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of bare, durable, bot (default 2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, help="pre-signed requests a round (default 120,000, quick 8,000)")
    parser.add_argument("--generator", choices=["wrk", "python"], help="default: wrk when installed")
    parser.add_argument("--database-url", help="an empty PostgreSQL database for both (default: new SQLite files)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 20.0)
    args.generator = args.generator or ("wrk" if shutil.which("wrk") else "python")
    return measure("inbound", run, args)


if __name__ == "__main__":
    sys.exit(main())
