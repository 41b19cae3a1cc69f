"""USSD screens: concurrent Africa's Talking sessions walking the menus of `clusterbot serve` (SQLite).

    python -m benchmarks.ussd [--quick] [--sessions 50] [--seconds 30] [--members 200] [--database-url URL]

The bot runs as `clusterbot serve` (uvicorn, one process, with its dispatcher and scheduler) on a new
SQLite file (or the empty database `--database-url` names) holding one cluster of M members with savings
and event invitations (benchmarks/large.py builds them) and a treasurer. Africa's Talking is configured
(AT_USERNAME, AT_API_KEY, AT_WEBHOOK_KEY) against the fake AT of tests/fakes, so receipts and the
treasurer's notices really go out. S handsets, each a member, dial in parallel; each walks its sessions
one request after another, as the gateway sends them, cycling through three walks:

    balance:  dial, "Balance and loan" (END)
    deposit:  dial, "Report a deposit", an amount, a reference, 1 to confirm (END)
    lookup:   dial, "Events", 0 back, 00 home, "Definitions", "Look a term up", a word, and 98 for
              each further part of a long definition (END)

Every request carries sessionId, serviceCode, phoneNumber, networkCode and text (the answers so far joined
by `*`). The server keeps FLOOD_LIMIT at its default (20 a minute): a USSD session's screens are not
counted as a flood (a menu paces itself), which the throttled-screen count shows (it must be 0). Printed: screens per second, p50/p95/p99 latency per screen and per step, errors (a transport
error, a status other than 200, or a screen the walk did not expect), screens over 160 characters or
outside GSM-7 (both must be 0), sessions completed, the server's CPU time per screen (utime + stime from
/proc), its peak RSS, and whether every confirmed deposit was recorded once.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import update
from sqlmodel import func, select

from benchmarks.common import (
    cpu_seconds,
    latency_ms,
    measure,
    new_cluster,
    parser_for,
    peak_rss_mb,
    percentile,
)
from benchmarks.inbound import Server
from benchmarks.large import TERMS, Data, grow, phone, prepare
from bot import sms
from storage import savings as savings_store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.events import Invitation
from storage.members import Member
from storage.messages import OutboundMessage
from storage.ussd import UssdSession
from tests.fakes import server as fake_server
from tests.fakes.africastalking import API_KEY, USERNAME, FakeAfricasTalking

PATH = "/webhooks/africastalking/ussd"
KEY = "benchmark-ussd-key-0123456789"
SERVICE = "*384*123#"
NETWORK = "63902"
SCREEN = 160
WALKS = ("balance", "deposit", "lookup")
MORE, MORE_HINT = "98", "\n98 >"  # the key for a long answer's next part, and how its screen ends


def steps(walk: str, handset: int, n: int) -> list[tuple[str, str, str]]:
    """The walk's answers after the dial, as (step name, how, what): how "line" picks the menu line that
    says `what`, "text" sends `what` as typed. The last answer must get an END, every other one a CON."""
    if walk == "balance":
        return [("balance: Balance and loan", "line", "Balance and loan")]
    if walk == "deposit":
        return [("deposit: Report a deposit", "line", "Report a deposit"),
                ("deposit: amount", "text", str(1000 + 100 * (n % 90))),
                ("deposit: reference", "text", f"QK{handset:03d}X{n:05d}"),
                ("deposit: 1 confirm", "text", "1")]
    return [("lookup: Events", "line", "Events"), ("lookup: 0 back", "text", "0"), ("lookup: 00 home", "text", "00"),
            ("lookup: Definitions", "line", "Definitions"), ("lookup: Look a term up", "line", "Look a term up"),
            ("lookup: a word", "text", TERMS[(handset + n) % len(TERMS)])]


def _answered(text: str) -> bool:
    return "too many messages" not in text and "something went wrong" not in text


# What the last screen of each walk says when it did what the member asked (every member reads English).
ENDS = {"balance": lambda text: text.startswith("Your savings:"),
        "deposit": lambda text: text.startswith("Deposit of ") and "noted" in text,
        "lookup": _answered}


def line_of(screen: str, words: str) -> str | None:
    """The number of the menu line that says `words`, or None when the screen has no such line."""
    for line in screen[4:].split("\n"):
        number, _, label = line.partition(" ")
        if number.isdecimal() and words.lower() in label.lower():
            return number
    return None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0  # transport errors and statuses other than 200
    unexpected: list[str] = field(default_factory=list)  # CON where END was due, a missing line, ...
    over_160: int = 0
    not_gsm7: int = 0
    flooded: int = 0  # "You are sending too many messages..."
    sorry: int = 0  # "Sorry, something went wrong..."
    longest: int = 0
    started: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WALKS, 0))
    completed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WALKS, 0))
    deposit_refs: list[str] = field(default_factory=list)

    def unexpected_screen(self, what: str) -> None:
        if len(self.unexpected) < 20:
            self.unexpected.append(what)
        else:
            self.unexpected.append("")


async def screen(client: httpx.AsyncClient, tally: Tally, step: str, session_id: str, number: str,
                 answers: list[str]) -> str | None:
    """One gateway request: the screen, or None after an error (counted)."""
    form = {"sessionId": session_id, "serviceCode": SERVICE, "phoneNumber": number, "networkCode": NETWORK,
            "text": "*".join(answers)}
    t = time.perf_counter()
    try:
        r = await client.post(PATH, params={"key": KEY}, data=form)
    except httpx.HTTPError:
        tally.errors += 1
        return None
    took = time.perf_counter() - t
    tally.latencies.append(took)
    tally.by_step.setdefault(step, []).append(took)
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/plain"):
        tally.errors += 1
        return None
    text = r.text
    body = text[4:]
    tally.longest = max(tally.longest, len(body))
    tally.over_160 += len(body) > SCREEN
    tally.not_gsm7 += any(ch not in sms.GSM7_BASIC for ch in body)
    tally.flooded += "too many messages" in body
    tally.sorry += "something went wrong" in body
    if not text.startswith(("CON ", "END ")):
        tally.unexpected_screen(f"{step}: {text[:80]!r}")
        return None
    return text


async def walk(client: httpx.AsyncClient, tally: Tally, kind: str, handset: int, n: int, think: float = 0.0) -> None:
    """One USSD session from the dial to its END, each request after the answer to the one before (and,
    with `think`, after a reader's pause of about that many seconds)."""
    session_id, number = f"ATUid_bench_{handset:03d}_{n:06d}", phone(handset)
    tally.started[kind] += 1
    answers: list[str] = []
    shown = await screen(client, tally, "dial", session_id, number, answers)
    for label, how, what in steps(kind, handset, n):
        if shown is None:
            return
        if not shown.startswith("CON "):
            tally.unexpected_screen(f"{kind} before {what!r}: {shown[:80]!r}")
            return
        answer = line_of(shown, what) if how == "line" else what
        if answer is None:
            tally.unexpected_screen(f"{kind}: no line {what!r} in {shown[:80]!r}")
            return
        answers.append(answer)
        await pause(think)
        shown = await screen(client, tally, label, session_id, number, answers)
    pages = 0
    while shown is not None and shown.startswith("CON ") and shown.endswith(MORE_HINT) and pages < 5:
        answers.append(MORE)  # a long definition: its next part, as a reader would ask for it
        pages += 1
        await pause(think)
        shown = await screen(client, tally, f"{kind}: 98 more", session_id, number, answers)
    if shown is None:
        return
    if not shown.startswith("END ") or not ENDS[kind](shown[4:]):
        tally.unexpected_screen(f"{kind} last: {shown[:80]!r}")
        return
    tally.completed[kind] += 1
    if kind == "deposit":
        tally.deposit_refs.append(answers[2])


async def pause(think: float) -> None:
    if think > 0:
        await asyncio.sleep(random.uniform(0.5, 1.5) * think)


def load(url: str, sessions: int, seconds: float, think: float = 0.0) -> tuple[Tally, float, float]:
    """`sessions` handsets in parallel until `seconds` have passed (each finishes the walk it is in);
    returns the tally, the wall time and the generator's own CPU time."""
    tally = Tally()

    async def handset(client: httpx.AsyncClient, h: int, deadline: float) -> None:
        n = 0
        while time.perf_counter() < deadline:
            await walk(client, tally, WALKS[(h + n) % len(WALKS)], h, n, think)
            n += 1

    async def main() -> None:
        limits = httpx.Limits(max_connections=sessions, max_keepalive_connections=sessions)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(handset(client, h, deadline) for h in range(sessions)))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    asyncio.run(main())
    return tally, time.perf_counter() - wall0, time.process_time() - cpu0


