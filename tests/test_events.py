"""Events end to end: a facilitator creates and publishes by message, members answer by SMS and Telegram."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.handlers.events import send_invitations
from bot.jobs.events import run_reminders
from storage import events as store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.events import Event, Invitation
from storage.members import Member, get_or_create_identity
from tests.conftest import outbox, say

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 10:00 in Dar es Salaam
START = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)  # Thursday 12 March, 14:00 in Dar es Salaam
FAC = "+255712000009"


def make_event(db, cluster, *, capacity: int = 0, segment: str = "all", deadline: datetime | None = None,
               publish: bool = True, start: datetime = START, **fields) -> Event:
    """An event created and published directly in storage, its invitations queued as publishing does."""
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        fields.setdefault("place", "KNCU Hall")
        event = store.create_event(s, c, title="Vision workshop", starts_at=start, now=NOW,
                                   capacity=capacity, rsvp_deadline=deadline, segment=segment, **fields)
        if publish:
            send_invitations(s, c, event, store.publish(s, event.id, c, NOW))
        return event


def state_of(db, event: Event, member: Member) -> str | None:
    with session_scope(db) as s:
        inv = store.invitation_of(s, event.id, member.id)
        return inv.state if inv else None


def facilitator(add_member) -> Member:
    return add_member(FAC, admin_role="facilitator", sector="facilitation", name="Neema Facilitator")


def test_facilitator_creates_and_publishes_by_sms_and_segment_is_exact(db, settings, cluster, add_member):
    facilitator(add_member)
    asha = add_member("+255712000001", name="Asha", sector="Tailoring", location="Moshi")
    juma = add_member("+255712000002", name="Juma", sector="tailoring", location="moshi", gender="male")
    add_member("+255712000003", sector="tailoring", location="Arusha")
    add_member("+255712000004", sector="dairy", location="Moshi")
    add_member("+255712000005", sector="tailoring", location="Moshi", status="pending")

    def fac(text: str) -> str:
        replies = say(db, settings, FAC, text, now=NOW)
        assert len(replies) == 1, replies
        return replies[0]

    assert "title" in fac("NEWEVENT")
    assert "kind" in fac("Vision workshop")
    assert "start" in fac("1")
    assert "past" in fac("01/03 14:00")
    assert "date and time" in fac("next week")
    assert "Where" in fac("12/03 14:00")
    assert "How many" in fac("KNCU Hall, Moshi")
    assert "Until when" in fac("25")
    assert "deadline" in fac("13/03 18:00")  # after the start
    assert "Whom" in fac("10/03 18:00")
    assert "colour" in fac("colour:red")
    summary = fac("sector:tailoring location:Moshi")
    assert "2 members" in summary and "Thu 12 Mar 14:00" in summary
    done = fac("1")
    assert "published" in done and "2 invitations" in done
    invited = {m.address for m in outbox(db, kind="invitation")}
    assert invited == {asha.phone, juma.phone}
    with session_scope(db) as s:
        event = s.exec(select(Event)).one()
        assert (event.starts_at, event.rsvp_deadline) == (START, datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
        assert (event.kind, event.capacity, event.status, event.place) == ("workshop", 25, "published",
                                                                           "KNCU Hall, Moshi")
        assert event.checkin_code in done
    assert "YES 1" in outbox(db, asha.phone, kind="invitation")[0].text


def test_draft_then_publish_and_drop(db, settings, cluster, add_member):
    facilitator(add_member)
    add_member("+255712000001")
    for answer in ("NEWEVENT", "Buyer visit", "6", "2026-03-20 09:00-12:00", "Market", "0", "0", "all"):
        say(db, settings, FAC, answer, now=NOW)
    assert "draft event 1" in say(db, settings, FAC, "2", now=NOW)[0]
    assert outbox(db, kind="invitation") == []
    assert "Draft 1" in say(db, settings, FAC, "EVENT 1", now=NOW)[0]
    assert "published" in say(db, settings, FAC, "PUBLISH 1", now=NOW)[0]
    assert "already published" in say(db, settings, FAC, "PUBLISH 1", now=NOW)[0]
    assert len(outbox(db, kind="invitation")) == 2  # "all" includes the facilitator
    with session_scope(db) as s:
        event = s.get(Event, 1)
        assert (event.kind, event.ends_at - event.starts_at) == ("buyer_visit", timedelta(hours=3))
    for answer in ("NEWEVENT", "Trade fair", "4", "21/03 09:00", "Grounds", "0", "0", "all"):
        say(db, settings, FAC, answer, now=NOW)
    assert "Nothing was saved" in say(db, settings, FAC, "3", now=NOW)[0]
    with session_scope(db) as s:
        assert len(s.exec(select(Event)).all()) == 1


def test_invitations_in_each_language_and_telegram_buttons(db, settings, cluster, add_member):
    sw = add_member("+255712000001", language="sw")
    fr = add_member("+255712000002", language="fr")
    tg = add_member("+255712000003")
    with session_scope(db) as s:
        ident = get_or_create_identity(s, "telegram", "5550003")
        ident.member_id = tg.id
        ident.last_seen_at = utcnow()
        s.add(ident)
    event = make_event(db, cluster)
    sw_text = outbox(db, sw.phone, kind="invitation")[0].text
    assert "Mwaliko" in sw_text and "NDIYO 1" in sw_text and "12 Mac 14:00" in sw_text
    fr_text = outbox(db, fr.phone, kind="invitation")[0].text
    assert "OUI 1" in fr_text and "12 mars 14:00" in fr_text
    tg_msg = outbox(db, "5550003", kind="invitation")[0]
    assert [value for _label, value in json.loads(tg_msg.buttons)] == ["YES 1", "NO 1", "MAYBE 1"]
    assert "coming" in say(db, settings, "5550003", "YES 1", channel="telegram", now=NOW)[0]
    assert "NIPO" in say(db, settings, sw.phone, "ndiyo 1", now=NOW)[0]
    assert "vous hésitez pour" in say(db, settings, fr.phone, "Peut-être 1", now=NOW)[0]
    with session_scope(db) as s:
        rows = {i.member_id: (i.state, i.channel) for i in s.exec(select(Invitation))}
    assert rows == {sw.id: ("yes", "sms"), fr.id: ("maybe", "sms"), tg.id: ("yes", "telegram")}
    assert event.id == 1


def test_changed_answer_replaces_the_old_one(db, settings, cluster, add_member):
    asha = add_member("+255712000001")
    event = make_event(db, cluster)
    assert "coming" in say(db, settings, asha.phone, "YES 1", now=NOW)[0]
    assert "not come" in say(db, settings, asha.phone, "NO 1", now=NOW + timedelta(hours=1))[0]
    assert "maybe" in say(db, settings, asha.phone, "maybe #1", now=NOW + timedelta(hours=2))[0]
    with session_scope(db) as s:
        rows = s.exec(select(Invitation).where(Invitation.event_id == event.id)).all()
        assert [(r.state, r.answered_at) for r in rows] == [("maybe", NOW + timedelta(hours=2))]


def test_yes_without_number_answers_the_only_open_invitation(db, settings, cluster, add_member):
    asha = add_member("+255712000001")
    make_event(db, cluster)
    assert "coming" in say(db, settings, asha.phone, "yes", now=NOW)[0]
    make_event(db, cluster)
    assert "event number" in say(db, settings, asha.phone, "no", now=NOW)[0]


def test_waitlist_and_promotion_by_message(db, settings, cluster, add_member):
    a, b, c = (add_member(f"+25571200000{i}") for i in (1, 2, 3))
    event = make_event(db, cluster, capacity=1)
    assert "coming" in say(db, settings, a.phone, "YES 1", now=NOW)[0]
    assert "number 1 on the waitlist" in say(db, settings, b.phone, "YES 1", now=NOW)[0]
    assert "number 2 on the waitlist" in say(db, settings, c.phone, "YES 1", now=NOW)[0]
    assert "number 2 on the waitlist" in say(db, settings, c.phone, "YES 1", now=NOW)[0]
    say(db, settings, a.phone, "NO 1", now=NOW)
    assert [state_of(db, event, m) for m in (a, b, c)] == ["no", "yes", "waitlist"]
    told = outbox(db, b.phone, kind="notice")
    assert len(told) == 1 and "A place opened" in told[0].text
    assert "(waitlist 1)" in say(db, settings, c.phone, "EVENTS", now=NOW)[0]


def test_events_lists_upcoming_invitations_most_relevant_first(db, settings, cluster, add_member):
    asha = add_member("+255712000001")
    make_event(db, cluster, start=START + timedelta(days=1))
    make_event(db, cluster, start=START + timedelta(days=2))
    say(db, settings, asha.phone, "YES 1", now=NOW)
    reply = say(db, settings, asha.phone, "EVENTS", now=NOW)[0]
    assert reply.index("2 Vision workshop 14 Mar 14:00 (not answered)") < reply.index(
        "1 Vision workshop 13 Mar 14:00 (coming)")
    assert len(reply) <= 160
    assert "2 Vision" not in say(db, settings, asha.phone, "EVENTS", now=START + timedelta(days=2, hours=4))[0]
    assert "no upcoming" in say(db, settings, asha.phone, "EVENTS", now=START + timedelta(days=10))[0]


def test_bad_input_gets_one_reply_and_changes_nothing(db, settings, cluster, add_member):
    asha = add_member("+255712000001")
    outsider = add_member("+255712000002", sector="dairy")
    event = make_event(db, cluster, segment="sector:tailoring", deadline=START - timedelta(days=2))
    cases = [
        (asha.phone, "YES 999", NOW, "no event 999"),
        (asha.phone, "YES abc", NOW, "no event abc"),
        (outsider.phone, "YES 1", NOW, "not invited"),
        (asha.phone, "YES 1", START - timedelta(days=1), "closed on"),
        (asha.phone, "NO 1", START + timedelta(minutes=5), "already started"),
    ]
    for address, text, when, expected in cases:
        replies = say(db, settings, address, text, now=when)
        assert len(replies) == 1 and expected in replies[0], (text, replies)
    assert state_of(db, event, asha) == "invited"
    assert state_of(db, event, outsider) is None


def test_check_in_with_code_and_by_facilitator(db, settings, cluster, add_member):
    facilitator(add_member)
    asha = add_member("+255712000001")
    juma = add_member("+255712000002", gender="male")
    event = make_event(db, cluster)
    say(db, settings, asha.phone, "YES 1", now=NOW)
    code = event.checkin_code
    wrong = "0000" if code != "0000" else "1111"
    assert "opens 2 hours" in say(db, settings, asha.phone, f"HERE 1 {code}", now=NOW)[0]
    at_venue = START - timedelta(minutes=30)
    assert "not the check-in code" in say(db, settings, asha.phone, f"HERE 1 {wrong}", now=at_venue)[0]
    assert "code you were given" in say(db, settings, asha.phone, "HERE 1", now=at_venue)[0]
    assert "Welcome to Vision workshop" in say(db, settings, asha.phone, f"nipo 1 {code}", now=at_venue)[0]
    assert "Welcome" in say(db, settings, asha.phone, f"HERE 1 {code}", now=at_venue)[0]
    assert "No member" in say(db, settings, FAC, "ATTEND 1 MOSHI-999", now=START)[0]
    assert "came to" in say(db, settings, FAC, f"ATTEND 1 {juma.number}", now=START)[0]
    with session_scope(db) as s:
        came = s.exec(select(store.CheckIn).order_by(store.CheckIn.id)).all()
        assert [(c.member_id, c.method) for c in came] == [(asha.id, "code"), (juma.id, "facilitator")]
    summary = say(db, settings, FAC, "EVENT 1", now=START)[0]
    assert "Yes 1 (F1 M0)" in summary and "Came 2 (F1 M1)" in summary and len(summary) <= 160


def test_members_cannot_run_facilitator_commands(db, settings, cluster, add_member):
    asha = add_member("+255712000001")
    make_event(db, cluster)
    for text in ("NEWEVENT", "EVENT 1", "CANCELEVENT 1", "MOVE 1 20/03 10:00", "ATTEND 1 MOSHI-001"):
        assert "Only a facilitator" in say(db, settings, asha.phone, text, now=NOW)[0]
    with session_scope(db) as s:
        assert s.get(Event, 1).status == "published"


def test_cancel_tells_yes_maybe_and_waitlist_only(db, settings, cluster, add_member):
    facilitator(add_member)
    a, b, c, d, w = (add_member(f"+25571200000{i}") for i in (1, 2, 3, 4, 5))
    event = make_event(db, cluster, capacity=1, segment="sector:tailoring location:Moshi")
    say(db, settings, a.phone, "YES 1", now=NOW)
    say(db, settings, w.phone, "YES 1", now=NOW)
    say(db, settings, b.phone, "MAYBE 1", now=NOW)
    say(db, settings, d.phone, "NO 1", now=NOW)
    reply = say(db, settings, FAC, "CANCELEVENT 1", now=NOW + timedelta(days=1))[0]
    assert "3 members" in reply
    told = {m.address for m in outbox(db, kind="notice") if "cancelled" in m.text}
    assert told == {a.phone, b.phone, w.phone}
    assert "cancelled" in say(db, settings, c.phone, "YES 1", now=NOW + timedelta(days=1))[0]
    assert state_of(db, event, c) == "invited"
    assert "cancelled" in say(db, settings, FAC, "CANCELEVENT 1", now=NOW + timedelta(days=1))[0]


def test_move_tells_who_is_coming_with_the_new_time(db, settings, cluster, add_member):
    facilitator(add_member)
    a, b, d = (add_member(f"+25571200000{i}") for i in (1, 2, 3))
    make_event(db, cluster, segment="sector:tailoring location:Moshi", deadline=START - timedelta(days=1))
    say(db, settings, a.phone, "YES 1", now=NOW)
    say(db, settings, b.phone, "MAYBE 1", now=NOW)
    say(db, settings, d.phone, "NO 1", now=NOW)
    assert "new date" in say(db, settings, FAC, "MOVE 1 soon", now=NOW)[0]
    assert "past" in say(db, settings, FAC, "MOVE 1 01/03 10:00", now=NOW)[0]
    assert "2 members" in say(db, settings, FAC, "MOVE 1 19/03 10:00-13:00", now=NOW)[0]
    moved = {m.address: m.text for m in outbox(db, kind="notice")}
    assert set(moved) == {a.phone, b.phone} and "Thu 19 Mar 10:00" in moved[a.phone]
    with session_scope(db) as s:
        event = s.get(Event, 1)
        assert event.starts_at == datetime(2026, 3, 19, 7, 0, tzinfo=UTC)
        assert event.ends_at == datetime(2026, 3, 19, 10, 0, tzinfo=UTC)
        assert event.rsvp_deadline == event.starts_at - timedelta(days=1)


def test_whole_workshop_over_signed_sms_webhooks(phone, db, cluster, add_member):
    """The 'done when' path over HTTP, as phones would do it; dates come from a year ahead of today."""
    facilitator(add_member)
    member = add_member("+255712000001")
    fac = phone(FAC)
    day = (utcnow() + timedelta(days=365)).date().isoformat()
    for text in ("NEWEVENT", "Quarterly workshop", "1", f"{day} 09:00", "Hall", "30", "0", "all"):
        fac.last(text)
    assert "published" in fac.last("1")
    invitation = outbox(db, member.phone, kind="invitation")[0].text
    assert "Quarterly workshop" in invitation and "09:00" in invitation
    assert "coming" in phone(member.phone).last("YES 1")
    assert "Yes 1" in fac.last("EVENT 1")


def test_an_event_without_a_place_is_worded_without_one_in_every_language(db, settings, cluster, add_member):
    """Created without a place (the CLI allows it), an event's invitation, the YES answer, the move, the
    place opened and the reminder are whole sentences in every language: no "14:00, ." where the place was."""
    facilitator(add_member)
    people = {lang: add_member(f"+25571200001{i}", language=lang) for i, lang in enumerate(("en", "sw", "fr", "am"))}
    waiting = add_member("+255712000020")
    make_event(db, cluster, capacity=4, place="", reminders="1d")
    for member in people.values():
        say(db, settings, member.phone, "YES 1", now=NOW)  # in English: every language reads YES
    say(db, settings, waiting.phone, "YES 1", now=NOW)
    say(db, settings, people["fr"].phone, "NO 1", now=NOW)
    say(db, settings, FAC, "MOVE 1 19/03 10:00", now=NOW)
    with session_scope(db) as s:
        run_reminders(s, settings, datetime(2026, 3, 18, 7, 30, tzinfo=UTC))
    texts = [m.text for m in outbox(db)]
    for member in people.values():
        texts += say(db, settings, member.phone, "EVENTS", now=NOW)
    assert len(texts) >= 12
    found = [t for t in texts if ", ." in t or "፣ ።" in t or " at ." in t or "à ." in t or " ." in t]
    assert not found, found
    assert outbox(db, people["en"].phone, kind="invitation")[0].text == \
        "Invitation: Vision workshop, Thu 12 Mar 14:00. Reply YES 1, NO 1 or MAYBE 1."
    assert any(t.startswith("A place opened: you are coming to Vision workshop, Thu 12 Mar 14:00. Send NO 1")
               for t in texts)
    assert any(t.startswith("Reminder: Vision workshop starts") and "When you arrive" in t for t in texts), texts
