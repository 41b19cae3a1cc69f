"""The words members type: every seeded name and alias answers its own term, every term can be found in
every language, a word the cluster adopted is shown in every language, and proposals are for known terms.
"""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from alembic import command
from sqlmodel import select

from bot import i18n, sms
from bot.scheduler import run_due
from storage import glossary as store
from storage.clusters import Cluster, create_cluster
from storage.db import alembic_config, make_engine, migrate, session_scope, utcnow
from storage.glossary import (
    GlossaryEntry,
    GlossaryHistory,
    GlossaryIndex,
    GlossaryProposal,
    GlossaryTerm,
    GlossaryVersion,
)
from storage.members import Identity
from tests.conftest import outbox, say

LANGS = ("en", "sw", "fr", "am")
DEF = {"en": "DEF", "sw": "MAANA", "fr": "DEF", "am": "ትርጉም"}
MORE = {"en": "MORE", "sw": "ZAIDI", "fr": "PLUS", "am": "ተጨማሪ"}
PROPOSE = {"en": "PROPOSE", "sw": "PENDEKEZA", "fr": "PROPOSER", "am": "ጠቁም"}
SEED = list(csv.DictReader(store.SEED_FILE.open(encoding="utf-8", newline="")))
NAMES = {(row["key"], row["lang"]): row["name"] for row in SEED}
FAC, OTHER_FAC, ASHA = "+255712000009", "+255712000008", "+255712000001"
WORD = "kikundi cha mafundi"


def one_sms(text: str) -> bool:
    return sms.fits(text)


def shown(channel: str, text: str) -> str:
    """A text as the channel delivers it: SMS through the GSM-7 normaliser (ê -> e), Telegram unchanged."""
    return sms.outgoing(text) if channel == "sms" else text


def talker(db, settings, add_member, channel: str, number: str, **fields):
    """A member who writes on SMS or Telegram: a function that sends a text and returns the one reply."""
    member = add_member(number, **fields)
    address = number
    if channel == "telegram":
        address = str(7000 + int(number[-3:]))
        with session_scope(db) as s:
            s.add(Identity(channel="telegram", address=address, member_id=member.id))

    clock = iter(range(10_000))

    def send(text: str) -> str:  # a minute apart: a member looking words up is no flood
        replies = say(db, settings, address, text, channel=channel, now=utcnow() + timedelta(minutes=next(clock)))
        assert len(replies) == 1, replies
        return replies[0]

    return send


# --- Aliases in every language ------------------------------------------------------------------

def test_every_term_has_a_name_and_an_alias_in_every_language():
    keys = list(dict.fromkeys(row["key"] for row in SEED))
    assert len(keys) == 52
    for key in keys:
        for lang in LANGS:
            row = next((r for r in SEED if r["key"] == key and r["lang"] == lang), None)
            assert row is not None and row["name"], (key, lang)
            assert [a for a in row["aliases"].split("|") if a.strip()], f"{key} has no {lang} alias"


def test_no_name_or_alias_belongs_to_two_terms():
    owners: dict[str, set[str]] = {}
    for row in SEED:
        for word in (row["name"], *row["aliases"].split("|")):
            if store.fold_key(word):
                owners.setdefault(store.fold_key(word), set()).add(row["key"])
    shared = {word: keys for word, keys in owners.items() if len(keys) > 1}
    assert not shared, shared


def test_every_seeded_name_and_alias_answers_its_term_directly(db, cluster, add_member):
    """For a stranger, and for a member of a cluster with its own wording and an adopted word."""
    facilitator = add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:
        store.define(s, s.get(Cluster, cluster.id), facilitator, None, "Mama lishe", "sw", "Mpishi.", "", utcnow())
        term = s.exec(select(GlossaryTerm).where(GlossaryTerm.key == "cluster")).one()
        store.define(s, s.get(Cluster, cluster.id), facilitator, term.id, "Klasta", "sw", "Mafundi wa Moshi.", "",
                     utcnow())
    index = GlossaryIndex()
    missed = []
    with session_scope(db) as s:
        ids = dict(s.exec(select(GlossaryTerm.key, GlossaryTerm.id).where(GlossaryTerm.cluster_id == None)).all())  # noqa: E711
        for row in SEED:
            for word in (row["name"], *[a for a in row["aliases"].split("|") if a]):
                for scope in (None, cluster.id):
                    found = index.find(s, word, scope)
                    if found.term_id != ids[row["key"]]:
                        missed.append((row["key"], row["lang"], word, scope, found))
    assert not missed, missed


