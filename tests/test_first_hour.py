"""A new cluster's first hour: PROFILE reads well whichever fields are empty (a facilitator added by the
CLI has none), the README's table says who may CONFIRM as the rule decides it, a SAVE in a cluster
without a treasurer is never silently lost, and a facilitator named after members registered hears of
their registrations. In the four languages, on SMS and Telegram."""

import re

import pytest
from sqlmodel import select

from bot import i18n, router, sms
from bot.catalog import keyword_markdown
from bot.handlers.account import PROFILES
from bot.handlers.registration import ANNOUNCED, STATUS_LABELS
from bot.handlers.savings.members import NAME_A_TREASURER, NO_OFFICER, NO_TREASURER
from storage.db import session_scope
from storage.members import Member, get_or_create_identity
from storage.savings import Request
from tests.conftest import outbox, say

LANGS = ("en", "sw", "fr", "am")
FAC, TREASURER, MEMBER = "+255712000009", "+255712000008", "+255712000001"
# Punctuation left by an empty field: "TEST-002 ,  (), ." and its Amharic twin.
STRAY = re.compile(r"\(\s*\)|[,፣]\s*[,.፣።(]|\s[,.፣።]|[,፣]\s*$|^\s*[,.]")
FIELDS = ("business", "sector", "location")


def _telegram(db, member: Member, chat: str) -> str:
    with session_scope(db) as s:
        identity = get_or_create_identity(s, "telegram", chat)
        identity.member_id = member.id
        s.add(identity)
    return chat


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("present", [(b, s, loc) for b in (0, 1) for s in (0, 1) for loc in (0, 1)])
def test_profile_reads_well_with_any_field_empty(db, settings, cluster, add_member, lang, channel, present):
    values = {"business": "Asha Designs", "sector": "tailoring", "location": "Moshi"}
    fields = {k: (values[k] if on else "") for k, on in zip(FIELDS, present, strict=True)}
    member = add_member(MEMBER, language=lang, name="Asha Juma", **fields)
    address = MEMBER if channel == "sms" else _telegram(db, member, "5550001")
    [reply] = say(db, settings, address, router.keyword("PROFILE", lang), channel=channel)
    assert not STRAY.search(reply), reply
    assert reply.startswith(f"{member.number} Asha Juma") and sms.fits(reply), reply
    assert i18n.translate(lang, STATUS_LABELS["active"]) in reply
    assert all((values[k] in reply) == bool(on) for k, on in zip(FIELDS, present, strict=True)), reply


@pytest.mark.parametrize("lang", LANGS)
def test_profile_of_a_facilitator_added_by_the_cli(db, settings, cluster, cli_run, lang):
    code, out, err = cli_run("facilitator", "add", "0712000009")
    assert code == 0, err
    with session_scope(db) as s:
        fac = s.exec(select(Member).where(Member.phone == FAC)).one()
        fac.language = lang
        s.add(fac)
    [reply] = say(db, settings, FAC, router.keyword("PROFILE", lang))
    assert reply == i18n.translate(lang, PROFILES[False, False, False], member=fac.number,
                                   status=i18n.translate(lang, STATUS_LABELS["active"]))
    assert not STRAY.search(reply) and "()" not in reply


def test_every_profile_wording_fits_and_keeps_its_punctuation_with_the_longest_values():
    long = {"member": "MOSHI-0123 Mwanaisha Abdallah Kilimanjaro", "business": "Mama Ntilie Tailoring & Design",
            "sector": "Vegetable processing", "location": "Kibosho, Kilimanjaro"}
    for lang in LANGS:
        for msgid in PROFILES.values():
            text = i18n.translate(lang, msgid, status=i18n.translate(lang, STATUS_LABELS["pending"]), **long)
            assert sms.fits(text) and not STRAY.search(text.replace("Kibosho, ", "")), (lang, text)


# CONFIRM: the README's table and the rule agree.


def test_readme_table_says_who_may_confirm_as_the_rule_decides(db, settings, cluster, add_member):
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1] for line in keyword_markdown().splitlines()[2:]}
    assert rows["CONFIRM"] == rows["DECLINE"] == "treasurer (facilitators: the treasurer's own)"
    add_member(FAC, admin_role="facilitator", name="Faith")
    add_member(TREASURER, admin_role="treasurer", name="Tumaini")
    add_member(MEMBER, name="Asha")
    say(db, settings, MEMBER, "SAVE 5000")
    say(db, settings, TREASURER, "SAVE 7000")
    with session_scope(db) as s:
        members_request, treasurers_request = (r.id for r in s.exec(select(Request).order_by(Request.id)))
    assert "Only the treasurer" in say(db, settings, FAC, f"CONFIRM {members_request}")[0]
    assert "Only the treasurer" in say(db, settings, FAC, f"DECLINE {members_request}")[0]
    assert "confirmed" in say(db, settings, FAC, f"CONFIRM {treasurers_request}")[0]
    assert "confirmed" in say(db, settings, TREASURER, f"CONFIRM {members_request}")[0]


