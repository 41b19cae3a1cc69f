"""HELP is complete and paged: every command a role may use appears on exactly one page, each page is one
segment ending in a keyword or the hint to the next page, for every role, language and channel."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot import i18n, router, sms
from bot.context import ADMIN, FACILITATOR, TREASURER, refusal_for
from bot.handlers import COMMANDS
from bot.handlers.account import FIRST, HIDDEN
from bot.handlers.glossary import MORE_HINT
from storage.db import session_scope
from storage.members import Identity, Member
from tests.conftest import say
from tests.test_catalogs import over_budget

LANGS = ("en", "sw", "fr", "am")
ROLES = {
    "stranger": None,
    "pending": dict(status="pending"),
    "member": dict(status="active"),
    "facilitator": dict(status="active", admin_role="facilitator"),
    "treasurer": dict(status="active", admin_role="treasurer"),
}
ADMIN_WORD = {"en": "ADMIN", "sw": "MSIMAMIZI", "fr": "GESTION", "am": "አስተዳዳሪ"}
OFFICER = (FACILITATOR, TREASURER, ADMIN)
PHONE, CHAT = "+255712000077", "770077"


def _person(db, add_member, role: str, lang: str, channel: str) -> str:
    member = add_member(PHONE, language=lang, **ROLES[role]) if ROLES[role] is not None else None
    if channel == "sms":
        return PHONE
    with session_scope(db) as s:
        s.add(Identity(channel="telegram", address=CHAT, member_id=member.id if member else None, language=lang))
    return CHAT


def _may_use(role: str, name: str) -> bool:
    member = None if ROLES[role] is None else Member(cluster_id=1, number="X", **ROLES[role])
    if name == "JOIN":
        return member is None
    return refusal_for(COMMANDS[name].access, member) is None


def _expected(role: str, lang: str, channel: str, admin: bool) -> set[str]:
    officer = FIRST.get(role, ()) if admin else ()  # HELP ADMIN opens with the role's own first commands
    names = [n for n, c in COMMANDS.items() if n not in HIDDEN and _may_use(role, n)
             and (c.access in OFFICER or n in officer if admin else c.help)]
    if admin and not names:  # no officer command: HELP ADMIN is plain HELP
        return _expected(role, lang, channel, False)
    return {_shown(router.keyword(n, lang), channel) for n in names}


def _shown(text: str, channel: str) -> str:
    return sms.outgoing(text) if channel == "sms" else text


def _pages(db, settings, address: str, channel: str, lang: str, topic: str = "") -> list[str]:
    help_word = router.keyword("HELP", lang).lower()
    pages = say(db, settings, address, f"{help_word} {topic}".strip(), channel=channel)
    hint = _shown(i18n.translate(lang, MORE_HINT), channel)
    while pages[-1].endswith(hint):
        assert len(pages) < 12, pages
        pages += say(db, settings, address, router.keyword("MORE", lang).lower(), channel=channel)
    return pages


def _words(page: str, prefix: str, hint: str) -> list[str]:
    assert page.startswith(prefix), page
    body = page[len(prefix):]
    body = body[:-len(hint)].rstrip() if body.endswith(hint) else body
    return body.split(", ")


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("admin", [False, True], ids=["HELP", "HELP ADMIN"])
def test_help_pages_together_list_every_command_the_role_may_use(db, settings, cluster, add_member, lang, role,
                                                                 channel, admin):
    address = _person(db, add_member, role, lang, channel)
    pages = _pages(db, settings, address, channel, lang, ADMIN_WORD[lang] if admin else "")
    prefix = _shown(i18n.translate(lang, "You can send: {commands}", commands=""), channel)
    hint = _shown(i18n.translate(lang, MORE_HINT), channel)
    shown: list[str] = []
    for page in pages:
        assert over_budget(lang, sms.outgoing(page)) is None, page
        words = _words(page, prefix, hint)
        assert all(words) and not any(w.startswith(router.keyword("HELP", lang) + " ") for w in words), page
        shown += words
    assert len(shown) == len(set(shown)), shown  # each command on one page only
    assert set(shown) == _expected(role, lang, channel, admin)


@pytest.mark.parametrize("lang", LANGS)
def test_help_admin_shows_the_officer_commands_it_used_to_drop(db, settings, cluster, add_member, lang):
    address = _person(db, add_member, "facilitator", lang, "sms")
    pages = _pages(db, settings, address, "sms", lang, ADMIN_WORD[lang])
    text = " ".join(pages)
    for name in ("ATTEND", "ORDERED", "DELIVERED", "EXTEND", "CANCELBUY", "POLLS", "CANCELEVENT"):
        assert re.search(rf"\b{re.escape(sms.outgoing(router.keyword(name, lang)))}\b", text), (name, pages)


def test_in_the_middle_of_a_flow_pages_are_named_and_the_flow_waits(db, settings, cluster, add_member):
    """MORE would answer the open question, so HELP names its next page (HELP 2) instead."""
    add_member(PHONE, admin_role="facilitator")
    say(db, settings, PHONE, "NEWEVENT")
    first = say(db, settings, PHONE, "HELP")[0]
    assert first.endswith("(HELP 2)"), first
    second = say(db, settings, PHONE, "HELP 2")[0]
    assert second.startswith("You can send: ") and not second.endswith("(MORE)")
    more = [w for p in (first, second) for w in _words(p, "You can send: ", "(HELP 2)")]
    assert set(more) >= {"APPROVE", "NEWEVENT", "LANG"}
    assert "kind" in say(db, settings, PHONE, "Buyer visit")[0]  # NEWEVENT still asks its questions
    with session_scope(db) as s:
        assert s.exec(select(Member)).first().admin_role == "facilitator"
