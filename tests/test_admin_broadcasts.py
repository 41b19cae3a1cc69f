"""Broadcasts by segment over SMS: combination, opt-out, preview, split, duplicates, reports, scheduling."""


from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.handlers.broadcasts import parse_when
from bot.jobs.broadcasts import run_finished, run_scheduled
from storage.broadcasts import Broadcast
from storage.clusters import create_cluster
from storage.db import session_scope
from storage.members import Identity, Member
from storage.messages import OutboundMessage
from tests.conftest import outbox, say

FAC = "+255712000009"
NOW = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)


def _people(add_member):
    add_member(FAC, admin_role="facilitator", gender="male", location="Arusha", sector="admin")
    asha = add_member("+255712000001", name="Asha", gender="female", sector="tailoring", location="Moshi")
    add_member("+255712000002", name="Bahati", gender="female", sector="Tailoring", location="moshi")
    add_member("+255712000003", name="Chande", gender="male", sector="tailoring", location="Moshi")
    add_member("+255712000004", name="Dora", gender="female", sector="tailoring", location="Arusha")
    add_member("+255712000005", name="Eva", gender="female", sector="coffee", location="Moshi")
    add_member("+255712000006", name="Fatma", gender="female", sector="tailoring", location="Moshi",
               status="pending")
    return asha


def _bcast(db):
    with session_scope(db) as s:
        return list(s.exec(select(Broadcast).order_by(Broadcast.id)))


def test_women_tailors_of_one_town_get_it_and_nobody_else(db, settings, cluster, add_member):
    _people(add_member)
    reply = say(db, settings, FAC, "BCAST sector:tailoring location:Moshi gender:F Workshop Friday 10am",
                now=NOW)[0]
    assert "Broadcast 1 is going to 2 members, 2 SMS segments" in reply
    sent = outbox(db, kind="broadcast")
    assert sorted(m.address for m in sent) == ["+255712000001", "+255712000002"]
    assert {m.text for m in sent} == {"Workshop Friday 10am"} and {m.batch for m in sent} == {"broadcast:1"}


def test_opted_out_and_silenced_members_are_never_sent(db, settings, cluster, add_member):
    _people(add_member)
    say(db, settings, "+255712000001", "STOP", now=NOW)
    with session_scope(db) as s:
        ident = s.exec(select(Identity).where(Identity.address == "+255712000002")).one()
        ident.opted_out = True
        s.add(ident)
    reply = say(db, settings, FAC, "BCAST all Meeting moved to Monday", now=NOW)[0]
    assert "4 members" in reply
    addresses = {m.address for m in outbox(db, kind="broadcast")}
    assert "+255712000001" not in addresses and "+255712000002" not in addresses
    assert _bcast(db)[0].skipped == 2


def test_empty_segment_unknown_key_and_missing_text_send_nothing(db, settings, cluster, add_member):
    _people(add_member)
    assert "No member matches" in say(db, settings, FAC, "BCAST sector:welding Hello", now=NOW)[0]
    assert "Unknown segment colour" in say(db, settings, FAC, "BCAST colour:red Hello", now=NOW)[0]
    assert "Unknown segment Hello" in say(db, settings, FAC, "BCAST Hello everyone", now=NOW)[0]
    assert "Gender must be" in say(db, settings, FAC, "BCAST gender:q Hello", now=NOW)[0]
    assert "Add the message" in say(db, settings, FAC, "BCAST sector:tailoring", now=NOW)[0]
    assert outbox(db, kind="broadcast") == [] and _bcast(db) == []


def test_members_cannot_broadcast(db, settings, cluster, add_member):
    _people(add_member)
    assert "Only a facilitator" in say(db, settings, "+255712000001", "BCAST all Hello", now=NOW)[0]
    assert outbox(db, kind="broadcast") == []


def test_guided_broadcast_previews_cost_before_sending(db, settings, cluster, add_member):
    _people(add_member)
    assert "Who should get it" in say(db, settings, FAC, "BCAST", now=NOW)[0]
    assert "Unknown segment" in say(db, settings, FAC, "colour:red", now=NOW)[0]
    assert "text" in say(db, settings, FAC, "location:Moshi gender:F", now=NOW)[0]
    preview = say(db, settings, FAC, "Training on Saturday at the hall", now=NOW)[0]
    assert "3 members will get it" in preview and "1 SMS each, 3 SMS segments" in preview
    assert outbox(db, kind="broadcast") == []
    assert "Reply 1" in say(db, settings, FAC, "hmm", now=NOW)[0]
    assert "going to 3 members" in say(db, settings, FAC, "1", now=NOW)[0]
    assert len(outbox(db, kind="broadcast")) == 3


def test_guided_broadcast_can_be_cancelled(db, settings, cluster, add_member):
    _people(add_member)
    for text in ("BCAST", "all", "Hello all"):
        say(db, settings, FAC, text, now=NOW)
    assert "Nothing was sent" in say(db, settings, FAC, "2", now=NOW)[0]
    assert outbox(db, kind="broadcast") == [] and _bcast(db) == []


def test_long_text_is_offered_split_never_sent_silently(db, settings, cluster, add_member):
    _people(add_member)
    text = "Workshop on quality stitching " * 8
    reply = say(db, settings, FAC, f"BCAST location:Moshi gender:F {text}", now=NOW)[0]
    assert "Too long for one SMS" in reply and "2 messages to each of 3 members, 6 SMS segments" in reply
    assert outbox(db, kind="broadcast") == []
    assert "going to 3 members, 6 SMS segments" in say(db, settings, FAC, "1", now=NOW)[0]
    sent = outbox(db, kind="broadcast")
    assert len(sent) == 6 and all(m.segments == 1 for m in sent)


