"""Words that several domains care about, sent while another domain's conversation is open, and HELP with
every domain registered: each message reaches the command the member meant."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import i18n, router, sms
from bot.handlers import polls as poll_handler
from bot.scheduler import run_due
from storage import events
from storage import polls as poll_store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.members import Member
from storage.messages import Conversation
from storage.polls import PollResponse, Schedule
from tests.conftest import outbox, say

PHONE, FAC, TREASURER = "+255712000001", "+255712000009", "+255712000008"
QUICK = {"title": "Quick check", "questions": [
    {"key": "useful", "kind": "yesno", "text": "Was the workshop useful?"},
    {"key": "overall", "kind": "rating", "text": "How satisfied are you with the cluster?"}]}


def open_poll(db, settings, cluster, spec=QUICK) -> None:
    """A poll whose first question the scheduler has just sent, so the member's poll flow is open."""
    start = utcnow() - timedelta(minutes=5)
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        poll = poll_handler.create_checked(s, c, spec, "test")
        local = start.astimezone(ZoneInfo(c.timezone)).replace(tzinfo=None)
        poll_store.schedule_poll(s, poll, c, Schedule(local, 0, 3, 7, 0, 1), start - timedelta(hours=1))
    run_due(db, settings, start + timedelta(minutes=1))


def invite(db, cluster, *, days: int = 5) -> int:
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        now = utcnow()
        event = events.create_event(s, c, title="Pricing workshop", starts_at=now + timedelta(days=days), now=now,
                                    place="Moshi hall")
        events.publish(s, event.id, c, now)
        return event.id


def invitation_state(db, event_id: int, phone: str = PHONE) -> str:
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.phone == phone)).one()
        return events.invitation_of(s, event_id, member.id).state


def answers(db) -> list[tuple[str, int | None, str]]:
    with session_scope(db) as s:
        rows = s.exec(select(PollResponse.value, PollResponse.text, poll_store.PollQuestion.key)
                      .join(poll_store.PollQuestion, poll_store.PollQuestion.id == PollResponse.question_id)
                      .order_by(PollResponse.id)).all()
        return [(key, value, text) for value, text, key in rows]


def flow(db) -> str | None:
    with session_scope(db) as s:
        conv = s.exec(select(Conversation)).first()
        return conv.flow if conv else None


# --- an open poll and the events domain's YES/NO -----------------------------------------------------

def test_yes_with_an_event_number_answers_the_invitation_while_a_yes_no_question_waits(db, settings, cluster,
                                                                                      add_member, phone):
    add_member(PHONE)
    event_id = invite(db, cluster)
    open_poll(db, settings, cluster)
    p = phone(PHONE)
    assert p.last(f"yes {event_id}").startswith("You are coming to Pricing workshop")
    assert invitation_state(db, event_id) == "yes" and answers(db) == [] and flow(db) == "polls"
    assert p.last("yes").startswith("2/2 How satisfied")  # the bare word answers the poll
    assert answers(db) == [("useful", 1, "")]
    assert p.last(f"NO {event_id}").startswith("Noted: you will not come")
    assert p.last("4").startswith("Thank you! Your answers to Quick check")
    assert answers(db) == [("useful", 1, ""), ("overall", 4, "")] and invitation_state(db, event_id) == "no"


def test_bare_yes_goes_to_the_poll_not_the_single_open_invitation(db, settings, cluster, add_member, phone):
    """YES alone would RSVP to a member's only invitation; with a yes/no question open it answers the poll."""
    add_member(PHONE)
    event_id = invite(db, cluster)
    open_poll(db, settings, cluster)
    phone(PHONE).last("Yes")
    assert answers(db) == [("useful", 1, "")] and invitation_state(db, event_id) == "invited"


# --- digits: glossary suggestions, glossary votes and poll scales ------------------------------------

def test_a_digit_picks_the_glossary_suggestion_and_the_poll_waits_for_poll(db, settings, cluster, add_member,
                                                                          phone):
    add_member(PHONE)
    p = phone(PHONE)
    assert p.last("DEF plan").startswith("Did you mean: 1 Communication plan")
    open_poll(db, settings, cluster)  # the member is picking a term: the poll sends a note, not a question
    assert "Reply POLL when you are ready" in outbox(db, PHONE, kind="poll")[-1].text
    assert p.last("2").startswith("Business plan:")
    assert answers(db) == []
    assert p.last("POLL").startswith("1/2 Was the workshop useful?")
    assert p.last("2").startswith("2/2")
    assert answers(db) == [("useful", 2, "")]


def test_def_during_a_poll_answers_without_stealing_the_next_digit(db, settings, cluster, add_member, phone):
    add_member(PHONE)
    open_poll(db, settings, cluster)
    p = phone(PHONE)
    reply = p.last("DEF plan")
    assert reply.startswith("Did you mean:") and "Send DEF and the word" in reply and flow(db) == "polls"
    p.last("1")
    assert answers(db) == [("useful", 1, "")]


def test_glossary_vote_digit_while_a_poll_is_open_goes_to_the_poll_and_vote_n_to_the_ballot(
        db, settings, cluster, add_member, phone):
    for n in range(2, 5):
        add_member(f"+25571200000{n}")
    add_member(PHONE)
    add_member(FAC, admin_role="facilitator")
    for n, word in ((2, "umoja"), (3, "mshikamano")):
        say(db, settings, f"+25571200000{n}", f"PROPOSE cluster initiative = {word}")
    open_poll(db, settings, cluster)
    assert "Vote 1" in say(db, settings, FAC, "VOTE OPEN cluster initiative")[0]
    p = phone(PHONE)
    assert flow(db) == "polls"
    p.last("1")
    assert answers(db) == [("useful", 1, "")]
    assert "counted" in p.last("VOTE 1 2")
    assert p.last("5").startswith("Thank you!")


