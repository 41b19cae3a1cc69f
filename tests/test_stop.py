"""STOP is recorded on the address at once, member or not, and every send a STOP blocks honours it.

What a STOP blocks is one rule (storage.members.UNSOLICITED: broadcasts, invitations, reminders, poll
rounds, digests); replies to the person's own messages and notices about their own business still go.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import i18n, outbox, router
from bot.dispatch import claim
from bot.scheduler import run_due
from storage import savings as savings_store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.members import UNSOLICITED, Identity, Member
from storage.messages import OutboundMessage
from tests.conftest import outbox as queued
from tests.conftest import say
from tests.test_events import FAC, NOW, make_event
from tests.test_polls import make_poll

LANGS = ["en", "sw", "fr", "am"]
CHANNELS = [("sms", "+255712000050"), ("telegram", "880050")]
OTHER = "+255712000002"
STOPPED = "You will get no more broadcasts or reminders. Send START to get them again."


def _kinds(db, channel: str, address: str) -> list[str]:
    with session_scope(db) as s:
        return [m.kind for m in s.exec(select(OutboundMessage).where(
            OutboundMessage.channel == channel, OutboundMessage.address == address,
            OutboundMessage.inbound_id == None))]  # noqa: E711


def _register_after_stop(db, settings, channel: str, address: str, lang: str) -> Member:
    """The issue's path: STOP in the middle of JOIN, then JOIN again to the end, then approval."""
    def send(text):
        return say(db, settings, address, text, channel=channel, now=NOW)

    send(router.keyword("JOIN", lang))
    send("Asha Mushi")
    assert send(router.keyword("STOP", lang)) == [i18n.translate(lang, STOPPED)]
    with session_scope(db) as s:
        ident = s.exec(select(Identity).where(Identity.channel == channel, Identity.address == address)).one()
        assert ident.stopped and ident.member_id is None  # recorded on the address, no member yet
    send(router.keyword("JOIN", lang))
    for answer in ["Asha Mushi", "Asha Tailors", "tailoring", "Moshi", "1", "1", str(LANGS.index(lang) + 1)]:
        send(answer)
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.name == "Asha Mushi")).one()
    assert member.opted_out, "the STOP sent while registering carries over to the member"
    say(db, settings, FAC, f"APPROVE {member.number}", now=NOW)
    return member


