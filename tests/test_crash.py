"""Crash safety: the real server in a subprocess, 2,000 signed webhooks from many clients, SIGKILL part-way.

The web process (Procfile `web`) takes the first part of the traffic and is killed with SIGKILL while
requests are in flight; `clusterbot serve` (web + dispatcher) is started on the same database and port, the
clients resend every message that did not get a 200 (same MessageSid, as Twilio does on a timeout), and
the notifications queued meanwhile go out through a fake Twilio REST API. Then: every message is recorded
and acted on once, each got one reply, every notification was sent exactly once, the ledger checks out,
and the server's own logs hold no phone number and no message text.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from storage.db import session_scope
from storage.members import Member
from storage.messages import InboundMessage, OutboundMessage
from storage.savings import Entry, Request, unit
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE, next_sid, sign, twiml_texts
from tests.fakes import FakeTwilio
from tests.fakes.server import free_port

pytestmark = pytest.mark.slow

MEMBERS, PER_MEMBER, JOINERS, DEPOSITS = 40, 40, 20, 240
TOTAL = MEMBERS * PER_MEMBER + JOINERS * 8 + DEPOSITS
KILL_AFTER = 700
CLIENTS = 24
ROOT = Path(__file__).resolve().parent.parent


class Server:
    """`clusterbot web|serve` as a child process; its stderr (the logs) kept in a file."""

    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen | None = None

    def start(self, command: str) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", command, "--port", str(self.port)],
                                         env=self.env, cwd=self.log.parent, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def scripts(members: list[Member], treasurer_phone: str) -> list[list[tuple[str, str, str]]]:
    """Each script is one phone's messages in order: (from, body, MessageSid)."""
    found = []
    for i, m in enumerate(members):
        lines = [f"SAVE {1000 + i * 100 + k}" if k % 4 == 1 else ("BAL", "HELP", "PROFILE")[k % 3]
                 for k in range(PER_MEMBER)]
        found.append([(m.phone, body, next_sid()) for body in lines])
    for j in range(JOINERS):
        phone = f"+2557130{j:05d}"
        answers = ["JOIN MOSHI", f"Joiner Person {j}", f"Joiner Shop {j}", "tailoring", "Moshi", "1", "1", "1"]
        found.append([(phone, body, next_sid()) for body in answers])
    for d in range(DEPOSITS):  # the treasurer's entries are independent messages: each its own script
        found.append([(treasurer_phone, f"DEP {members[d % MEMBERS].number} {500 + d}", next_sid())])
    return found


