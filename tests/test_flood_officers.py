"""Officers doing their work are never throttled as a flood; members and strangers still are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage.db import session_scope
from storage.events import Event
from storage.members import Identity, Member
from tests.conftest import say, with_settings
from tests.test_events import NOW

OFFICER, MEMBER, STRANGER = "+255712000009", "+255712000001", "+255712000077"
NOTICE = "You are sending too many messages"
LIMIT = 20  # the default FLOOD_LIMIT
EVENT = ["NEWEVENT", "Buyer visit", "6", "2026-03-20 09:00-12:00", "Market", "0", "0", "all", "YES"]


def _address(db, phone: str, channel: str, member: Member | None) -> str:
    if channel == "sms":
        return phone
    chat = phone[-6:]
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address=chat, member_id=member.id if member else None))
    return chat


def _burst(db, settings, address: str, channel: str, texts: list[str]) -> list[list[str]]:
    return [say(db, settings, address, text, channel=channel, now=NOW + timedelta(seconds=i))
            for i, text in enumerate(texts)]


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_a_facilitator_approving_and_creating_events_is_never_throttled(db, settings, cluster, add_member,
                                                                          channel):
    limited = with_settings(settings, flood_limit=LIMIT)
    officer = add_member(OFFICER, admin_role="facilitator")
    pending = [add_member(f"+2557120001{i:02d}", status="pending") for i in range(22)]
    texts = [f"APPROVE {m.number}" for m in pending] + EVENT + EVENT  # 40 messages in 40 seconds
    address = OFFICER if channel == "sms" else _address(db, OFFICER, channel, officer)
    answers = _burst(db, limited, address, channel, texts)
    assert all(len(a) == 1 and NOTICE not in a[0] for a in answers), [a for a in answers if len(a) != 1]
    with session_scope(db) as s:
        assert all(s.get(Member, m.id).status == "active" for m in pending)
        assert len(s.exec(select(Event)).all()) == 2


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_a_treasurer_recording_deposits_is_never_throttled(db, settings, cluster, add_member, channel):
    limited = with_settings(settings, flood_limit=LIMIT)
    treasurer = add_member(OFFICER, admin_role="treasurer")
    saver = add_member(MEMBER)
    address = OFFICER if channel == "sms" else _address(db, OFFICER, channel, treasurer)
    answers = _burst(db, limited, address, channel, [f"DEP {saver.number} {1000 + i}" for i in range(40)])
    assert all(len(a) == 1 and NOTICE not in a[0] for a in answers)


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("who", ["member", "stranger", "pending officer"])
def test_members_and_strangers_are_still_throttled(db, settings, cluster, add_member, channel, who):
    limited = with_settings(settings, flood_limit=LIMIT)
    member = {"member": lambda: add_member(MEMBER), "stranger": lambda: None,
              "pending officer": lambda: add_member(MEMBER, admin_role="facilitator", status="pending")}[who]()
    phone = STRANGER if member is None else MEMBER
    address = phone if channel == "sms" else _address(db, phone, channel, member)
    answers = _burst(db, limited, address, channel, EVENT * 5)
    assert NOTICE in answers[LIMIT][0] and answers[LIMIT + 1:] == [[]] * (len(answers) - LIMIT - 1)
