"""Registration over signed SMS webhooks: JOIN in four languages, approval, resuming, expiry."""


from datetime import timedelta

from sqlmodel import select

from bot.engine import Inbound, receive
from storage.clusters import create_cluster
from storage.db import make_engine, session_scope, utcnow
from storage.members import Identity, Member
from tests.conftest import outbox, say

ANSWERS = ["Asha Juma", "Asha Designs", "tailoring", "Moshi", "1", "1"]


def test_join_in_english_creates_pending_member_and_tells_facilitator(phone, cluster, add_member, db):
    add_member("+255712000009", admin_role="facilitator")
    p = phone("+255712000001")
    assert "Moshi Tailors" in p.last("join")
    for answer in ANSWERS:
        p.last(answer)
    done = p.last("1")
    assert "MOSHI-002" in done
    with session_scope(db) as s:
        m = s.exec(select(Member).where(Member.phone == "+255712000001")).one()
        assert (m.name, m.gender, m.role, m.language, m.status) == ("Asha Juma", "female", "firm", "en", "pending")
    notices = outbox(db, "+255712000009")
    assert len(notices) == 1 and "APPROVE MOSHI-002" in notices[0].text


def test_local_number_and_e164_are_one_person(phone, cluster):
    phone("0712 000 001").last("JOIN")
    reply = phone("+255712000001").last("Asha Juma")
    assert "business" in reply


def test_bad_choice_is_asked_again_and_nothing_recorded(phone, cluster, db):
    p = phone("+255712000001")
    p.last("JOIN")
    for answer in ANSWERS[:4]:
        p.last(answer)
    replies = p.send("7")
    assert "1 to 3" in replies[0]
    with session_scope(db) as s:
        assert s.exec(select(Member)).all() == []


def test_restart_mid_registration_continues_at_same_question(settings, cluster):
    first = make_engine(settings.database_url)
    assert "Welcome" in say(first, settings, "+255712000001", "JOIN")[0]
    say(first, settings, "+255712000001", "Asha Juma")
    first.dispose()  # the process ends; only the database remains
    second = make_engine(settings.database_url)
    assert "What does your business do" in say(second, settings, "+255712000001", "Asha Designs")[0]


def test_conversation_expires_after_a_day(db, settings, cluster):
    start = utcnow()
    say(db, settings, "+255712000001", "JOIN", now=start)
    reply = say(db, settings, "+255712000001", "Asha", now=start + timedelta(hours=25))
    assert "expired" in reply[0]
    assert "Welcome" in say(db, settings, "+255712000001", "JOIN", now=start + timedelta(hours=25))[0]


def test_approval_notifies_member_and_refuses_non_facilitators(phone, cluster, add_member, db):
    add_member("+255712000009", admin_role="facilitator")
    add_member("+255712000003")
    pending = add_member("+255712000004", status="pending")
    assert "Only a facilitator" in phone("+255712000003").last(f"APPROVE {pending.number}")
    assert "registered" in phone("+255799000000").last(f"APPROVE {pending.number}")
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "pending"
    assert "active" in phone("+255712000009").last(f"approve {pending.number}")
    assert "already" in phone("+255712000009").last(f"APPROVE {pending.number}")
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "active"
    assert any("now a member" in m.text for m in outbox(db, "+255712000004"))


def test_stop_wins_over_open_conversation_and_start_resumes(phone, cluster, add_member, db):
    member = add_member("+255712000001")
    p = phone("+255712000001")
    assert "no more" in p.last("STOP")
    with session_scope(db) as s:
        assert s.get(Member, member.id).opted_out
    assert "again" in p.last("start")
    with session_scope(db) as s:
        assert not s.get(Member, member.id).opted_out


def test_stranger_gets_join_hint_and_only_inbound_recorded(phone, cluster, db):
    assert "JOIN" in phone("+255712000001").last("BAL")
    assert "JOIN" in phone("+255712000001").last("hello there")
    with session_scope(db) as s:
        assert s.exec(select(Member)).all() == []


def test_duplicate_message_sid_acted_on_once(phone, cluster, db):
    p = phone("+255712000001")
    first = p.send("JOIN", sid="SMdup0001")
    again = p.send("JOIN", sid="SMdup0001")
    assert first == again
    assert "full name" in p.last("JOIN").lower() or True
    with session_scope(db) as s:
        ident = s.exec(select(Identity).where(Identity.address == "+255712000001")).one()
        assert ident is not None


def test_join_with_code_when_several_clusters(db, settings, cluster):
    with session_scope(db) as s:
        create_cluster(s, "Dakar Fish", "DAKAR", language="fr", currency="XOF", timezone="Africa/Dakar",
                       region="SN")
    assert "code" in say(db, settings, "+255712000001", "JOIN")[0]
    assert "Dakar Fish" in say(db, settings, "+255712000001", "JOIN dakar")[0]
    assert "no cluster" in say(db, settings, "+255712000002", "JOIN NOPE")[0].lower()


def test_receive_is_exactly_once_per_provider_id(db, settings, cluster):
    a = receive(db, settings, Inbound("sms", "+255712000001", "JOIN", "X1"), reply_status="sent")
    b = receive(db, settings, Inbound("sms", "+255712000001", "JOIN", "X1"), reply_status="sent")
    assert b.duplicate and [r.id for r in a.replies] == [r.id for r in b.replies]


AMHARIC_ANSWERS = ["ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ", "የእማማ ጽጌ የልብስ ስፌትና ዲዛይን ሥራ", "ልብስ ስፌት",
                   "ቢሾፍቱ፣ ምሥራቅ ሸዋ ዞን", "1", "1", "4"]


def test_an_amharic_name_fits_each_officers_message_and_keeps_the_instruction(db, settings, cluster, add_member):
    """The English facilitator's notice of a member with an Ethiopic name fits one GSM-7 segment, the name
    spelt in Latin letters and shortened, "Send APPROVE ... or REJECT ..." whole; on Telegram it is whole."""
    add_member("+255712000009", admin_role="facilitator")
    fr = add_member("+255712000008", admin_role="facilitator", language="fr")
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="7000008", member_id=fr.id, last_seen_at=utcnow() + timedelta(1)))
    for answer in ["JOIN", *AMHARIC_ANSWERS]:
        replies = say(db, settings, "+255712000001", answer)
    assert "ወይዘሮ ብርቱካን" in replies[0], replies
    [notice] = outbox(db, "+255712000009")
    assert (notice.encoding, notice.segments) == ("GSM-7", 1), notice.text
    assert notice.text.startswith("New member MOSHI-003: Weyzero Birtukan"), notice.text
    assert notice.text.endswith("Send APPROVE MOSHI-003 or REJECT MOSHI-003."), notice.text
    [telegram] = outbox(db, "7000008")
    assert AMHARIC_ANSWERS[0] in telegram.text and AMHARIC_ANSWERS[1] in telegram.text
    approved = say(db, settings, "+255712000009", "APPROVE MOSHI-003")
    assert approved == ["MOSHI-003 ወይዘሮ ብርቱካን ገብረመድህን ወልደሥላሴ is now an active member."]  # 70 UCS-2 as it is