# SAVE in a cluster without a treasurer.


@pytest.mark.parametrize("lang", LANGS)
def test_save_without_a_treasurer_tells_the_member_and_the_facilitators(db, settings, cluster, add_member, cli_run,
                                                                        lang):
    add_member(FAC, admin_role="facilitator", name="Faith", language=lang)
    member = add_member(MEMBER, name="Asha", language=lang)
    [reply] = say(db, settings, MEMBER, f"{router.keyword('SAVE', lang)} 5000 QK7")
    with session_scope(db) as s:
        request = s.exec(select(Request)).one()
    amount = i18n.Money(500000, "TZS")
    expected = i18n.translate(lang, NO_TREASURER["deposit"], region="TZ", amount=amount, id=request.id)
    assert sms.normalise(reply) == sms.normalise(expected) and sms.fits(reply)
    [notice] = outbox(db, FAC)
    assert sms.normalise(notice.text) == sms.normalise(i18n.translate(
        lang, NAME_A_TREASURER["deposit"], region="TZ", amount=amount, id=request.id, number=member.number))
    assert "--role treasurer" in notice.text and sms.fits(notice.text)
    # The request waits: a treasurer named later confirms it.
    assert cli_run("facilitator", "add", "0712000008", "--role", "treasurer")[0] == 0
    assert str(request.id) in say(db, settings, TREASURER, f"CONFIRM {request.id}")[0]
    with session_scope(db) as s:
        assert s.get(Request, request.id).status == "confirmed"


def test_save_without_any_officer_asks_the_member_to_tell_the_facilitator(db, settings, cluster, add_member):
    add_member(MEMBER, name="Asha")
    [reply] = say(db, settings, MEMBER, "SAVE 5000")
    assert sms.normalise(reply) == sms.normalise(i18n.translate(
        "en", NO_OFFICER["deposit"], region="TZ", amount=i18n.Money(500000, "TZS"), id=1))
    assert outbox(db) == []


def test_save_with_a_treasurer_is_unchanged(db, settings, cluster, add_member):
    add_member(TREASURER, admin_role="treasurer", name="Tumaini")
    add_member(MEMBER, name="Asha")
    assert "The treasurer will confirm it" in say(db, settings, MEMBER, "SAVE 5000")[0]
    assert len(outbox(db, TREASURER)) == 1


# Registrations made before any facilitator existed.


def _register(db, settings, address: str, name: str, channel: str = "sms") -> None:
    for answer in ("JOIN", name, "Designs", "tailoring", "Moshi", "1", "1", "1"):
        say(db, settings, address, answer, channel=channel)


@pytest.mark.parametrize("lang", LANGS)
def test_a_new_facilitator_hears_of_waiting_registrations(db, settings, cluster, add_member, cli_run, lang):
    _register(db, settings, "+255712000001", "Asha Juma")
    _register(db, settings, "5550002", "Baraka Telegram", channel="telegram")
    assert outbox(db) == [], "nobody to tell yet"
    add_member(FAC, name="Faith", language=lang)  # already a member, in their own language
    code, out, err = cli_run("facilitator", "add", "0712000009")
    assert code == 0 and "2 registration(s) wait" in out, (out, err)
    notices = [m.text for m in outbox(db, FAC)]
    with session_scope(db) as s:
        pending = list(s.exec(select(Member).where(Member.status == "pending").order_by(Member.id)))
    assert len(notices) == 2
    for member, text in zip(pending, notices, strict=True):
        assert member.number in text and member.name in text and sms.fits(text)
        assert router.keyword("APPROVE", lang).upper() in text.upper()
    cli_run("facilitator", "add", "0712000009")
    assert len(outbox(db, FAC)) == 2, "adding the same facilitator again repeats nothing"
    cli_run("facilitator", "add", "0712000008", "--role", "treasurer")
    assert outbox(db, TREASURER) == [], "registrations are the facilitators' to decide"


def test_many_waiting_registrations_are_announced_oldest_first_then_counted(db, settings, cluster, cli_run):
    for i in range(ANNOUNCED + 2):
        _register(db, settings, f"+2557120001{i:02d}", f"Member {chr(65 + i)}")
    assert cli_run("facilitator", "add", "0712000009")[0] == 0
    texts = [m.text for m in outbox(db, FAC)]
    assert len(texts) == ANNOUNCED + 1
    assert all(f"Member {chr(65 + i)}" in texts[i] for i in range(ANNOUNCED))
    assert texts[-1] == "More registrations wait for approval: see the members page of the dashboard."


def test_the_cli_reminds_to_name_a_treasurer(cli_run, cluster):
    code, out, _ = cli_run("facilitator", "add", "0712000009")
    assert code == 0 and "--role treasurer" in out
    code, out, _ = cli_run("facilitator", "add", "0712000008", "--role", "treasurer")
    assert code == 0 and "no treasurer" not in out
