"""Whole conversations over signed SMS in each language, and bad input answered in the sender's language."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, table
from sqlmodel import select as sm_select

from bot import i18n, router, sms
from bot.handlers.registration import QUESTIONS
from storage.db import session_scope
from storage.members import Member
from storage.messages import Conversation
from tests.conftest import outbox

FACILITATOR = "+255712000009"
NEWCOMER = "+255712000001"

# (keyword that starts it, answers to the seven questions; the last picks this same language)
CONVERSATIONS = {
    "en": ("join", ["Asha Juma", "Asha Designs", "tailoring", "Moshi", "woman", "1", "1"]),
    "sw": ("JIUNGE", ["Asha Juma", "Asha Mitindo", "ushonaji", "Moshi", "mwanamke", "1", "2"]),
    "fr": ("ADHERER", ["Awa Diop", "Awa Couture", "couture", "Thiès", "Femme", "1", "3"]),
    "am": ("ተቀላቀል", ["አበበ በቀለ", "አበበ ቡና", "ቡና", "ጅማ", "ወንድ", "1", "4"]),
}


def expected(lang: str, msgid: str, **kwargs) -> str:
    """A message as the phone receives it: translated, then spelt for SMS."""
    return sms.outgoing(i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **kwargs))


def fits(lang: str, text: str) -> bool:
    enc = sms.encode(text)
    return enc.segments == 1 if lang != "am" else enc.encoding == "UCS-2" and enc.units <= 134


@pytest.mark.parametrize("lang", CONVERSATIONS)
def test_whole_join_conversation_in_each_language(lang, phone, cluster, add_member, db):
    add_member(FACILITATOR, admin_role="facilitator", language=lang)
    keyword, answers = CONVERSATIONS[lang]
    p = phone(NEWCOMER)
    assert p.last(keyword) == expected(lang, "Welcome to {cluster}! We will ask 7 short questions. "
                                             "What is your full name?", cluster="Moshi Tailors")
    for answer, step in zip(answers[:-1], list(QUESTIONS)[1:], strict=True):
        reply = p.last(answer)
        assert reply == expected(lang, QUESTIONS[step]), (answer, reply)
        assert fits(lang, reply)
    done = p.last(answers[-1])
    assert done == expected(lang, "Thank you, {name}! Your number is {number}. A facilitator will approve you "
                                  "soon.", name=answers[0], number="MOSHI-002")
    with session_scope(db) as s:
        member = s.exec(sm_select(Member).where(Member.phone == NEWCOMER)).one()
        assert (member.name, member.sector, member.language, member.status) == \
            (answers[0], answers[2], lang, "pending")
    assert outbox(db, FACILITATOR)[-1].text == expected(
        lang, "New member {number}: {name}, {business}, {location}. Send APPROVE {number} or REJECT {number}.",
        number="MOSHI-002", name=answers[0], business=answers[1], location=answers[3])
    approve = f"{router.keyword('APPROVE', lang).lower()} MOSHI-002"
    assert phone(FACILITATOR).last(approve) == expected(lang, "{number} {name} is now an active member.",
                                                        number="MOSHI-002", name=answers[0])
    assert outbox(db, NEWCOMER)[-1].text == expected(
        lang, "Welcome to {cluster}! You are now a member, number {number}. Send HELP to see what you can do.",
        cluster="Moshi Tailors", number="MOSHI-002")


def test_latin_amharic_keyword_gets_amharic(phone, cluster):
    assert phone(NEWCOMER).last("tekelakel") == expected(
        "am", "Welcome to {cluster}! We will ask 7 short questions. What is your full name?",
        cluster="Moshi Tailors")


def test_answers_in_another_language_are_understood(phone, cluster, db):
    """A Swahili speaker may still answer 'Femme' or '2': the choice, not the wording, is what counts."""
    p = phone(NEWCOMER)
    p.last("jiunge")
    for answer in ["Asha Juma", "Asha Mitindo", "ushonaji", "Moshi", "Woman", "serikali"]:
        p.last(answer)
    p.last("kiswahili")
    with session_scope(db) as s:
        member = s.exec(sm_select(Member)).one()
        assert (member.gender, member.role, member.language) == ("female", "government", "sw")


def row_counts(db) -> dict[str, int]:
    with session_scope(db) as s:
        names = inspect(s.get_bind()).get_table_names()
        return {name: s.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names}


LANG_WORD = {"en": "LANG en", "sw": "LUGHA sw", "fr": "LANGUE fr", "am": "ቋንቋ am"}
WELCOME = "Welcome! To register with your cluster send JOIN, or HELP for more."
BAD_INPUT = [
    ("", "Your message was empty. Send HELP to see what you can send."),
    ("x" * 10_240, WELCOME),
    ("😀🙏🎉", WELCOME),
    ("blorp", WELCOME),
    ("PROFILE", "You are not registered. Send JOIN to register with your cluster."),
]


@pytest.mark.parametrize("lang", CONVERSATIONS)
def test_bad_input_from_a_stranger_gets_one_short_reply_in_their_language(lang, phone, cluster, db):
    p = phone(NEWCOMER)
    assert p.last(LANG_WORD[lang]) == expected(lang, "Your language is now {language}.",
                                               language=i18n.LANGUAGE_NAMES[lang])
    for text, msgid in BAD_INPUT:
        if text == "PROFILE":
            text = router.keyword("PROFILE", lang).lower()
        before = row_counts(db)
        replies = p.send(text)
        assert replies == [expected(lang, msgid)], (text[:20], replies)
        assert fits(lang, replies[0])
        after = row_counts(db)
        changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
        assert changed == {"inbound_messages": 1, "outbound_messages": 1}, (text[:20], changed)


def test_stranger_whose_language_is_unknown_gets_the_default(phone, cluster):
    assert phone(NEWCOMER).last("habari") == expected("en", WELCOME)


@pytest.mark.parametrize("lang", CONVERSATIONS)
def test_bad_answer_mid_registration_is_one_reply_and_changes_nothing(lang, phone, cluster, db):
    keyword, answers = CONVERSATIONS[lang]
    p = phone(NEWCOMER)
    p.last(keyword)
    p.last(answers[0])
    before = row_counts(db)
    assert p.last("🙏🙏") == expected(lang, "Please answer in 2 to {limit} letters.", limit=80)
    assert row_counts(db)["members"] == before["members"] == 0
    with session_scope(db) as s:
        assert s.exec(sm_select(Conversation)).one().step == "business"
