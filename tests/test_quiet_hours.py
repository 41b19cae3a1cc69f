"""Quiet hours: notices that are not answers (what a STOP blocks) queued inside a cluster's quiet hours wait
for their end, in the cluster's own timezone; answers and notices about a person's own business go at once;
a facilitator may send a broadcast through them as urgent. (tests/test_quiet.py is about quiet logs.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n
from bot.config import Settings
from bot.engine import Inbound, receive
from bot.handlers.broadcasts import HELD
from bot.handlers.events import send_invitations
from bot.jobs.broadcasts import run_scheduled
from bot.jobs.events import run_reminders
from bot.outbox import held_until
from bot.scheduler import run_due
from storage import events as event_store
from storage.broadcasts import Broadcast
from storage.clusters import (
    Cluster,
    ClusterError,
    create_cluster,
    normalise_quiet_hours,
    parse_quiet_hours,
    quiet_until,
)
from storage.db import session_scope
from storage.members import UNSOLICITED
from storage.messages import OutboundMessage
from tests.conftest import next_sid, outbox, say
from tests.test_events import make_event
from tests.test_polls import make_poll

DAR = ZoneInfo("Africa/Dar_es_Salaam")  # UTC+3, no daylight saving
FAC = "+255712000009"
ASHA = "+255712000001"


def local(year, month, day, hour, minute=0, tz=DAR) -> datetime:
    """A wall-clock time in a zone, as the UTC moment the app works with."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


AT_21 = local(2030, 1, 15, 21)
AT_22 = local(2030, 1, 15, 22)
AT_23 = local(2030, 1, 15, 23)
MORNING = local(2030, 1, 16, 8)  # when 20:00-08:00 ends after those
QUIET_STEP = ("Quiet hours {window}: it would arrive on {when}. Reply 1 to send it then, 2 to cancel, 3 or URGENT "
              "to send it now.")


def set_quiet(db, cluster, value: str) -> None:
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        c.quiet_hours = value
        s.add(c)


def rows(db, kind: str | None = None) -> list[OutboundMessage]:
    return outbox(db, kind=kind)


def due_at_once(row: OutboundMessage) -> bool:
    """Due from the moment it was queued (both stamps are taken as the row is made), not held."""
    return abs(row.next_attempt_at - row.created_at) < timedelta(seconds=5)


def people(add_member, fac_lang: str = "en"):
    add_member(FAC, admin_role="facilitator", language=fac_lang, sector="facilitation")
    return [add_member(f"+25571200000{i}", name=f"Member {i}") for i in range(1, 4)]


# ---------------------------------------------------------------- the window itself


@pytest.mark.parametrize("now, until", [
    (local(2030, 1, 15, 19, 59), None),
    (local(2030, 1, 15, 20, 0), MORNING),
    (AT_21, MORNING),
    (local(2030, 1, 16, 0, 30), MORNING),
    (local(2030, 1, 16, 7, 59), MORNING),
    (MORNING, None),
    (local(2030, 1, 16, 12), None),
])
def test_a_window_across_midnight(db, cluster, now, until):
    set_quiet(db, cluster, "20:00-08:00")
    with session_scope(db) as s:
        assert quiet_until(s.get(Cluster, cluster.id), now) == until


@pytest.mark.parametrize("now, until", [
    (local(2030, 1, 15, 12, 59), None),
    (local(2030, 1, 15, 13, 0), local(2030, 1, 15, 14, 0)),
    (local(2030, 1, 15, 13, 45), local(2030, 1, 15, 14, 0)),
    (local(2030, 1, 15, 14, 0), None),
    (AT_23, None),
])
def test_a_window_within_one_day(db, cluster, now, until):
    set_quiet(db, cluster, "13:00-14:00")
    with session_scope(db) as s:
        assert quiet_until(s.get(Cluster, cluster.id), now) == until


