"""A member reference is everything after the command word (or before the rest the command needs), read by
bot.parse.member_ref: `APPROVE 0712 000 006` names the member with that phone, never "No member 0712".
Checked for every command that takes a member, in every language, and for the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import i18n, router
from storage.db import session_scope
from storage.members import Member
from tests.conftest import say
from tests.test_events import make_event
from tests.test_purchases import DEADLINE, FACILITATOR, TREASURER, closed_purchase, members_phone

LANGS = ("en", "sw", "fr", "am")
TARGET = members_phone(1)  # +255712001001
SPELLINGS = ["0712 001 001", "+255 712 001 001", "(0712) 001-001", "0712-001-001"]


@pytest.fixture
def people(add_member):
    """The purchases tests' cluster: both officers and 40 members (members_phone(1) is the one named)."""
    add_member(FACILITATOR, admin_role="facilitator", name="Neema Facilitator")
    add_member(TREASURER, admin_role="treasurer", name="Tumaini Treasurer")
    return [add_member(members_phone(i), name=f"Farmer {i}") for i in range(1, 41)]


NOT_FOUND = ("No member {ref} in your cluster.", "No member {ref} in this cluster.")


def _refused(lang: str, reply: str) -> bool:
    return any(reply.startswith(i18n.translate(lang, msgid, ref="\0").split("\0")[0]) for msgid in NOT_FOUND)


def _officers_speak(db, lang: str) -> None:
    with session_scope(db) as s:
        for m in s.exec(select(Member).where(Member.phone.in_([FACILITATOR, TREASURER]))):
            m.language = lang
            s.add(m)


def _number(db, phone: str) -> str:
    with session_scope(db) as s:
        return s.exec(select(Member).where(Member.phone == phone)).one().number


@pytest.mark.parametrize("lang", LANGS)
def test_every_member_command_reads_the_whole_reference(db, settings, people, cluster, add_member, lang):
    pid = closed_purchase(db, settings)
    event = make_event(db, cluster)
    pending = add_member("+255712002002", status="pending", name="Pending One")
    add_member("+255712002003", status="pending", name="Pending Two")
    _officers_speak(db, lang)
    number = _number(db, TARGET)
    after = DEADLINE + timedelta(days=1)

    def kw(name: str) -> str:
        return router.keyword(name, lang)

    sent = [
        (FACILITATOR, f"{kw('APPROVE')} 0712 002 002", pending.number),
        (FACILITATOR, f"{kw('REJECT')} +255 712 002 003", "-"),
        (TREASURER, f"{kw('DEP')} 0712 001 001 5000", number),
        (TREASURER, f"{kw('WITHDRAW')} (0712) 001-001 1000", number),
        (FACILITATOR, f"{kw('RECEIVED')} {pid} 0712 001 001 90000 CASH1", ""),
        (FACILITATOR, f"{kw('COLLECTED')} {pid} +255 712 001 001", ""),
        (FACILITATOR, f"{kw('PURCHASE')} {pid} 0712-001-001", number),
        (FACILITATOR, f"{kw('ATTEND')} {event.id} 0712 001 001", ""),
        (FACILITATOR, f"{kw('VISIT')} 0712 001 001 talked about loans", number),
    ]
    for sender, text, shown in sent:
        [reply] = say(db, settings, sender, text, now=after)
        assert not _refused(lang, reply), (text, reply)
        assert shown in reply or shown in ("", "-"), (text, reply)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_cli_reads_the_whole_reference(db, settings, people, cli_run, spelling):
    number = _number(db, TARGET)
    code, out, err = cli_run("member", "export", *spelling.split())
    assert code == 0, err
    assert json.loads(out)["members"][0]["number"] == number
    code, out, err = cli_run("savings", "committee", "add", *spelling.split())
    assert code == 0 and number in out, err
    code, out, err = cli_run("facilitator", "add", *spelling.replace("001", "003").split())
    assert code == 0 and "+255712003003 is now facilitator" in out, err


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_reference_that_names_nobody_is_refused_whole(db, settings, people, cli_run, spelling):
    missing = spelling.replace("001", "009", 1)
    code, _out, err = cli_run("member", "export", *missing.split())
    assert code == 2 and f"no member {missing}" in err
    [reply] = say(db, settings, FACILITATOR, f"APPROVE {missing}")
    assert reply == f"No member {missing} in your cluster."
