"""Inbound throughput: signed Twilio webhooks through uvicorn (one worker, SQLite) against a bare endpoint.

    python -m benchmarks.inbound [--quick] [--seconds S] [--connections C] [--generator wrk|python]

The bot runs as `clusterbot web` (uvicorn, one process) on a SQLite file holding one cluster of 10,000
members with savings, event invitations, a poll and a joint purchase (benchmarks/large.py builds them).
Every request is signed and carries its own MessageSid; the mix is half BAL, a quarter DEF, the rest
EVENTS, YES id and an unknown word, each from a member. In the same run a bare Starlette endpoint that
returns fixed TwiML is served by the same uvicorn and loaded by the same generator. Printed: both rates,
their ratio (target: bot >= 0.3 x bare), the generator's own CPU time against the wall time (it is not
the limit when it used a fraction of a core), and the bot process's peak RSS (VmHWM, target < 200 MB).
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
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from benchmarks.common import measure, new_cluster, parser_for, peak_rss_mb
from benchmarks.large import TERMS, Data, grow, phone, prepare
from storage.db import session_scope
from storage.messages import InboundMessage

PATH = "/webhooks/twilio/sms"
PUBLIC_BASE = "https://bot.example.org"
TOKEN = "benchmark-auth-token-0123456789ab"
LUA = Path(__file__).with_name("requests.lua")
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Your savings: TSh500. No loan.</Message></Response>'


async def _bare(request: Request) -> Response:
    await request.body()
    return Response(TWIML, media_type="application/xml")


bare_app = Starlette(routes=[Route(PATH, _bare, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def words(data: Data, i: int) -> str:
    """Half BAL, a quarter DEF, then EVENTS, YES id and an unknown word (every 20 messages: 10/5/2/2/1)."""
    slot = i % 20
    if slot < 10:
        return "BAL"
    if slot < 15:
        return f"DEF {TERMS[i % len(TERMS)]}"
    if slot < 17:
        return "EVENTS"
    if slot < 19:
        return f"YES {data.event_ids[i % len(data.event_ids)]}" if data.event_ids else "YES 1"
    return "hello there"


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


def load(url: str, pairs: list[tuple[str, str]], requests_file: Path, args) -> dict:
    if args.generator == "wrk":
        result = run_wrk(url, requests_file, args.seconds, args.connections)
    else:
        result = run_python(url, pairs, args.seconds, args.connections)
    result["rate"] = round(result["requests"] / result["seconds"], 1)
    result["generator_cpu_share"] = round(result["generator_cpu_s"] / max(result["generator_wall_s"], 1e-9), 3)
    result["wrapped"] = result["requests"] > len(pairs)
    return result


def run(args) -> dict:
    members = 1_000 if args.quick else 10_000
    db, cluster, workdir, url = new_cluster("inbound")
    data = Data(db, cluster)
    prepare(data)
    grow(data, members)
    count = args.requests or (4_000 if args.quick else 60_000)
    pairs = signed_requests(data, count, "B")
    requests_file = write_requests(pairs, workdir / "requests.txt")
    env = {**os.environ, "DATABASE_URL": url, "PUBLIC_BASE_URL": PUBLIC_BASE, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": "+15005550006", "SIMULATOR": "0",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    print(f"{members} members, {count} pre-signed requests, generator {args.generator}, "
          f"{args.connections} connections, {args.seconds:g} s per run")

    bare = Server([sys.executable, "-m", "uvicorn", "benchmarks.inbound:bare_app", "--workers", "1",
                   "--no-access-log", "--log-level", "warning"], env, workdir / "bare.log")
    try:
        warm_up(bare.url, pairs[:50])
        bare_result = load(bare.url, pairs, requests_file, args)
    finally:
        bare.stop()

    bot = Server([sys.executable, "-m", "bot.cli", "web", "--host", "127.0.0.1"], env, workdir / "bot.log")
    try:
        warm_up(bot.url, signed_requests(data, 50, "W"))
        bot_result = load(bot.url, pairs, requests_file, args)
        bot_result["peak_rss_mb"] = peak_rss_mb(bot.pid)
    finally:
        bot.stop()
    with session_scope(db) as s:
        recorded = s.exec(select(func.count()).select_from(InboundMessage)).one()
    db.dispose()
    ratio = round(bot_result["rate"] / max(bare_result["rate"], 1e-9), 3)
    for name, r in (("bare", bare_result), ("bot", bot_result)):
        print(f"{name:>4}: {r['rate']:8.1f} req/s  ({r['requests']} in {r['seconds']:.1f} s, {r['errors']} errors, "
              f"p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms); generator CPU "
              f"{r['generator_cpu_s']} s of {r['generator_wall_s']} s wall ({r['generator_cpu_share']:.0%} of a core)")
    print(f"ratio bot/bare: {ratio} (target >= 0.3); bot peak RSS {bot_result['peak_rss_mb']} MB (target < 200); "
          f"inbound rows recorded {recorded}")
    return {"members": members, "requests_prepared": count, "connections": args.connections,
            "mix": {"BAL": 0.5, "DEF": 0.25, "EVENTS": 0.1, "YES": 0.1, "unknown": 0.05},
            "bare": bare_result, "bot": bot_result, "ratio": ratio, "bot_peak_rss_mb": bot_result["peak_rss_mb"],
            "inbound_rows": recorded, "notes": data.notes,
            "server": "uvicorn, 1 worker (`clusterbot web`), SQLite",
            "targets": {"ratio": 0.3, "bot_peak_rss_mb": 200}}


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--seconds", type=float, help="length of each load run (default 20, quick 3)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, help="pre-signed requests (default 60,000, quick 4,000)")
    parser.add_argument("--generator", choices=["wrk", "python"], help="default: wrk when installed")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 20.0)
    args.generator = args.generator or ("wrk" if shutil.which("wrk") else "python")
    return measure("inbound", run, args)


if __name__ == "__main__":
    sys.exit(main())
