"""VISIT names its member through the shared member parser: a phone written in groups, a code with a dash
or a space, a member number, in every language's keyword and on SMS and Telegram; the rest is the note.
A reference that names nobody is refused with one reply and nothing is saved."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot import i18n, parse, router
from bot import outbox as out
from bot.i18n import NP_
from bot.parse import ParseError
from storage.db import session_scope
from storage.members import Identity
from storage.visits import Visit
from tests.conftest import say

FAC = "+255712000099"
LANGS = ("en", "sw", "fr", "am")
NOTE = "talked about loans"
REACHED = NP_("Contact with {number} {name} saved. In 12 months you reached {reached} of {count} member ({percent}).",
              "Contact with {number} {name} saved. In 12 months you reached {reached} of {count} members "
              "({percent}).")


def visits(db) -> list[Visit]:
    with session_scope(db) as s:
        return list(s.exec(select(Visit).order_by(Visit.id)))


@pytest.fixture
def asha(db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    return add_member("+255712000006", name="Asha")  # MOSHI-002


@pytest.mark.parametrize("ref", ["0712 000 006", "+255 712 000 006", "0712-000-006", "(0712) 000.006",
                                 "255712000006", "MOSHI-002", "moshi 002", "2", "#2"])
def test_every_way_of_naming_the_member_leaves_the_note_whole(db, settings, cluster, asha, ref):
    reply = say(db, settings, FAC, f"VISIT {ref} {NOTE}")
    assert reply[0].startswith(f"Contact with {asha.number} Asha saved."), reply
    assert [(v.member_id, v.note) for v in visits(db)] == [(asha.id, NOTE)]


@pytest.mark.parametrize("lang", LANGS)
def test_each_languages_keyword_reads_a_phone_in_groups(db, settings, cluster, add_member, lang):
    add_member("+255712000098", admin_role="facilitator", language=lang)
    asha = add_member("+255712000006", name="Asha")
    reply = say(db, settings, "+255712000098", f"{router.keyword('VISIT', lang)} 0712 000 006 {NOTE}")
    (visit,) = visits(db)
    assert (visit.member_id, visit.note) == (asha.id, NOTE)
    expected = i18n.translate(lang, REACHED, number=asha.number, name="Asha", reached=1, count=1, percent="")
    assert len(reply) == 1 and reply[0].startswith(out.render_for_channel("sms", expected)[0].split("(")[0])


def test_on_telegram_too(db, settings, cluster, asha):
    with session_scope(db) as s:
        fac = s.exec(select(Identity).where(Identity.address == FAC)).one()
        s.add(Identity(channel="telegram", address="700099", member_id=fac.member_id))
    reply = say(db, settings, "700099", f"CALL +255 712 000 006 {NOTE}", channel="telegram")
    assert reply[0] == i18n.translate("en", REACHED, number=asha.number, name="Asha", reached=1, count=1,
                                      percent="100%")
    assert [(v.kind, v.note) for v in visits(db)] == [("call", NOTE)]


def test_a_reference_to_nobody_is_refused_and_nothing_is_saved(db, settings, cluster, asha):
    assert say(db, settings, FAC, f"VISIT 0712 000 007 {NOTE}") == ["No member 0712 000 007 in your cluster."]
    assert say(db, settings, FAC, "VISIT MOSHI-077 hello") == ["No member MOSHI-077 in your cluster."]
    assert say(db, settings, FAC, "VISIT Asha hello") == ["No member Asha in your cluster."]
    assert visits(db) == []


def test_the_note_may_start_with_figures():
    ref, note = parse.member_and_rest("12 3 bags delivered", "TZ")
    assert (ref.key, note) == ("12", "3 bags delivered")
    ref, note = parse.member_and_rest("0712 000 006 5 bags", "TZ")
    assert (ref.key, note) == ("+255712000006", "5 bags")
    ref, note = parse.member_and_rest("MOSHI 4", "TZ")
    assert (ref.key, note) == ("MOSHI-4", "")
    with pytest.raises(ParseError):
        parse.member_and_rest("hello there", "TZ")
