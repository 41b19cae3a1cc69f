"""Floods: past FLOOD_LIMIT messages a minute one address gets a single notice, then silence; others are served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from storage.db import session_scope, utcnow
from storage.messages import InboundMessage, OutboundMessage
from storage.savings import Request
from tests.conftest import say, with_settings

FLOODER, OTHER = "+255712000001", "+255712000002"
NOTICE = "You are sending too many messages"
LIMIT = 5


@pytest.fixture
def limited(settings):
    return with_settings(settings, flood_limit=LIMIT)


def count(db, model, *where) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_past_the_limit_one_notice_then_silence(db, limited, cluster, add_member):
    add_member(FLOODER)
    t0 = utcnow()
    answers = [say(db, limited, FLOODER, "HELP", now=t0 + timedelta(seconds=i)) for i in range(LIMIT + 10)]
    assert all(len(a) == 1 and NOTICE not in a[0] for a in answers[:LIMIT])
    assert len(answers[LIMIT]) == 1 and NOTICE in answers[LIMIT][0]
    assert answers[LIMIT + 1:] == [[]] * 9
    assert count(db, InboundMessage) == LIMIT + 10  # every delivery is still recorded, none acted on twice
    assert count(db, InboundMessage, InboundMessage.command == "FLOOD") == 10


def test_throttled_messages_are_not_acted_on(db, limited, cluster, add_member):
    add_member(FLOODER)
    t0 = utcnow()
    for i in range(LIMIT + 6):
        say(db, limited, FLOODER, f"SAVE {1000 + i}", now=t0 + timedelta(seconds=i))
    assert count(db, Request) == LIMIT


def test_other_senders_are_served_during_a_flood(db, limited, cluster, add_member):
    add_member(FLOODER)
    add_member(OTHER)
    t0 = utcnow()
    for i in range(LIMIT * 4):
        say(db, limited, FLOODER, "HELP", now=t0 + timedelta(seconds=i))
        if i % 4 == 0:
            [reply] = say(db, limited, OTHER, "PROFILE", now=t0 + timedelta(seconds=i))
            assert NOTICE not in reply and "Test Member" in reply


def test_the_same_number_on_another_channel_is_a_separate_sender(db, limited, cluster):
    t0 = utcnow()
    for _ in range(LIMIT + 3):
        say(db, limited, FLOODER, "HELP", now=t0)
    [reply] = say(db, limited, "99887766", "HELP", channel="telegram", now=t0)
    assert NOTICE not in reply


def test_a_quiet_minute_lifts_the_throttle(db, limited, cluster, add_member):
    add_member(FLOODER)
    t0 = utcnow()
    for i in range(LIMIT + 3):
        say(db, limited, FLOODER, "HELP", now=t0 + timedelta(seconds=i))
    later = t0 + timedelta(seconds=LIMIT + 3 + 61)
    [reply] = say(db, limited, FLOODER, "PROFILE", now=later)
    assert NOTICE not in reply and "Test Member" in reply


def test_a_flooder_who_keeps_going_gets_no_second_notice(db, limited, cluster):
    t0 = utcnow()
    notices = 0
    for i in range(120):  # one message every two seconds for four minutes: always over the limit
        notices += sum(NOTICE in r for r in say(db, limited, FLOODER, "hi", now=t0 + timedelta(seconds=2 * i)))
    assert notices == 1
    with session_scope(db) as s:
        replies = s.exec(select(func.count()).select_from(OutboundMessage)
                         .where(OutboundMessage.address == FLOODER)).one()
    assert replies == LIMIT + 1


def test_a_limit_of_zero_turns_throttling_off(db, settings, cluster):
    off = with_settings(settings, flood_limit=0)
    t0 = utcnow()
    answers = [say(db, off, FLOODER, "HELP", now=t0) for _ in range(40)]
    assert all(len(a) == 1 and NOTICE not in a[0] for a in answers)


def test_floods_over_the_webhook_get_empty_twiml_fast(client, phone, db, cluster, settings):
    """The default limit applies to real webhooks; throttled deliveries still get a 200 (no Twilio retries)."""
    sender = phone(FLOODER)
    replies = [sender.send("HELP") for _ in range(settings.flood_limit + 5)]
    assert [len(r) for r in replies[:settings.flood_limit]] == [1] * settings.flood_limit
    assert NOTICE in replies[settings.flood_limit][0]
    assert replies[settings.flood_limit + 1:] == [[]] * 4
    assert len(phone(OTHER).send("HELP")) == 1