# What members type, per language: the word and the term it means.
TYPED = {
    "en": [("savings", "saccos"), ("merry go round", "revolving_fund"), ("trust", "social_capital"),
           ("survey", "satisfaction_survey"), ("partners", "stakeholder"), ("bulk buying", "joint_purchase"),
           ("coordinator", "facilitator"), ("credit union", "saccos"), ("supply chain", "value_chain")],
    "sw": [("akiba", "saccos"), ("upatu", "revolving_fund"), ("mali kauli", "supplier_credit"),
           ("mwezeshaji", "facilitator"), ("mradi", "project"), ("wadau", "stakeholder"), ("chama", "association"),
           ("dira", "common_vision"), ("mkakati", "strategic_agenda"), ("ushindani", "competitiveness"),
           ("wanachama", "committed_member")],
    "fr": [("épargne", "saccos"), ("coopérative", "saccos"), ("tontine", "revolving_fund"),
           ("animateur", "facilitator"), ("filière", "value_chain"), ("achat groupé", "joint_purchase"),
           ("partenaire", "stakeholder"), ("sondage", "satisfaction_survey"), ("confiance", "social_capital")],
    "am": [("ቁጠባ", "saccos"), ("ዕቁብ", "revolving_fund"), ("እቁብ", "revolving_fund"), ("አመቻች", "facilitator"),
           ("ክላስተር", "cluster"), ("ጋዜጣ", "media"), ("ፈጠራ", "innovation"), ("ባለድርሻ", "stakeholder"),
           ("ዱቤ", "supplier_credit"), ("መጠይቅ", "satisfaction_survey"), ("አባላት", "committed_member")],
}


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang", LANGS)
def test_words_members_type_find_their_term(db, settings, cluster, add_member, lang, channel):
    send = talker(db, settings, add_member, channel, ASHA, language=lang)
    for typed_lang, words in TYPED.items():
        for text, key in words:
            reply = send(f"{DEF[lang]} {text}")
            assert reply.startswith(shown(channel, NAMES[(key, lang)]) + ": "), (typed_lang, text, reply)
            assert one_sms(reply)


def test_the_migration_adds_the_seed_aliases_to_an_older_database(database_url, cluster, add_member):
    engine = make_engine(database_url)
    facilitator = add_member(FAC, admin_role="facilitator")
    with session_scope(engine) as s:
        ids = dict(s.exec(select(GlossaryTerm.key, GlossaryTerm.id).where(GlossaryTerm.cluster_id == None)).all())  # noqa: E711
        saccos = s.exec(select(GlossaryEntry).where(GlossaryEntry.term_id == ids["saccos"], GlossaryEntry.lang == "am",
                                                    GlossaryEntry.cluster_id == None)).one()  # noqa: E711
        saccos.aliases = "ሳኮስ|ቁጠባና ብድር|የገንዘብ ብድር"  # as glossary_0001 seeded it, plus one an import added
        s.add(saccos)
        own = store.define(s, s.get(Cluster, cluster.id), facilitator, ids["saccos"], "SACCOS", "am", "የእኛ ማኅበር።",
                           "", utcnow())
        own_id, own_aliases = own.id, own.aliases
    with session_scope(engine) as s:
        before = s.get(GlossaryVersion, store.GLOBAL_SCOPE).generation
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "glossary_0002")
        conn.commit()
    migrate(engine)
    with session_scope(engine) as s:
        entry = s.get(GlossaryEntry, saccos.id)
        assert entry.aliases.split("|")[:3] == ["ሳኮስ", "ቁጠባና ብድር", "የገንዘብ ብድር"] and "ቁጠባ" in entry.alias_list
        own = s.get(GlossaryEntry, own_id)
        assert (own.name, own.aliases, own.short) == ("SACCOS", own_aliases, "የእኛ ማኅበር።")  # a cluster's: untouched
        assert s.get(GlossaryVersion, store.GLOBAL_SCOPE).generation == before + 1
        assert store.find(s, "ቁጠባ", None).term_id == ids["saccos"]
    engine.dispose()