@pytest.mark.parametrize("channel,address", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_stop_during_registration_holds_back_every_unsolicited_send(db, settings, cluster, add_member, lang,
                                                                    channel, address):
    add_member(FAC, admin_role="facilitator", name="Neema")
    add_member(OTHER, name="Bahati")
    _register_after_stop(db, settings, channel, address, lang)
    assert _kinds(db, channel, address) == ["notice"]  # the approval is their own business: it goes

    say(db, settings, FAC, "BCAST all Meeting on Friday", now=NOW)
    make_event(db, cluster, deadline=NOW + timedelta(days=3))
    run_due(db, settings, NOW + timedelta(days=2, hours=23))  # the answer-deadline reminder is due
    make_poll(db, cluster, start=NOW + timedelta(days=4))
    run_due(db, settings, NOW + timedelta(days=4, minutes=1))
    other = {m.kind for m in queued(db, OTHER)}
    assert {"broadcast", "invitation", "reminder", "poll"} <= other  # the sends happened, to others
    assert _kinds(db, channel, address) == ["notice"]

    start = say(db, settings, address, router.keyword("START", lang), channel=channel, now=NOW)
    assert start == [i18n.translate(lang, "Welcome back! You will get broadcasts and reminders again.")]
    say(db, settings, FAC, "BCAST all Market day moved", now=NOW)
    assert _kinds(db, channel, address) == ["notice", "broadcast"]


@pytest.mark.parametrize("channel,address", CHANNELS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_blocked_kind_is_refused_and_notices_still_go(db, settings, cluster, add_member, lang, channel,
                                                           address):
    member = add_member(OTHER if channel == "sms" else "", language=lang)
    if channel == "telegram":
        with session_scope(db) as s:
            s.add(Identity(channel="telegram", address=address, member_id=member.id))
    else:
        address = OTHER
    say(db, settings, address, router.keyword("STOP", lang), channel=channel, now=NOW)
    with session_scope(db) as s:
        m = s.get(Member, member.id)
        for kind in UNSOLICITED:
            assert outbox.notify(s, m, "Hello", kind=kind) is None, kind
        assert outbox.notify(s, m, "Your deposit was confirmed.") is not None
        assert outbox.notify(s, m, "Your code", kind="login") is not None


@pytest.mark.parametrize("channel,address", CHANNELS)
def test_messages_queued_before_the_stop_are_held_back_by_the_dispatcher(db, settings, cluster, add_member,
                                                                         channel, address):
    member = add_member(OTHER if channel == "sms" else "")
    with session_scope(db) as s:
        if channel == "telegram":
            s.add(Identity(channel="telegram", address=address, member_id=member.id))
        else:
            address = OTHER
    with session_scope(db) as s:
        ident = s.exec(select(Identity).where(Identity.channel == channel, Identity.address == address)).one()
        for kind in (*UNSOLICITED, "notice"):
            outbox.queue(s, ident, f"a {kind}", kind=kind, member_id=member.id)
    say(db, settings, address, "STOP", channel=channel, now=NOW)  # queued during quiet hours, say
    sent = claim(db, channel, 50, utcnow() + timedelta(hours=1))
    assert [m.kind for m in sent] == ["notice"]
    with session_scope(db) as s:
        held = s.exec(select(OutboundMessage).where(OutboundMessage.status == "failed")).all()
        assert sorted(m.kind for m in held) == sorted(UNSOLICITED)
        assert {m.last_error for m in held} == {"held back: the person sent STOP"}


def test_stop_from_one_address_covers_the_member_and_start_from_another_lifts_it(db, settings, cluster,
                                                                                 add_member):
    member = add_member(OTHER)
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="880051", member_id=member.id))
    say(db, settings, OTHER, "ACHA", now=NOW)
    with session_scope(db) as s:
        assert outbox.notify(s, s.get(Member, member.id), "Hello", kind="broadcast") is None
    say(db, settings, "880051", "/start", channel="telegram", now=NOW)
    with session_scope(db) as s:
        assert outbox.notify(s, s.get(Member, member.id), "Hello", kind="broadcast") is not None
        assert not any(i.stopped for i in s.exec(select(Identity)))


def test_writing_again_does_not_lift_a_stop(db, settings, cluster, add_member):
    """Any message lifts a carrier's opt-out (the address works again); only START lifts the person's STOP."""
    member = add_member(OTHER)
    say(db, settings, OTHER, "STOP", now=NOW)
    say(db, settings, OTHER, "BAL", now=NOW)
    with session_scope(db) as s:
        assert outbox.notify(s, s.get(Member, member.id), "Hello", kind="broadcast") is None


@pytest.mark.parametrize("fine", [0, 50_000])
@pytest.mark.parametrize("lang", LANGS)
def test_stop_holds_back_the_contribution_reminder_but_not_the_missed_contribution_notice(db, settings, cluster,
                                                                                         add_member, lang, fine):
    """The reminder before the due day is unsolicited; the notice after it is about the member's own money
    (a fine taken from their savings, a contribution they owe), so it goes to a member who sent STOP."""
    add_member("+255712000009", admin_role="treasurer")
    member = add_member(OTHER, language=lang)
    say(db, settings, OTHER, router.keyword("STOP", lang), now=NOW)
    with session_scope(db) as s:
        savings_store.set_rules(s, s.get(Cluster, cluster.id), contribution_minor=1_000_000, contribution_day=15,
                                remind_days=2, fine_minor=fine)
    run_due(db, settings, datetime(2025, 3, 13, 6, tzinfo=UTC))  # the reminder window
    assert [m.kind for m in queued(db, OTHER) if m.inbound_id is None] == []
    run_due(db, settings, datetime(2025, 3, 16, 6, tzinfo=UTC))  # the day after the due day
    notices = [m for m in queued(db, OTHER) if m.inbound_id is None]
    assert [m.kind for m in notices] == ["notice"]
    with session_scope(db) as s:
        assert s.get(Member, member.id).opted_out
    missed = (("You missed the {amount} contribution due {date}. A fine of {due} was taken from your savings "
               "(entry {entry}).") if fine else
              "You missed the {amount} contribution due {date}. Please pay soon and send SAVE with the amount.")
    first = i18n.translate(lang, missed, amount="\x00", date="\x00", due="\x00", entry="\x00").split("\x00")[0]
    assert notices[0].text.startswith(first)