def warm_up(url: str, members: int) -> None:
    """One walk of each kind from members no handset uses: catalogs loaded, connections opened."""
    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            tally = Tally()
            for i, kind in enumerate(WALKS):
                await walk(client, tally, kind, members - 2 - i, 900_000 + i)
            if tally.errors or tally.unexpected or sum(tally.completed.values()) != len(WALKS):
                raise RuntimeError(f"warm-up walks failed: {tally.errors} errors, {tally.unexpected}")

    asyncio.run(main())


def setup(members: int, database_url: str | None) -> tuple[Data, str, Path, str]:
    """The cluster on Africa's Talking, its members with savings and invitations, and a treasurer (the last
    member, whom no handset plays); returns the data, the database URL, the work directory and the
    treasurer's phone."""
    db, cluster, workdir, url = new_cluster("ussd", database_url)
    data = Data(db, cluster)
    prepare(data)
    grow(data, members)
    treasurer = phone(members - 1)
    with session_scope(db) as s:
        row = s.get(Cluster, cluster.id)
        row.sms_provider = "africastalking"
        s.add(row)
        member = s.exec(select(Member).where(Member.phone == treasurer)).one()
        member.admin_role, member.name = "treasurer", "Tina Treasurer"
        s.add(member)
    with db.begin() as conn:  # the invitations went out when the events were published, not during the run
        conn.execute(update(Invitation).values(notified_at=utcnow()))
    return data, url, workdir, treasurer