def test_same_text_to_same_segment_within_an_hour_asks_first(db, settings, cluster, add_member):
    _people(add_member)
    say(db, settings, FAC, "BCAST location:Moshi Meeting at 3", now=NOW)
    again = say(db, settings, FAC, "BCAST location:moshi  meeting at 3", now=NOW + timedelta(minutes=20))[0]
    assert "same text went to these members 20 min ago (0 of 4 sent so far)" in again
    assert len(outbox(db, kind="broadcast")) == 4
    assert "Nothing was sent" in say(db, settings, FAC, "2", now=NOW + timedelta(minutes=21))[0]
    say(db, settings, FAC, "BCAST location:Moshi Meeting at 3", now=NOW + timedelta(minutes=22))
    assert "going to 4 members" in say(db, settings, FAC, "1", now=NOW + timedelta(minutes=22))[0]
    assert len(outbox(db, kind="broadcast")) == 8
    later = say(db, settings, FAC, "BCAST location:Moshi Meeting at 3", now=NOW + timedelta(minutes=90))[0]
    assert "Broadcast 3 is going" in later


def test_delivery_report_counts_outbox_statuses(db, settings, cluster, add_member):
    _people(add_member)
    say(db, settings, FAC, "BCAST location:Moshi Meeting at 3", now=NOW)
    with session_scope(db) as s:
        rows = list(s.exec(select(OutboundMessage).where(OutboundMessage.batch == "broadcast:1")
                           .order_by(OutboundMessage.id)))
        for row, status in zip(rows, ["delivered", "delivered", "sent", "failed"], strict=True):
            row.status = status
            s.add(row)
    for command in ("REPORT 1", "BCAST 1", "report #1"):
        assert say(db, settings, FAC, command, now=NOW)[0] == (
            "Broadcast 1 to 4 members: 3 sent, 2 delivered, 1 failed, 0 waiting.")
    assert "No broadcast 99" in say(db, settings, FAC, "REPORT 99", now=NOW)[0]
    assert "Send REPORT and a broadcast number" in say(db, settings, FAC, "REPORT x", now=NOW)[0]


def test_progress_while_sending_then_one_notice_when_done(db, settings, cluster, add_member):
    _people(add_member)
    say(db, settings, FAC, "BCAST location:Moshi Meeting at 3", now=NOW)
    assert "0 sent" in say(db, settings, FAC, "REPORT 1", now=NOW)[0]
    assert run_finished_in(db, settings) == 0
    with session_scope(db) as s:
        for row in s.exec(select(OutboundMessage).where(OutboundMessage.batch == "broadcast:1")):
            row.status = "sent"
            s.add(row)
    assert run_finished_in(db, settings) == 1
    assert run_finished_in(db, settings) == 0
    notices = [m.text for m in outbox(db, FAC)]
    assert notices == ["Broadcast 1 has gone out: 4 sent, 0 delivered, 0 failed."]


def run_finished_in(db, settings):
    with session_scope(db) as s:
        return run_finished(s, settings, NOW)


def test_scheduled_broadcast_goes_once_at_its_time(db, settings, cluster, add_member):
    _people(add_member)
    reply = say(db, settings, FAC, "BCAST at:14:30 gender:F Market day tomorrow", now=NOW)[0]
    assert reply.startswith("Broadcast 1 will go to gender:female on ")
    assert outbox(db, kind="broadcast") == []
    due = datetime(2025, 3, 10, 11, 30, tzinfo=UTC)  # 14:30 in Dar es Salaam
    for moment in (due - timedelta(minutes=1), due, due + timedelta(minutes=1)):
        with session_scope(db) as s:
            run_scheduled(s, settings, moment)
    assert len(outbox(db, kind="broadcast")) == 4
    assert "going out now to 4 members" in outbox(db, FAC)[0].text
    assert "Write the time" in say(db, settings, FAC, "BCAST at:31/02-10:00 all Hi", now=NOW)[0]


def test_parse_when_in_cluster_timezone():
    tz = "Africa/Dar_es_Salaam"
    assert parse_when("18:00", tz, NOW) == datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
    assert parse_when("09:00", tz, NOW) == datetime(2025, 3, 11, 6, 0, tzinfo=UTC)
    assert parse_when("25/12 18:00", tz, NOW) == datetime(2025, 12, 25, 15, 0, tzinfo=UTC)
    assert parse_when("2025-04-01 08h30", tz, NOW) == datetime(2025, 4, 1, 5, 30, tzinfo=UTC)
    assert parse_when("tomorrow", tz, NOW) is None and parse_when("25:00", tz, NOW) is None


def test_broadcast_in_another_cluster_is_unknown(db, settings, cluster, add_member):
    _people(add_member)
    say(db, settings, FAC, "BCAST all Hello", now=NOW)
    with session_scope(db) as s:
        other = create_cluster(s, "Dakar Fish", "DAKAR", region="SN", timezone="Africa/Dakar")
    add_member("+221771234567", admin_role="facilitator", cluster_obj=other)
    assert "No broadcast 1" in say(db, settings, "+221771234567", "REPORT 1", now=NOW)[0]
    with session_scope(db) as s:
        assert s.exec(select(Member).where(Member.cluster_id == other.id)).all()