def test_each_cluster_keeps_its_own_timezone(db):
    """19:30 UTC is 22:30 in Addis Ababa (quiet) and 19:30 in Dakar (still the sending window)."""
    moment = datetime(2030, 1, 15, 19, 30, tzinfo=UTC)
    with session_scope(db) as s:
        addis = create_cluster(s, "Addis", "ADDIS", timezone="Africa/Addis_Ababa", region="ET",
                               quiet_hours="20:00-08:00")
        dakar = create_cluster(s, "Dakar", "DAKAR", timezone="Africa/Dakar", region="SN",
                               quiet_hours="20:00-08:00")
        assert quiet_until(addis, moment) == datetime(2030, 1, 16, 5, 0, tzinfo=UTC)  # 08:00 in Addis
        assert quiet_until(dakar, moment) is None
        assert quiet_until(dakar, moment + timedelta(hours=1)) == datetime(2030, 1, 16, 8, 0, tzinfo=UTC)


def test_the_end_of_quiet_hours_follows_daylight_saving(db):
    """Paris moves its clocks on the night of 30 to 31 March 2030: 08:00 the next morning is 06:00 UTC,
    not the 07:00 that adding hours to the evening's offset would give."""
    paris = ZoneInfo("Europe/Paris")
    with session_scope(db) as s:
        c = create_cluster(s, "Paris", "PARIS", timezone="Europe/Paris", region="FR", quiet_hours="20:00-08:00")
        until = quiet_until(c, local(2030, 3, 30, 23, tz=paris))
    assert until == datetime(2030, 3, 31, 6, 0, tzinfo=UTC)
    assert until.astimezone(paris).hour == 8


@pytest.mark.parametrize("text, stored", [
    ("20:00-08:00", "20:00-08:00"), ("9:00-17:30", "09:00-17:30"), (" 21h00-07h00 ", "21:00-07:00"),
    ("off", "off"), ("OFF", "off"),
])
def test_windows_are_read_and_stored_one_way(text, stored):
    assert normalise_quiet_hours(text) == stored


@pytest.mark.parametrize("text", ["08:00-08:00", "25:00-07:00", "20:00", "evening", "20:00-8", "20:60-08:00", ""])
def test_bad_windows_are_refused_saying_what_is_expected(text):
    with pytest.raises(ClusterError, match="20:00-08:00"):
        parse_quiet_hours(text)


def test_what_waits_is_exactly_what_a_stop_blocks(db, cluster):
    """One rule: the kinds a STOP blocks (the term of the week goes as a broadcast) wait; the rest do not."""
    set_quiet(db, cluster, "20:00-08:00")
    assert "broadcast" in UNSOLICITED
    with session_scope(db) as s:
        for kind in UNSOLICITED:
            assert held_until(s, kind, cluster.id, AT_22) == MORNING
        for kind in ("reply", "notice"):
            assert held_until(s, kind, cluster.id, AT_22) is None


# ---------------------------------------------------------------- broadcasts


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_a_broadcast_at_21_asks_first_and_waits_until_08(db, settings, cluster, add_member, lang):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member, fac_lang=lang)
    preview = say(db, settings, FAC, "BCAST all Meeting on Friday", now=AT_21)
    expected = i18n.translate(lang, QUIET_STEP, tz="Africa/Dar_es_Salaam", region="TZ", window="20:00-08:00",
                              when=MORNING)
    assert preview == [expected]
    assert "20:00-08:00" in expected and "08:00" in expected.replace("20:00-08:00", "")
    assert rows(db, "broadcast") == []
    done = say(db, settings, FAC, "1", now=AT_21)
    assert done == [i18n.translate(lang, HELD, tz="Africa/Dar_es_Salaam", region="TZ", id=1, segment="all",
                                   when=MORNING)]
    sent = rows(db, "broadcast")
    assert len(sent) == 4 and {m.next_attempt_at for m in sent} == {MORNING}