def outbox(db) -> dict[str, int]:
    """The SMS outbox by kind and status ("receipt sent": 12); the screens shown are left out."""
    with session_scope(db) as s:
        rows = s.exec(select(OutboundMessage.kind, OutboundMessage.status, func.count())
                      .where(OutboundMessage.provider != "ussd")
                      .group_by(OutboundMessage.kind, OutboundMessage.status)).all()
    return {f"{kind} {status}": n for kind, status, n in rows}


def settle(db, seconds: float = 5.0) -> dict[str, int]:
    """The outbox once the dispatcher has sent what is due (messages held for quiet hours wait), or once
    `seconds` have passed (at SMS_RATE 1 a second, the receipts of a long run are still queued then)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with session_scope(db) as s:
            due = s.exec(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.status == "queued", OutboundMessage.next_attempt_at <= utcnow())).one()
        if not due:
            break
        time.sleep(0.25)
    return outbox(db)


def quiet(db, seconds: float = 20.0) -> dict[str, int]:
    """Wait until the scheduler's first jobs have queued what they queue, so that their work is not measured
    as the screens'; returns the outbox then."""
    deadline, last, since = time.monotonic() + seconds, None, time.monotonic()
    while time.monotonic() < deadline:
        now = outbox(db)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > 2:
            break
        time.sleep(0.25)
    return last or {}


