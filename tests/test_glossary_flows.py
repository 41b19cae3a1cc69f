"""The glossary's guided conversations on the one flow runner, and what facilitators and members type read
by the shared parser: DEFSET and VOTE OPEN step by step or in one message, a ballot answered with a bare
digit, vote numbers, choices and weekdays in four languages, by SMS and Telegram; refusals change nothing.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import flow, i18n
from bot.engine import Inbound, receive
from bot.handlers.glossary import ERRORS, FLOWS, day_name
from bot.handlers.glossary.editing import weekday_number
from bot.handlers.glossary.votes import NO_QUORUM
from storage import glossary as store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.glossary import GlossaryBallot, GlossaryEntry, GlossaryHistory, GlossaryVote
from storage.members import Identity
from storage.messages import Conversation
from tests.conftest import next_sid, outbox, say

FAC, ASHA, BARAKA = "+255712000009", "+255712000001", "+255712000002"
STORAGE = store.__file__


def conversation(db, address: str) -> tuple[str, str] | None:
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.address == address)).first()
        conv = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).first() if identity else None
        return (conv.flow, conv.step) if conv else None


def ballots(db) -> list[GlossaryBallot]:
    with session_scope(db) as s:
        return list(s.exec(select(GlossaryBallot).order_by(GlossaryBallot.id)))


@pytest.fixture
def proposed(db, settings, cluster, add_member):
    """A facilitator and two members who proposed two words for "cluster initiative"."""
    add_member(FAC, admin_role="facilitator")
    add_member(ASHA, language="sw")
    add_member(BARAKA, language="fr")
    say(db, settings, ASHA, "PENDEKEZA cluster initiative = umoja")
    say(db, settings, BARAKA, "PROPOSER cluster initiative = mshikamano")


# --- the flows are data for the one runner --------------------------------------------------------

def test_defset_vote_open_and_the_ballot_are_flow_definitions():
    for name in ("glossary.edit", "glossary.vote_open", "glossary.vote"):
        assert isinstance(FLOWS[name], flow.Flow), name
    assert [s.key for s in FLOWS["glossary.edit"].steps] == ["term", "short", "new_short", "long", "confirm"]
    assert [s.key for s in FLOWS["glossary.vote_open"].steps] == ["term", "days"]


# --- DEFSET ---------------------------------------------------------------------------------------

def test_defset_step_by_step_with_back_skip_and_a_worded_choice(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    assert say(db, settings, FAC, "DEFSET") == ["Which term do you want to define? Send its name."]
    assert say(db, settings, FAC, "Mama lishe")[0].startswith("New term Mama lishe. Send its short definition")
    assert say(db, settings, FAC, "BACK") == ["Which term do you want to define? Send its name."]
    assert say(db, settings, FAC, "cluster")[0].startswith("Editing Cluster. Send its short definition")
    assert say(db, settings, FAC, "Firms of one place.")[0].startswith("Send a longer explanation")
    assert say(db, settings, FAC, "SKIP") == ["Save the definition of Cluster? Reply 1 to save, 2 to cancel."]
    assert say(db, settings, FAC, "blue") == ["Please reply 1 to save or 2 to cancel."]
    assert say(db, settings, FAC, "save")[0].startswith("Saved.")
    with session_scope(db) as s:
        entry = s.exec(select(GlossaryEntry).where(GlossaryEntry.cluster_id == cluster.id)).one()
        assert (entry.name, entry.short, entry.long) == ("Cluster", "Firms of one place.", "")
    assert conversation(db, FAC) is None


@pytest.mark.parametrize("lang, keyword, answer", [
    ("en", "DEFSET", "2"), ("sw", "WEKAMAANA", "usihifadhi"), ("fr", "DEFINIR", "ne pas enregistrer"),
    ("am", "ፍቺአስገባ", "2"),
])
def test_defset_in_every_language_and_nothing_saved_when_dropped(db, settings, cluster, add_member, lang, keyword,
                                                                  answer):
    add_member(FAC, admin_role="facilitator", language=lang)
    asked = say(db, settings, FAC, keyword)[0]
    assert asked == i18n.translate(lang, "Which term do you want to define? Send its name.")
    say(db, settings, FAC, "Mama lishe")
    say(db, settings, FAC, "Mpishi wa chakula.")
    assert "2" in say(db, settings, FAC, "0")[0]
    assert say(db, settings, FAC, answer) == [i18n.translate(lang, "Cancelled; nothing was changed.")]
    with session_scope(db) as s:
        assert s.exec(select(GlossaryHistory)).all() == []


def test_defset_with_a_bad_term_asks_again_and_a_short_definition_never_exceeds_storage(db, settings, cluster,
                                                                                       add_member):
    add_member(FAC, admin_role="facilitator", language="sw")
    assert say(db, settings, FAC, "DEFSET x") == ["Tafadhali tuma neno la herufi 2 hadi 60."]
    assert conversation(db, FAC) == ("glossary.edit", "term")
    asked = say(db, settings, FAC, "ab")[0]
    limit = int(re.search(r"\d+", asked.split("(")[1]).group())
    assert limit <= store.SHORT_LIMIT
    assert say(db, settings, FAC, "x" * (store.SHORT_LIMIT + 1))[0].startswith("Ni ndefu mno")
    assert conversation(db, FAC) == ("glossary.edit", "new_short")


def test_defset_confirm_offers_buttons_on_telegram(db, settings, cluster, add_member):
    member = add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="9009", member_id=member.id))

    def tg(text: str):
        return receive(db, settings, Inbound("telegram", "9009", text, next_sid("U"))).replies

    tg("DEFSET Mama lishe")
    tg("A woman who cooks and sells food.")
    confirm = tg("0")[0]
    assert confirm.text.startswith("Save the definition of Mama lishe?")
    assert json.loads(confirm.buttons) == [["Save", "1"], ["Do not save", "2"]]
    assert tg("1")[0].text.startswith("Saved.")


# --- VOTE OPEN ------------------------------------------------------------------------------------

def test_vote_open_step_by_step_then_the_facilitator_votes_with_a_digit(db, settings, proposed):
    assert say(db, settings, FAC, "VOTE OPEN") == ["Which term should members vote on? Send its name."]
    assert say(db, settings, FAC, "xylophone")[0].startswith("No words have been proposed for xylophone yet.")
    asked = say(db, settings, FAC, "cluster initiative")[0]
    assert asked == "How many days should the vote stay open? Send 1 to 60, or SKIP for the usual length (7)."
    assert say(db, settings, FAC, "90") == ["Please send a number of days from 1 to 60."]
    assert ballots(db) == []
    opened = say(db, settings, FAC, "3")[0]
    assert re.match(r"Vote \d+ on Cluster initiative is open until .*; sent to 3 members\.$", opened), opened
    (ballot,) = ballots(db)
    assert ballot.closes_at - ballot.opened_at == timedelta(days=3)
    assert conversation(db, FAC) == ("glossary.vote", "choice")  # the facilitator is a member too
    assert say(db, settings, FAC, "1")[0].startswith("Thank you! Your vote for umoja")


def test_vote_open_skip_takes_the_clusters_usual_length(db, settings, proposed):
    say(db, settings, FAC, "VOTE OPEN")
    say(db, settings, FAC, "cluster initiative")
    assert "is open until" in say(db, settings, FAC, "SKIP")[0]
    (ballot,) = ballots(db)
    assert ballot.closes_at - ballot.opened_at == timedelta(days=7)


@pytest.mark.parametrize("text, expected", [
    ("VOTE OPEN cluster initiative 90", "Please send a number of days from 1 to 60."),
    ("VOTE OPEN cluster initiative 0", "Please send a number of days from 1 to 60."),
    ("VOTE OPEN xylophone", "No words have been proposed for xylophone yet."),
    ("VOTE OPEN cluster", "No words have been proposed for Cluster yet."),
])
def test_vote_open_in_one_message_refused_records_nothing_and_opens_no_flow(db, settings, proposed, text,
                                                                               expected):
    assert say(db, settings, FAC, text)[0].startswith(expected)
    assert ballots(db) == [] and conversation(db, FAC) is None


@pytest.mark.parametrize("text, days", [("VOTE OPEN cluster initiative 3", 3), ("VOTE OPEN cluster initiative", 7),
                                        ("KURA FUNGUA cluster initiative #2", 2)])
def test_vote_open_in_one_message_answers_every_question(db, settings, proposed, text, days):
    assert "is open until" in say(db, settings, FAC, text)[0]
    (ballot,) = ballots(db)
    assert ballot.closes_at - ballot.opened_at == timedelta(days=days)
    assert "already open" in say(db, settings, FAC, "VOTE OPEN cluster initiative")[0]


def test_only_facilitators_open_votes_step_by_step_too(db, settings, proposed):
    assert say(db, settings, ASHA, "KURA FUNGUA") == [i18n.translate("sw", "Only a facilitator can do that.")]
    assert conversation(db, ASHA) is None


# --- the ballot: a bare digit, VOTE n d, ids through the shared parser ----------------------------

def _open(db, settings) -> int:
    say(db, settings, FAC, "VOTE OPEN cluster initiative")
    return ballots(db)[0].id


@pytest.mark.parametrize("answer", ["2", "2.", "#2", " 2 "])
def test_a_bare_digit_votes_as_members_write_it(db, settings, proposed, answer):
    _open(db, settings)
    assert say(db, settings, BARAKA, answer)[0].startswith("Merci ! Votre vote pour mshikamano")
    assert conversation(db, BARAKA) is None


def test_a_wrong_answer_to_the_ballot_is_refused_and_the_ballot_waits(db, settings, proposed):
    ballot = _open(db, settings)
    for text in ("٢", "blue", "BACK"):
        reply = say(db, settings, ASHA, text)[0]
        assert str(ballot) in reply, (text, reply)
        assert conversation(db, ASHA) == ("glossary.vote", "choice")
    assert say(db, settings, ASHA, "7") == [f"Kura {ballot} ina machaguo 1 hadi 2. Tuma tarakimu ya chaguo lako."]
    with session_scope(db) as s:
        assert s.exec(select(GlossaryVote)).all() == []
    assert say(db, settings, ASHA, "1")[0].startswith("Asante!")


@pytest.mark.parametrize("text", ["VOTE 99999999999999999999 1", "VOTE ² 1", "VOTE x 1", "VOTE 0", "VOTE 1 x",
                                  "VOTE CLOSE 99999999999999999999", "VOTE CLOSE ³"])
def test_vote_numbers_are_read_by_the_shared_parser(db, settings, proposed, text):
    _open(db, settings)
    (reply,) = say(db, settings, FAC, text)
    assert reply.startswith(("Send VOTE, the vote number", "Send VOTE CLOSE and the vote number")), reply
    with session_scope(db) as s:
        assert s.exec(select(GlossaryVote)).all() == [] and ballots(db)[0].status == "open"


def test_vote_by_number_with_a_hash_and_an_out_of_range_choice(db, settings, proposed):
    ballot = _open(db, settings)
    assert say(db, settings, BARAKA, f"VOTER #{ballot} 0")[0].startswith(f"Le vote {ballot} a les choix 1 à 2")
    assert say(db, settings, BARAKA, f"VOTER #{ballot} 2")[0].startswith("Merci")
    assert say(db, settings, FAC, f"VOTE CLOSE #{ballot}")[0].startswith(f"Vote {ballot} is closed. The result")


def test_a_picker_digit_goes_through_the_parser_and_other_digits_are_looked_up(db, settings, cluster, add_member):
    add_member(ASHA)
    assert say(db, settings, ASHA, "DEF plan")[0].startswith("Did you mean: 1 ")
    assert say(db, settings, ASHA, "0")[0].startswith("Please reply with a number from 1 to")
    assert say(db, settings, ASHA, "#2")[0].startswith("Business plan:")
    say(db, settings, ASHA, "DEF plan")
    assert "١" in say(db, settings, ASHA, "١")[0]  # another script's digit is no pick: it is looked up


# --- WEEKLY: weekday names of every language through the shared parser ----------------------------

@pytest.mark.parametrize("lang, text, day", [
    ("en", "WEEKLY wednesday", 2), ("en", "WEEKLY wed", 2), ("en", "WEEKLY 3", 2), ("sw", "NENOLAWIKI jumatano", 2),
    ("sw", "WIKI ijumaa", 4), ("fr", "HEBDO mercredi", 2), ("fr", "HEBDO Dimanche", 6), ("am", "ሳምንታዊ ረቡዕ", 2),
    ("am", "ሳምንታዊ እሁድ", 6),
])
def test_weekly_reads_day_names_in_every_language(db, settings, cluster, add_member, lang, text, day):
    add_member(FAC, admin_role="facilitator", language=lang)
    (reply,) = say(db, settings, FAC, text)
    with session_scope(db) as s:
        assert store.settings_for(s, cluster.id).weekly_day == day, reply
    assert day_name(day, lang) in reply


@pytest.mark.parametrize("text", ["WEEKLY 14/03", "WEEKLY 8", "WEEKLY 0", "WEEKLY march", "WEEKLY ²", "WEEKLY"])
def test_weekly_refuses_what_is_not_a_weekday(db, settings, cluster, add_member, text):
    add_member(FAC, admin_role="facilitator")
    assert say(db, settings, FAC, text) == ["Send WEEKLY and a day (for example WEEKLY monday), or WEEKLY off."]
    with session_scope(db) as s:
        assert store.settings_for(s, cluster.id).weekly_day is None


def test_weekday_number_is_the_parsers_reading():
    assert [weekday_number(w) for w in ("mon", "Jumatatu", "lundi", "ሰኞ", "1", "7", "thurs")] == [0, 0, 0, 0, 0, 6, 3]
    assert [weekday_number(w) for w in ("", "8", "12/12", "tomorrowish", "janvier")] == [None] * 5


# --- the error table ------------------------------------------------------------------------------

def test_every_code_the_proposal_and_vote_rules_raise_has_words():
    source = open(STORAGE, encoding="utf-8").read()
    rules = ("def clean_word", "def propose", "def open_ballot(", "def cast")
    codes = set()
    for rule in rules:
        body = source.split(rule, 1)[1].split("\ndef ", 1)[0]
        codes |= set(re.findall(r'GlossaryError\("(\w+)"', body))
    assert codes and codes <= set(ERRORS), codes - set(ERRORS)


# --- counted messages -----------------------------------------------------------------------------

def test_one_word_one_member_one_vote_read_in_the_singular(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    assert "(1 word so far)" in say(db, settings, FAC, "PROPOSE cluster initiative = umoja")[0]
    opened = say(db, settings, FAC, "VOTE OPEN cluster initiative")[0]
    assert opened.endswith("sent to 1 member.")
    say(db, settings, FAC, "1")
    with session_scope(db) as s:
        assert s.exec(select(GlossaryBallot)).one().status == "adopted"
    assert any(m.text.endswith("with 1 of 1 vote.") for m in outbox(db, FAC))


@pytest.mark.parametrize("lang, needed", [("en", "1 was needed"), ("sw", "ilihitajika 1"),
                                          ("fr", "il fallait 1 vote"), ("am", "1 ያስፈልግ ነበር")])
def test_no_quorum_counts_votes_and_the_votes_needed_each_in_its_form(db, settings, cluster, add_member, lang,
                                                                       needed):
    add_member(FAC, admin_role="facilitator", language=lang)
    add_member(ASHA)
    with session_scope(db) as s:
        rule = store.settings_for(s, cluster.id)
        rule.min_votes = 1
        s.add(rule)
    say(db, settings, ASHA, "PROPOSE cluster initiative = umoja")
    say(db, settings, FAC, "VOTE OPEN cluster initiative")
    ballot = ballots(db)[0].id
    say(db, settings, FAC, f"VOTE CLOSE {ballot}")
    (told,) = [m.text for m in outbox(db, FAC) if needed in m.text]
    assert i18n.translate(lang, NO_QUORUM, id=ballot, term="x", count=0, needed=needed).split("x")[0] in told


def test_the_vote_flow_is_not_offered_over_another_conversation(db, settings, proposed):
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.address == ASHA)).one()
        s.add(Conversation(identity_id=identity.id, flow="glossary.edit", step="long", data="{}",
                           updated_at=utcnow()))
    _open(db, settings)
    assert conversation(db, ASHA) == ("glossary.edit", "long")


def test_a_second_proposal_for_a_new_term_joins_the_first(db, settings, cluster, add_member):
    add_member(ASHA)
    add_member(BARAKA)
    facilitator = add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:  # a term only this cluster has: a facilitator added it
        store.define(s, s.get(Cluster, cluster.id), facilitator, None, "Mama lishe", "sw", "Mpishi wa mtaani.", "",
                     utcnow())
    assert "(1 word so far)" in say(db, settings, ASHA, "PROPOSE Mama lishe = mpishi")[0]
    assert "(2 words so far)" in say(db, settings, BARAKA, "PROPOSE mama lishe = mama ntilie")[0]
    with session_scope(db) as s:
        assert len(s.exec(select(store.GlossaryTerm).where(store.GlossaryTerm.cluster_id == cluster.id)).all()) == 1


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang, keyword", [("en", "VOTE"), ("sw", "KURA"), ("fr", "VOTER"), ("am", "ድምጽ")])
@pytest.mark.parametrize("role", ["member", "facilitator"])
def test_vote_numbers_read_alike_in_every_language_channel_and_role(db, settings, cluster, add_member, channel,
                                                                     lang, keyword, role):
    member = add_member(ASHA, language=lang, admin_role=role)
    add_member(FAC, admin_role="facilitator")
    address = ASHA
    if channel == "telegram":
        address = "7007"
        with session_scope(db) as s:
            s.add(Identity(channel="telegram", address=address, member_id=member.id))
    say(db, settings, FAC, "PROPOSE cluster initiative = umoja")
    say(db, settings, FAC, "PROPOSE cluster initiative = mshikamano")
    say(db, settings, FAC, "VOTE OPEN cluster initiative")
    ballot = ballots(db)[0].id
    usage = i18n.translate(lang, "Send VOTE, the vote number and your digit, for example: VOTE 3 1")
    for text in (f"{keyword} 99999999999 1", f"{keyword} ³ 1", f"{keyword} 1,5 1"):
        assert say(db, settings, address, text, channel=channel) == [usage], text
    counted = i18n.translate(lang, "Thank you! Your vote for {word} is counted. Send VOTE {id} and another digit to "
                                   "change it.", word="mshikamano", id=ballot)
    assert say(db, settings, address, f"{keyword} #{ballot} 2", channel=channel) == [counted]
    with session_scope(db) as s:
        assert [v.choice for v in s.exec(select(GlossaryVote).where(GlossaryVote.member_id == member.id))] == [2]


def test_a_ballot_button_on_telegram_votes_like_a_digit(db, settings, cluster, add_member):
    member = add_member(ASHA, language="am")
    add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address="7007", member_id=member.id))
    say(db, settings, ASHA, "PROPOSE cluster initiative = umoja")
    say(db, settings, FAC, "PROPOSE cluster initiative = mshikamano")
    say(db, settings, FAC, "VOTE OPEN cluster initiative")
    ballot = ballots(db)[0].id
    shown = receive(db, settings, Inbound("telegram", "7007", f"ድምጽ {ballot}", next_sid("U"))).replies[0]
    assert json.loads(shown.buttons) == [["umoja", "1"], ["mshikamano", "2"]]
    assert say(db, settings, "7007", "1", channel="telegram")[0].startswith("እናመሰግናለን")
