"""Dashboard login codes are limited by requester and by number, and a stranger cannot lock an officer out.

The rule (storage/dashboard_auth.py, SECURITY.md): a code always goes to the officer's own phone; from an
unknown browser a number gets at most one code per window and asking again leaves that code valid; one
client address may ask and guess only so often an hour; a browser the officer logged in from is exempt
and its codes cannot be used or burnt from anywhere else. Facilitators and treasurers alike.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.app import create_app
from bot.dashboard import DEVICE_COOKIE
from storage import dashboard_auth as auth
from storage.db import session_scope
from tests.conftest import outbox

OFFICERS = {"facilitator": "+255712000009", "treasurer": "+255712000008"}
STRANGER = ("192.0.2.66", 40000)
OFFICE = ("198.51.100.7", 40000)


@pytest.fixture
def browsers(settings, db, cluster, add_member):
    for role, phone in OFFICERS.items():
        add_member(phone, admin_role=role)
    app = create_app(settings, db)
    with TestClient(app, base_url="https://bot.example.org", client=STRANGER) as stranger, \
            TestClient(app, base_url="https://bot.example.org", client=OFFICE) as officer:
        yield stranger, officer


def codes(db, phone: str) -> list[str]:
    return [re.search(r"\b(\d{6})\b", m.text).group(1) for m in outbox(db, phone, kind="login")]


def age(db, minutes: int) -> None:
    """Let time pass for the login rows: every code and attempt is `minutes` older."""
    delta = timedelta(minutes=minutes)
    with session_scope(db) as session:
        for row in session.exec(select(auth.LoginCode)):
            row.created_at, row.expires_at = row.created_at - delta, row.expires_at - delta
            session.add(row)
        for row in session.exec(select(auth.LoginAttempt)):
            row.created_at -= delta
            session.add(row)


def verify(client, phone: str, code: str) -> int:
    return client.post("/dashboard/verify", data={"phone": phone, "code": code}, follow_redirects=False).status_code


def wrong(code: str) -> list[str]:
    return [f"{n:06d}" for n in range(100) if f"{n:06d}" != code]


@pytest.mark.parametrize("role", OFFICERS)
def test_a_strangers_requests_cost_at_most_one_sms_per_window(browsers, db, role):
    stranger, _officer = browsers
    phone = OFFICERS[role]
    for _ in range(7):
        stranger.post("/dashboard/login", data={"phone": phone})
    assert len(codes(db, phone)) == 1
    age(db, 11)
    for _ in range(3):
        stranger.post("/dashboard/login", data={"phone": phone})
    assert len(codes(db, phone)) == 2


@pytest.mark.parametrize("role", OFFICERS)
def test_a_stranger_asking_again_and_again_never_locks_the_officer_out(browsers, db, role):
    stranger, officer = browsers
    phone = OFFICERS[role]
    for _round in range(3):  # an hour and more of a stranger asking every few minutes
        for _ in range(3):
            stranger.post("/dashboard/login", data={"phone": phone})
        age(db, 11)
    for _ in range(3):
        stranger.post("/dashboard/login", data={"phone": phone})
    officer.post("/dashboard/login", data={"phone": phone})  # inside the window: nothing new is sent...
    assert len(codes(db, phone)) == 4
    assert verify(officer, phone, codes(db, phone)[-1]) == 303  # ...and the code on their phone works


@pytest.mark.parametrize("role", OFFICERS)
def test_a_strangers_guesses_cannot_lock_out_a_browser_the_officer_used_before(browsers, db, role):
    stranger, officer = browsers
    phone = OFFICERS[role]
    officer.post("/dashboard/login", data={"phone": phone})
    assert verify(officer, phone, codes(db, phone)[-1]) == 303
    assert officer.cookies.get(DEVICE_COOKIE)
    officer.cookies.delete("cb_dash", domain="bot.example.org", path="/dashboard")
    age(db, 11)
    stranger.post("/dashboard/login", data={"phone": phone})
    burnt = codes(db, phone)[-1]
    for guess in wrong(burnt)[:auth.CODE_ATTEMPTS]:
        verify(stranger, phone, guess)
    assert verify(stranger, phone, burnt) == 400  # the number's code is burnt...
    officer.post("/dashboard/login", data={"phone": phone})  # ...yet the known browser gets a fresh one
    mine = codes(db, phone)[-1]
    assert mine != burnt
    for guess in wrong(mine)[:auth.CODE_ATTEMPTS]:
        verify(stranger, phone, guess)  # guesses from elsewhere neither burn it...
    assert verify(stranger, phone, mine) == 400  # ...nor can use it
    assert verify(officer, phone, mine) == 303


def test_one_address_may_ask_for_few_codes_an_hour_whatever_the_numbers(browsers, db, add_member, monkeypatch):
    stranger, officer = browsers
    monkeypatch.setattr(auth, "ADDRESS_CODES_PER_HOUR", 2)
    extra = "+255712000007"
    add_member(extra, admin_role="facilitator")
    for phone in (*OFFICERS.values(), extra):
        stranger.post("/dashboard/login", data={"phone": phone})
    assert [len(codes(db, p)) for p in (*OFFICERS.values(), extra)] == [1, 1, 0]
    officer.post("/dashboard/login", data={"phone": extra})  # the officer's own address is not limited by it
    assert len(codes(db, extra)) == 1 and verify(officer, extra, codes(db, extra)[-1]) == 303


@pytest.mark.parametrize("role", OFFICERS)
def test_one_address_may_guess_only_so_often_and_the_officer_still_gets_in(browsers, db, role, monkeypatch):
    stranger, officer = browsers
    monkeypatch.setattr(auth, "ADDRESS_GUESSES_PER_HOUR", 3)
    phone = OFFICERS[role]
    stranger.post("/dashboard/login", data={"phone": phone})
    code = codes(db, phone)[-1]
    for guess in wrong(code)[:3]:
        assert verify(stranger, phone, guess) == 400
    assert verify(stranger, phone, code) == 400  # over its limit: not even the right code is tried
    assert verify(officer, phone, code) == 303