def run(args) -> dict:
    members = args.members or (60 if args.quick else 200)
    sessions = args.sessions or (6 if args.quick else 50)
    if members < sessions + 4:
        raise SystemExit(f"--members must be at least --sessions + 4 (the warm-up and the treasurer): {members}")
    data, url, workdir, treasurer = setup(members, args.database_url)
    db = data.db
    fake_server._Handler.disable_nagle_algorithm = True  # answer in one packet, as a real API does
    with FakeAfricasTalking() as fake:
        env = {**os.environ, "DATABASE_URL": url, "AT_USERNAME": USERNAME, "AT_API_KEY": API_KEY,
               "AT_WEBHOOK_KEY": KEY, "AT_API_BASE": fake.url, "AT_FROM": "15555", "USSD_SERVICE_CODE": SERVICE,
               "SIMULATOR": "0", "LOG_LEVEL": "WARNING", "FLOOD_LIMIT": str(args.flood_limit), "PUBLIC_BASE_URL": "https://bot.example.org",
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        dialect = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{members} members, {sessions} concurrent sessions, {args.seconds:g} s, {dialect}, "
              f"FLOOD_LIMIT {args.flood_limit}, think {args.think:g} s")
        bot = Server([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"], env, workdir / "bot.log")
        try:
            warm_up(bot.url, members)
            before = quiet(db)
            cpu0 = cpu_seconds(bot.pid)
            tally, wall, generator_cpu = load(bot.url, sessions, args.seconds, args.think)
            server_cpu = cpu_seconds(bot.pid) - cpu0
            after = settle(db)
            rss = peak_rss_mb(bot.pid)
        finally:
            bot.stop()
        sms_accepted = len(fake.messages)
        to_treasurer = sum(1 for m in fake.messages if m["to"] == treasurer)
    with session_scope(db) as s:
        refs = [r.reference for r in savings_store.pending_requests(s, s.get(Cluster, data.cluster.id))]
        ussd_sessions = s.exec(select(func.count()).select_from(UssdSession)).one()
    db.dispose()
    screens = len(tally.latencies)
    warm_refs = 1  # the warm-up's deposit walk
    recorded_once = sorted(refs[warm_refs:]) == sorted(tally.deposit_refs) and len(set(refs)) == len(refs)
    completed = sum(tally.completed.values())
    result = {
        "members": members, "sessions": sessions, "seconds": round(wall, 2), "database": dialect,
        "server": "uvicorn, 1 process (`clusterbot serve`: web, dispatcher, scheduler), fake Africa's Talking",
        "screens": screens, "screens_per_s": round(screens / max(wall, 1e-9), 1),
        "latency_ms": {**latency_ms(tally.latencies), "p99_ms": round(percentile(tally.latencies, 99) * 1000, 2)},
        "latency_by_step_ms": {step: {**latency_ms(v), "p99_ms": round(percentile(v, 99) * 1000, 2)}
                               for step, v in sorted(tally.by_step.items())},
        "errors": tally.errors, "unexpected_screens": len(tally.unexpected),
        "unexpected_examples": [u for u in tally.unexpected if u],
        "flood_limit": args.flood_limit, "think_s": args.think, "screens_flooded": tally.flooded, "screens_sorry": tally.sorry,
        "screens_over_160": tally.over_160, "screens_not_gsm7": tally.not_gsm7, "longest_screen": tally.longest,
        "sessions_started": sum(tally.started.values()), "sessions_completed": completed,
        "completed_by_walk": tally.completed,
        "server_cpu_s": round(server_cpu, 2), "server_cpu_ms_per_screen": round(server_cpu * 1000 / max(screens, 1), 2),
        "server_cpu_share": round(server_cpu / max(wall, 1e-9), 3), "peak_rss_mb": rss,
        "generator_cpu_s": round(generator_cpu, 2), "generator_cpu_share": round(generator_cpu / max(wall, 1e-9), 3),
        "deposits_recorded": len(refs) - warm_refs, "deposits_recorded_once": recorded_once,
        "ussd_session_rows": ussd_sessions, "sms_accepted_by_provider": sms_accepted,
        "sms_to_treasurer": to_treasurer, "outbox_before": before, "outbox_after": after,
        "targets": {"errors": 0, "screens_over_160": 0, "screens_not_gsm7": 0},
    }
    lat = result["latency_ms"]
    print(f"{screens} screens in {wall:.1f} s: {result['screens_per_s']} screens/s; latency p50 {lat['p50_ms']} ms, "
          f"p95 {lat['p95_ms']} ms, p99 {lat['p99_ms']} ms")
    for step, figures in result["latency_by_step_ms"].items():
        print(f"  {step:<28} {figures['samples']:>6}  p50 {figures['p50_ms']:8.1f}  p95 {figures['p95_ms']:8.1f}  "
              f"p99 {figures['p99_ms']:8.1f} ms")
    print(f"errors {tally.errors}, unexpected screens {len(tally.unexpected)}, over 160 characters "
          f"{tally.over_160}, outside GSM-7 {tally.not_gsm7} (longest {tally.longest})")
    if tally.flooded or tally.sorry:
        print(f"  throttled screens {tally.flooded}, 'something went wrong' screens {tally.sorry}")
    for example in result["unexpected_examples"][:5]:
        print(f"  unexpected: {example}")
    print(f"sessions completed {completed} of {result['sessions_started']} {tally.completed}")
    print(f"server CPU {server_cpu:.2f} s ({result['server_cpu_ms_per_screen']} ms a screen, "
          f"{result['server_cpu_share']:.0%} of a core); peak RSS {rss} MB; generator CPU {generator_cpu:.2f} s "
          f"({result['generator_cpu_share']:.0%} of a core)")
    print(f"deposits recorded {result['deposits_recorded']} (each once: {recorded_once}); SMS accepted by the "
          f"provider {sms_accepted} ({to_treasurer} to the treasurer); outbox before the load {before}, "
          f"after {after}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--sessions", type=int, help="concurrent sessions (default 50, quick 6)")
    parser.add_argument("--seconds", type=float, help="length of the load (default 30, quick 2)")
    parser.add_argument("--members", type=int, help="members of the cluster (default 200, quick 60)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a handset pauses before each answer, as a reader does (default 0: none)")
    parser.add_argument("--flood-limit", type=int, default=20, help="FLOOD_LIMIT for the server (default 20)")
    parser.add_argument("--database-url", help="an empty database to use instead of a new SQLite file")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (2.0 if args.quick else 30.0)
    return measure("ussd", run, args)


if __name__ == "__main__":
    sys.exit(main())