class Traffic:
    """Many clients sending signed webhooks; a message is resent until it gets a 200."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/webhooks/twilio/sms"
        self.lock = threading.Lock()
        self.ok: dict[str, str] = {}
        self.refused = self.in_flight_lost = self.resent = 0
        self.passed_kill_mark = threading.Event()

    def run_script(self, script: list[tuple[str, str, str]]) -> None:
        with httpx.Client(timeout=20) as client:
            for sender, body, sid in script:
                self.deliver(client, sender, body, sid)

    def deliver(self, client: httpx.Client, sender: str, body: str, sid: str) -> None:
        params = {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": sid}
        headers = {"X-Twilio-Signature": sign(params)}
        tries = 0
        while True:
            tries += 1
            try:
                r = client.post(self.url, data=params, headers=headers)
            except httpx.ConnectError:
                with self.lock:
                    self.refused += 1
                time.sleep(0.1)
                continue
            except httpx.HTTPError:  # the server died with this request in hand
                with self.lock:
                    self.in_flight_lost += 1
                time.sleep(0.1)
                continue
            if r.status_code != 200:
                time.sleep(0.05)  # e.g. a 500 while the database was busy: Twilio would retry too
                continue
            with self.lock:
                self.ok[sid] = r.text
                self.resent += tries > 1
                if len(self.ok) >= KILL_AFTER:
                    self.passed_kill_mark.set()
            return


@pytest.fixture
def crowd(db, cluster, add_member):
    add_member("+255712000999", admin_role="facilitator", name="Fatma Facilitator")
    treasurer = add_member("+255712000998", admin_role="treasurer", name="Tumaini Treasurer")
    members = [add_member(f"+2557120{i:05d}", name=f"Member {i}") for i in range(MEMBERS)]
    return members, treasurer


def test_sigkill_mid_traffic_loses_nothing_and_doubles_nothing(db, settings, crowd, tmp_path, cli_run, progress):
    members, treasurer = crowd
    port = free_port()
    twilio = FakeTwilio().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_", "DATABASE_"))}
    env.update(DATABASE_URL=settings.database_url, PUBLIC_BASE_URL=PUBLIC_BASE, TWILIO_ACCOUNT_SID="AC" + "0" * 32,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER="+15005550006", TWILIO_API_BASE=twilio.url,
               SIMULATOR="0", FLOOD_LIMIT="0", SMS_RATE="1000", DEFAULT_REGION="TZ", LOG_LEVEL="INFO",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    server = Server(env, port, tmp_path / "server.log")
    work = scripts(members, treasurer.phone)
    traffic = Traffic(port)
    started = time.monotonic()
    try:
        server.start("web")
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(traffic.run_script, s) for s in work]
            assert traffic.passed_kill_mark.wait(120), "traffic never reached the kill mark"
            server.kill()
            answered_before_kill = len(traffic.ok)
            server.start("serve")
            for f in futures:
                f.result(timeout=120)
        traffic_done = time.monotonic()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and _queued(db):
            time.sleep(0.2)
        drained = time.monotonic() - traffic_done
    finally:
        server.stop()
        twilio.stop()
    elapsed = time.monotonic() - started

    messages = [m for script in work for m in script]
    assert len(messages) == TOTAL == len(traffic.ok)
    _check_recorded_once(db, messages, traffic.ok)
    _check_effects_once(db, messages, members)
    sent = _check_notifications_once(db, twilio)
    code, out, _ = cli_run("savings", "check")
    assert code == 0 and "passed" in out
    _check_logs_are_masked(server.log.read_text(errors="replace"), messages)
    progress(f"[crash] {TOTAL} signed webhooks from {CLIENTS} clients in {elapsed:.1f} s; SIGKILL after "
             f"{answered_before_kill} answers with {traffic.in_flight_lost} requests in flight; "
             f"{traffic.refused} refused while down; {traffic.resent} messages resent; "
             f"{sent} notifications sent once each after the restart ({drained:.1f} s after the traffic); "
             f"0 lost, 0 doubled")


def _queued(db) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(OutboundMessage)
                      .where(OutboundMessage.status == "queued")).one()


def _check_recorded_once(db, messages, answers: dict[str, str]) -> None:
    with session_scope(db) as s:
        inbound = {r.provider_id: r.id for r in s.exec(select(InboundMessage))}
        assert set(inbound) == {sid for _, _, sid in messages}
        replies: dict[int, list[str]] = {}
        for row in s.exec(select(OutboundMessage).where(OutboundMessage.inbound_id != None)  # noqa: E711
                          .order_by(OutboundMessage.id)):
            replies.setdefault(row.inbound_id, []).append(row.text)
    for _, body, sid in messages:
        stored = replies.get(inbound[sid], [])
        assert len(stored) == 1, (body, stored)
        assert not stored[0].startswith("Sorry, something went wrong"), (body, stored)
        assert twiml_texts(answers[sid]) == stored, (body, answers[sid], stored)  # the answer given was the one stored


def _check_effects_once(db, messages, members) -> None:
    tzs = unit("TZS")
    saves = Counter(int(b.split()[1]) * tzs for _, b, _ in messages if b.startswith("SAVE"))
    deps = Counter(int(b.split()[2]) * tzs for _, b, _ in messages if b.startswith("DEP"))
    with session_scope(db) as s:
        assert Counter(s.exec(select(Request.amount_minor)).all()) == saves
        assert Counter(s.exec(select(Entry.amount_minor).where(Entry.kind == "deposit")).all()) == deps
        joined = Counter(s.exec(select(Member.phone).where(Member.phone.like("+2557130%"))).all())
        assert len(joined) == JOINERS and set(joined.values()) == {1}
        assert s.exec(select(func.count()).select_from(Member)).one() == MEMBERS + 2 + JOINERS


def _check_notifications_once(db, twilio: FakeTwilio) -> int:
    with session_scope(db) as s:
        rows = list(s.exec(select(OutboundMessage).where(OutboundMessage.inbound_id == None)))  # noqa: E711
    assert rows and all(r.status == "sent" for r in rows), Counter(r.status for r in rows)
    accepted = twilio.messages
    assert Counter((m["To"], m["Body"]) for m in accepted) == Counter((r.address, r.text) for r in rows)
    assert len(accepted) == len(rows)
    assert sorted(r.provider_id for r in rows) == sorted(m["Sid"] for m in accepted)
    return len(rows)


def _check_logs_are_masked(log: str, messages) -> None:
    assert "Uvicorn running" in log or "Application startup complete" in log  # the logs were captured
    assert not re.search(r"\+255\d{9}", log), re.search(r".{60}\+255\d{9}.{20}", log)
    for needle in ("Joiner Person", "Joiner Shop", "SAVE 1", "DEP MOSHI"):
        assert needle not in log