# --- registration and opt-out words ------------------------------------------------------------------

def test_bal_in_the_middle_of_registration(db, settings, cluster, phone):
    p = phone(PHONE)
    p.last("JOIN")
    assert p.last("BAL") == "Please finish registering first. What is your full name?"
    for answer in ("Asha Juma", "Asha Designs", "tailoring", "Moshi"):
        p.last(answer)
    assert "JOIN" in p.last("BAL")  # a question with numbered choices: BAL runs, and is refused
    assert p.last("JOIN") == "Are you: 1 Woman, 2 Man, 3 Other?"  # JOIN resumes, it does not start over
    for answer in ("1", "1"):
        p.last(answer)
    assert p.last("1").startswith("Thank you, Asha Juma!")
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.phone == PHONE)).one()
        assert (member.name, member.business, member.sector, member.location) == (
            "Asha Juma", "Asha Designs", "tailoring", "Moshi")


def test_cancel_is_stop_even_in_a_broadcast_confirmation(db, settings, cluster, add_member, phone):
    """CANCEL is a carrier opt-out word: the carrier blocks the number whatever the bot does, so it wins."""
    add_member(FAC, admin_role="facilitator")
    add_member(PHONE)
    p = phone(FAC)
    p.last("BCAST")
    p.last("all")
    assert "Reply 1 to send" in p.last("Workshop on Friday at 10")
    assert p.last("cancel").startswith("You will get no more broadcasts")
    assert flow(db) is None and outbox(db, PHONE, kind="broadcast") == []


def test_skip_and_stop_during_a_poll(db, settings, cluster, add_member, phone):
    add_member(PHONE)
    open_poll(db, settings, cluster, {**QUICK, "questions": [{**QUICK["questions"][0], "optional": True},
                                                             QUICK["questions"][1]]})
    p = phone(PHONE)
    assert p.last("SKIP").startswith("2/2")
    assert p.last("STOP").startswith("You will get no more")
    assert flow(db) is None


# --- HELP ----------------------------------------------------------------------------------------------

ROLES = {"stranger": None, "pending": dict(status="pending"), "member": {},
         "facilitator": dict(admin_role="facilitator"), "treasurer": dict(admin_role="treasurer")}
FIRST = {"stranger": ["JOIN", "DEF"], "pending": ["DEF"],
         "member": ["DEF", "EVENTS", "YES", "BUY", "SAVE", "BAL", "STMT", "LOAN"],
         "facilitator": ["APPROVE", "BCAST", "KPI", "VISIT", "NEWEVENT"],
         "treasurer": ["CONFIRM", "DECLINE", "DEP", "SACCOS"]}


def help_words(db, settings, lang: str, topic: str = "") -> list[str]:
    text = say(db, settings, "+255712000077", f"{router.keyword('HELP', lang).lower()} {topic}".strip())[0]
    prefix = sms.outgoing(i18n.translate(lang, "You can send: {commands}", commands=""))
    assert text.startswith(prefix) and sms.fits(text), text
    return text[len(prefix):].split(", ")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_help_lists_what_each_role_needs_most_first(db, settings, cluster, add_member, lang, role):
    if ROLES[role] is not None:
        add_member("+255712000077", language=lang, **ROLES[role])
    shown = help_words(db, settings, lang)
    expected = [sms.outgoing(router.keyword(name, lang)) for name in FIRST[role]]
    assert shown[:len(expected)] == expected, shown
    assert sms.outgoing(router.keyword("HELP", lang)) not in shown  # they have just sent it


def test_a_member_sees_every_member_command_and_rarer_ones_last(db, settings, cluster, add_member):
    add_member("+255712000077")
    shown = help_words(db, settings, "en")
    assert shown == ["DEF", "EVENTS", "YES", "BUY", "SAVE", "BAL", "STMT", "LOAN", "REPAY", "PAID", "POLL", "HERE",
                     "PROPOSE", "VOTE", "PROFILE", "LANG"]


def test_when_not_all_fit_the_next_page_follows_on_more_and_a_topic_lists_its_domain(db, settings, cluster,
                                                                                 add_member):
    add_member("+255712000077", admin_role="treasurer")
    shown = help_words(db, settings, "en")
    assert shown[-1].endswith(" (MORE)")  # not "..., BAL, HELP LOAN": the next page follows on MORE
    rest = say(db, settings, "+255712000077", "MORE")[0]
    assert rest.startswith("You can send: ") and not set(rest[14:].split(", ")) & set(shown)
    savings = help_words(db, settings, "en", "SAVE")
    assert {"SAVE", "BAL", "LOAN", "CONFIRM", "DEP", "SACCOS", "REVERSE", "PAYOUT"} <= set(savings)


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_help_topics_in_each_language(db, settings, cluster, add_member, lang):
    add_member("+255712000077", language=lang, admin_role="facilitator")
    buy = help_words(db, settings, lang, router.keyword("BUY", lang))
    assert sms.outgoing(router.keyword("CANCELBUY", lang)) in buy
    admin = help_words(db, settings, lang, "admin")
    assert admin[:3] == [sms.outgoing(router.keyword(n, lang)) for n in ("APPROVE", "BCAST", "KPI")]


def test_help_topics_never_show_what_the_person_may_not_use(db, settings, cluster, add_member):
    add_member("+255712000077")
    assert help_words(db, settings, "en", "SAVE") == ["SAVE", "BAL", "STMT", "LOAN", "REPAY",
                                                                 "LOANYES", "LOANNO"]
    assert help_words(db, settings, "en", "admin")[0] == "DEF"  # no admin command: plain HELP
    assert help_words(db, settings, "en", "whatever")[0] == "DEF"