@pytest.mark.parametrize("answer", ["3", "URGENT", "haraka", "Urgent", "አስቸኳይ"])
def test_an_urgent_broadcast_goes_now(db, settings, cluster, add_member, answer):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    say(db, settings, FAC, "BCAST all The road to the market is closed", now=AT_21)
    assert "going to 4 members" in say(db, settings, FAC, answer, now=AT_21)[0]
    sent = rows(db, "broadcast")
    assert len(sent) == 4 and all(due_at_once(m) for m in sent)
    with session_scope(db) as s:
        assert s.exec(select(Broadcast)).one().urgent


def test_a_quiet_hours_broadcast_can_be_cancelled(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    say(db, settings, FAC, "BCAST all Hello", now=AT_21)
    assert "Nothing was sent" in say(db, settings, FAC, "2", now=AT_21)[0]
    assert rows(db, "broadcast") == []
    with session_scope(db) as s:
        assert s.exec(select(Broadcast)).all() == []


def test_the_guided_preview_then_asks_about_quiet_hours(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    for text in ("BCAST", "all"):
        say(db, settings, FAC, text, now=AT_21)
    assert "4 members will get it" in say(db, settings, FAC, "Training tomorrow", now=AT_21)[0]
    assert "Quiet hours 20:00-08:00: it would arrive on Wed 16 Jan 08:00" in say(db, settings, FAC, "1", now=AT_21)[0]
    assert "when quiet hours end" in say(db, settings, FAC, "1", now=AT_21)[0]
    assert {m.next_attempt_at for m in rows(db, "broadcast")} == {MORNING}


def test_a_broadcast_scheduled_inside_quiet_hours_says_so_and_waits(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    noon = local(2030, 1, 15, 12)
    preview = say(db, settings, FAC, "BCAST at:22:00 all Meeting tomorrow", now=noon)[0]
    assert preview.startswith("Quiet hours 20:00-08:00: it would arrive on Wed 16 Jan 08:00")
    assert "on Wed 16 Jan 08:00, when quiet hours end" in say(db, settings, FAC, "1", now=noon)[0]
    with session_scope(db) as s:
        run_scheduled(s, settings, AT_22)
    assert {m.next_attempt_at for m in rows(db, "broadcast")} == {MORNING}


def test_an_urgent_scheduled_broadcast_goes_at_its_time(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    noon = local(2030, 1, 15, 12)
    say(db, settings, FAC, "BCAST at:22:00 all Meeting tomorrow", now=noon)
    assert "will go to all on" in say(db, settings, FAC, "3", now=noon)[0]
    with session_scope(db) as s:
        run_scheduled(s, settings, AT_22)
    sent = rows(db, "broadcast")
    assert len(sent) == 4 and all(due_at_once(m) for m in sent)


def test_off_sends_everything_at_once(db, settings, cluster, add_member):
    set_quiet(db, cluster, "off")
    people(add_member)
    assert "going to 4 members" in say(db, settings, FAC, "BCAST all Hello", now=AT_23)[0]
    assert all(due_at_once(m) for m in rows(db, "broadcast"))


def test_the_day_time_send_is_unchanged(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    people(add_member)
    assert "going to 4 members" in say(db, settings, FAC, "BCAST all Hello", now=local(2030, 1, 15, 10))[0]
    assert all(due_at_once(m) for m in rows(db, "broadcast"))


# ---------------------------------------------------------------- answers and a person's own business


def test_a_reply_at_23_goes_now(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    add_member(ASHA)
    outcome = receive(db, settings, Inbound("sms", ASHA, "HELP", next_sid("T")), now=AT_23)
    assert outcome.replies and all(due_at_once(r) for r in outcome.replies)


def test_a_deposit_confirmation_at_23_goes_now(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    add_member("+255712000008", admin_role="treasurer")
    add_member(ASHA)
    say(db, settings, ASHA, "SAVE 50,000 QK12AB", now=AT_23)
    say(db, settings, "+255712000008", "CONFIRM 1", now=AT_23)
    told = outbox(db, ASHA)
    assert told and "confirmed" in told[-1].text and told[-1].kind == "notice" and due_at_once(told[-1])
    to_treasurer = outbox(db, "+255712000008")
    assert to_treasurer and all(due_at_once(m) for m in to_treasurer)


# ---------------------------------------------------------------- invitations, poll rounds, reminders


def test_an_invitation_published_at_22_waits(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    for i in range(1, 3):
        add_member(f"+25571200000{i}")
    event = make_event(db, cluster, publish=False, start=local(2030, 2, 1, 10))
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        send_invitations(s, c, event, event_store.publish(s, event.id, c, AT_22), now=AT_22)
    invited = rows(db, "invitation")
    assert len(invited) == 2 and {m.next_attempt_at for m in invited} == {MORNING}


def test_a_poll_round_opening_at_22_waits(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    add_member(ASHA)
    make_poll(db, cluster, start=AT_22)
    run_due(db, settings, AT_22)
    polls = rows(db, "poll")
    assert len(polls) == 2 and {m.next_attempt_at for m in polls} == {MORNING}


def test_an_event_reminder_at_22_waits(db, settings, cluster, add_member):
    set_quiet(db, cluster, "20:00-08:00")
    asha = add_member(ASHA)
    make_event(db, cluster, start=local(2030, 1, 16, 22), reminders="1d")
    say(db, settings, asha.phone, "YES 1", now=local(2030, 1, 15, 10))
    with session_scope(db) as s:
        assert run_reminders(s, settings, AT_22) == 1
    reminded = rows(db, "reminder")
    assert len(reminded) == 1 and reminded[0].next_attempt_at == MORNING


# ---------------------------------------------------------------- the setting and the CLI


def test_the_setting_reads_quiet_hours_and_refuses_bad_ones():
    assert Settings.from_env({}).quiet_hours == "20:00-08:00"
    assert Settings.from_env({"QUIET_HOURS": "OFF"}).quiet_hours == "off"
    assert Settings.from_env({"QUIET_HOURS": "21:00-6:30"}).quiet_hours == "21:00-06:30"
    with pytest.raises(ValueError, match="QUIET_HOURS"):
        Settings.from_env({"QUIET_HOURS": "22:00-22:00"})


def _quiet_of(db, code: str) -> str:
    with session_scope(db) as s:
        return s.exec(select(Cluster).where(Cluster.code == code)).one().quiet_hours


def test_cluster_create_takes_quiet_hours_or_the_setting(db, cli_run, monkeypatch):
    assert cli_run("cluster", "create", "Arusha", "--code", "ARUSHA", "--quiet", "21:00-07:00")[0] == 0
    assert _quiet_of(db, "ARUSHA") == "21:00-07:00"
    assert cli_run("cluster", "create", "Night", "--code", "NIGHT", "--quiet", "off")[0] == 0
    assert _quiet_of(db, "NIGHT") == "off"
    assert cli_run("cluster", "create", "Usual", "--code", "USUAL")[0] == 0
    assert _quiet_of(db, "USUAL") == "20:00-08:00"
    monkeypatch.setenv("QUIET_HOURS", "19:30-07:30")
    assert cli_run("cluster", "create", "Early", "--code", "EARLY")[0] == 0
    assert _quiet_of(db, "EARLY") == "19:30-07:30"


@pytest.mark.parametrize("window", ["08:00-08:00", "25:00-07:00", "night"])
def test_cluster_create_refuses_a_bad_window_and_creates_nothing(db, cli_run, window):
    code, _out, err = cli_run("cluster", "create", "Arusha", "--code", "ARUSHA", "--quiet", window)
    assert code == 2 and "quiet hours must" in err and "20:00-08:00" in err
    with session_scope(db) as s:
        assert s.exec(select(Cluster).where(Cluster.code == "ARUSHA")).first() is None


def test_a_cluster_from_before_quiet_hours_takes_the_setting_at_the_next_start(db, cluster, cli_run, monkeypatch):
    assert _quiet_of(db, cluster.code) == ""
    monkeypatch.setenv("QUIET_HOURS", "21:00-07:00")
    code, out, _err = cli_run("cluster", "list")
    assert code == 0 and "quiet 21:00-07:00" in out
    assert _quiet_of(db, cluster.code) == "21:00-07:00"