# --- Proposals are for known terms --------------------------------------------------------------

@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", ["member", "facilitator"])
def test_a_word_for_an_unknown_term_is_a_request_to_the_facilitators(db, settings, cluster, add_member, lang,
                                                                      channel, role):
    add_member(OTHER_FAC, admin_role="facilitator", language="sw")
    send = talker(db, settings, add_member, channel, ASHA, language=lang, admin_role=role)
    with session_scope(db) as s:
        terms, entries = len(s.exec(select(GlossaryTerm)).all()), len(s.exec(select(GlossaryEntry)).all())
    reply = send(f"{PROPOSE[lang]} xyzzy = abc")
    assert reply == i18n.translate(lang, "{term} is not in the glossary yet. I passed your request, with your word "
                                         "{word}, to the facilitators.", term="xyzzy", word="abc")
    notice = outbox(db, OTHER_FAC)[-1].text
    assert notice == i18n.translate("sw", "{number} asks for a new term: {term} = {word}. To add it, send DEFSET "
                                          "{term}.", number="MOSHI-002", term="xyzzy", word="abc")
    with session_scope(db) as s:
        assert len(s.exec(select(GlossaryTerm)).all()) == terms  # no term 53
        assert len(s.exec(select(GlossaryEntry)).all()) == entries
        assert s.exec(select(GlossaryProposal)).all() == []
        request = s.exec(select(GlossaryHistory).where(GlossaryHistory.action == "request")).one()
        assert '"term": "xyzzy"' in request.details and '"word": "abc"' in request.details
    assert "xyzzy" in send(f"{DEF[lang]} xyzzy")  # still unknown: "I have no definition of xyzzy"
    assert one_sms(reply) and one_sms(notice)


def test_a_request_with_a_long_term_is_echoed_short_and_kept_whole(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator", language="am")
    send = talker(db, settings, add_member, "sms", ASHA, language="am")
    term = "የቡና ማጠቢያ ጣቢያ አስተዳደር ደንብ ማሻሻያ ረቂቅ"
    reply = send(f"ጠቁም {term} = የቡና ጣቢያ")
    notice = outbox(db, FAC)[-1].text
    assert reply.startswith("የቡና ማጠቢያ ጣቢያ አስተዳደር ደንብ ማሻሻያ ገና") and one_sms(reply) and one_sms(notice)
    with session_scope(db) as s:
        assert term in s.exec(select(GlossaryHistory.details).where(GlossaryHistory.action == "request")).one()


def test_a_bad_request_records_nothing(db, settings, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    send = talker(db, settings, add_member, "sms", ASHA, language="sw")
    assert "PENDEKEZA" in send("PENDEKEZA xyzzy = !!!")
    assert "24" in send("PENDEKEZA xyzzy = " + "neno" * 10)
    with session_scope(db) as s:
        assert s.exec(select(GlossaryHistory)).all() == []
    assert outbox(db, FAC) == []


# --- A word the cluster adopted, in every language ----------------------------------------------

def adopt(db, cluster, add_member, key: str, word: str) -> None:
    """Three members propose `word` for the term and vote it in (the ballot in the cluster's language)."""
    facilitator = add_member(FAC, admin_role="facilitator")
    voters = [add_member(f"+2557120002{i:02d}", language="sw") for i in range(3)]
    now = utcnow()
    with session_scope(db) as s:
        moshi = s.get(Cluster, cluster.id)
        term = s.exec(select(GlossaryTerm).where(GlossaryTerm.key == key)).one()
        for voter in voters:
            store.propose(s, moshi, voter, term.id, key, word, "sw", now)
        ballot = store.open_ballot(s, moshi, term, facilitator, now)
        for voter in voters:
            store.cast(s, ballot.id, voter, 1, now)
        assert store.decide(s, ballot.id, now, final=False).status == "adopted"


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("lang", LANGS)
def test_an_adopted_word_is_shown_to_the_clusters_members_in_every_language(db, settings, cluster, add_member,
                                                                            lang, channel):
    adopt(db, cluster, add_member, "cluster", WORD)
    with session_scope(db) as s:
        other = create_cluster(s, "Arusha Dairy", "ARUSHA")
    member = talker(db, settings, add_member, channel, ASHA, language=lang)
    outsider = talker(db, settings, add_member, channel, "+255712000003", language=lang, cluster_obj=other)
    pending = talker(db, settings, add_member, channel, "+255712000004", language=lang, status="pending")
    name = NAMES[("cluster", lang)]
    title = i18n.translate(lang, "{term} (here: {word})", term=name, word=WORD)
    for text in (f"{DEF[lang]} cluster", f"{DEF[lang]} {name}", f"{DEF[lang]} {WORD}"):
        reply = member(text)
        assert reply.startswith(shown(channel, title) + ": ") and one_sms(reply), reply
    for reader in (outsider, pending):
        reply = reader(f"{DEF[lang]} cluster")
        assert reply.startswith(shown(channel, name) + ": ") and WORD not in reply


@pytest.mark.parametrize("lang", LANGS)
def test_a_definition_gives_way_to_the_adopted_word_and_the_rest_follows_with_more(db, settings, cluster,
                                                                                   add_member, lang):
    """The longest short definitions with the longest word: one message each, nothing lost."""
    longest = sorted((r for r in SEED if r["lang"] == lang), key=lambda r: -len(r["name"]) - len(r["short"]))[0]
    word = "ushirika wa mafundi wetu"  # 24 characters, the longest a word may be
    adopt(db, cluster, add_member, longest["key"], word)
    send = talker(db, settings, add_member, "sms", ASHA, language=lang)
    hint = i18n.translate(lang, "(MORE)")
    pages = [send(f"{DEF[lang]} {word}")]
    while pages[-1].endswith(hint):
        pages.append(send(MORE[lang]))
        assert len(pages) <= 5
    assert all(one_sms(p) for p in pages), pages
    title = shown("sms", i18n.translate(lang, "{term} (here: {word})", term=longest["name"], word=word))
    assert pages[0].startswith(title + ": ")
    text = " ".join(p.removesuffix(" " + hint) for p in pages).removeprefix(title + ": ")
    expected = shown("sms", f"{longest['short']} {longest['long']}").split()
    assert text.replace("... ", " ").split() == expected


def test_the_term_of_the_week_shows_the_adopted_word_in_every_language(db, settings, cluster, add_member):
    adopt(db, cluster, add_member, "cluster", WORD)
    for i, lang in enumerate(LANGS):
        add_member(f"+25571200030{i}", language=lang)
    with session_scope(db) as s:
        rule = store.settings_for(s, cluster.id)
        rule.weekly_day, rule.weekly_hour = 0, 0
        s.add(rule)
        ids = dict(s.exec(select(GlossaryTerm.key, GlossaryTerm.id)).all())
    monday = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=7)
    monday -= timedelta(days=monday.weekday())
    week = 0
    while True:  # the week whose term is "cluster"
        moment = monday + timedelta(days=7 * week)
        year, number, _d = moment.isocalendar()
        with session_scope(db) as s:
            if store.weekly_term(s, cluster.id, year * 53 + number) == ids["cluster"]:
                break
        week += 1
    run_due(db, settings, moment)
    for i, lang in enumerate(LANGS):
        sent = [m.text for m in outbox(db, f"+25571200030{i}", kind="broadcast")]
        title = i18n.translate(lang, "{term} (here: {word})", term=NAMES[("cluster", lang)], word=WORD)
        assert len(sent) == 1 and shown("sms", title) in shown("sms", sent[0]) and one_sms(sent[0]), sent
