"""The seed glossary, the voting rule, lookups at the storage level, and CSV import/export by the CLI."""

import csv
import io

import pytest
from sqlmodel import select

from bot import i18n, sms
from bot.cli.glossary import import_check
from bot.handlers.glossary import MAX_PAGES, MORE_HINT, WEEKLY_MESSAGE, pages
from storage import glossary as store
from storage.db import session_scope
from storage.glossary import GlossaryEntry, GlossarySettings, GlossaryTerm

SEED = store.read_csv(store.SEED_FILE)
CLUSTERPEDIA_TOPICS = ["cluster", "cluster_initiative", "innovative_cluster", "cluster_development", "competitiveness",
                       "triple_helix", "innovation", "project", "sustainability", "academia", "government",
                       "co_opetition", "saccos", "communication_plan", "champion", "cluster_facilitation",
                       "facilitator", "leadership_team", "low_hanging_fruit", "uncooperative_firm", "business_plan",
                       "media", "incubator", "local_term", "gender_balance", "baseline_analysis", "local_politicians",
                       "association"]
OTHER_SEEDS = ["joint_purchase", "value_chain", "benchmarking", "business_linkages", "horizontal_network",
               "vertical_network", "action_plan", "committed_member", "study_tour", "satisfaction_survey",
               "revolving_fund"]


def fits(lang: str, text: str) -> bool:
    enc = sms.encode(text)
    if lang == "am":
        return enc.units <= 134
    return enc.encoding == "GSM-7" and enc.units <= 160


def test_seed_has_every_term_in_four_languages():
    keys = {row["key"] for row in SEED}
    assert len(keys) >= 40
    assert set(CLUSTERPEDIA_TOPICS + OTHER_SEEDS) <= keys
    for key in keys:
        assert sorted(row["lang"] for row in SEED if row["key"] == key) == ["am", "en", "fr", "sw"], key
    for row in SEED:
        assert row["name"] and row["short"] and row["long"], row


@pytest.mark.parametrize("row", SEED, ids=lambda r: f"{r['key']}-{r['lang']}")
def test_every_seeded_definition_fits_the_sms_budget(row):
    lang, name = row["lang"], row["name"]
    assert fits(lang, f"{name}: {row['short']} {i18n.translate(lang, MORE_HINT)}")
    assert fits(lang, i18n.translate(lang, WEEKLY_MESSAGE, term=name, definition=row["short"]))
    parts = pages(lang, row["long"])
    assert 1 <= len(parts) <= MAX_PAGES
    assert all(fits(lang, f"{part} {i18n.translate(lang, MORE_HINT)}") for part in parts)
    assert import_check(row) is None
    if lang == "am":
        assert any("\u1200" <= ch <= "\u139f" for ch in row["short"])


def test_no_name_or_alias_names_two_terms():
    owners: dict[str, set[str]] = {}
    for row in SEED:
        for word in [row["name"], *row["aliases"].split("|")]:
            if word:
                owners.setdefault(store.fold_key(word), set()).add(row["key"])
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_a_fresh_database_has_the_seed(db):
    with session_scope(db) as s:
        assert len(s.exec(select(GlossaryTerm)).all()) == len({r["key"] for r in SEED})
        assert len(s.exec(select(GlossaryEntry)).all()) == len(SEED)


@pytest.mark.parametrize("query, name", [
    ("cluster", "Cluster"), ("CLUSTER", "Cluster"), ("klaster", "Klasta"), ("co opetition", "Co-opetition"),
    ("coopétition", "Coopétition"), ("cooperation et concurrence", "Coopétition"), ("ምርምር ተቋም", "የትምህርት ተቋማት"), ("zzqxv", None),
    ("sacos", "SACCOS"), ("helix", "Triple Helix"), ("lowhanging fruit", "Low-hanging fruit"),
    ("ዕቁብ", "ተዘዋዋሪ ፈንድ"), ("mnyororo wa thamni", "Mnyororo wa thamani"),
])
def test_find_forgives_case_accents_spacing_and_typos(db, query, name):
    with session_scope(db) as s:
        found = store.find(s, query, None)
        if name is None:
            assert found.term_id is None
            return
        assert found.term_id is not None, found
        entry = store.entry_for(s, found.term_id, None, found.lang)
        assert name in {e.name for e in s.exec(select(GlossaryEntry).where(GlossaryEntry.term_id == found.term_id))}
        assert entry is not None


def rule(**kw) -> GlossarySettings:
    return GlossarySettings(cluster_id=1, **kw)


@pytest.mark.parametrize("tally, active, final, kw, expected", [
    ([3, 2], 20, True, {}, ("adopted", 0)),          # 5 votes, more than half
    ([2, 2], 20, True, {}, ("no_quorum", None)),     # too few votes
    ([3, 3], 20, True, {}, ("tie", None)),
    ([3, 2, 2], 20, True, {}, ("no_majority", None)),  # 3 of 7 is not more than half
    ([3, 2, 2], 20, True, {"plurality": True}, ("adopted", 0)),
    ([1, 6], 11, False, {}, ("adopted", 1)),         # 6 of 11 active members: absolute majority early
    ([1, 5], 11, False, {}, ("open", None)),
    ([1, 6], 11, False, {"early_majority": False}, ("open", None)),
    ([0, 2], 3, True, {"min_votes": 2}, ("adopted", 1)),
])
def test_the_adoption_rule(tally, active, final, kw, expected):
    assert store.outcome(tally, rule(**kw), active, final) == expected


def test_export_import_round_trip(cli_run, db, tmp_path, cluster, add_member):
    with session_scope(db) as s:
        facilitator = add_member("+255712000009", admin_role="facilitator")
        store.define(s, s.get(type(cluster), cluster.id), facilitator, None, "Mama lishe", "sw",
                     "Mwanamke anayepika na kuuza chakula kwa wafanyakazi.", "", store.utcnow())
    code, exported, _ = cli_run("export", "glossary", "--cluster", "MOSHI")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == len(SEED) + 1 and rows[-1]["cluster"] == "MOSHI" and rows[-1]["name"] == "Mama lishe"
    code, global_only, _ = cli_run("glossary", "export")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(global_only)))) == len(SEED)

    edited = [dict(r) for r in rows]
    edited[0]["short"] = "A group of related firms in one place, with their suppliers and colleges."
    edited.append({**edited[0], "key": "mama_ntilie", "cluster": "MOSHI", "name": "Mama ntilie", "aliases": "",
                   "topic": "local", "short": "A woman who runs a small food stall.", "long": ""})
    edited.append({**edited[0], "key": "bad", "lang": "xx"})
    edited.append({**edited[0], "key": "huge", "short": "word " * 40})
    path = tmp_path / "glossary.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=store.CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(edited)
    code, out, _ = cli_run("glossary", "import", str(path))
    assert code == 0 and f"imported {len(edited) - 2} glossary rows; 2 rows rejected" in out
    assert "is not one of" in out and "does not fit one SMS" in out
    _code, again, _ = cli_run("export", "glossary", "--cluster", "MOSHI")
    reread = list(csv.DictReader(io.StringIO(again)))
    assert reread[0]["short"].startswith("A group of related firms")
    assert {r["name"] for r in reread if r["cluster"] == "MOSHI"} == {"Mama lishe", "Mama ntilie"}
    assert len(reread) == len(rows) + 1
    path.write_text(again, encoding="utf-8")
    cli_run("glossary", "import", str(path))
    _code, third, _ = cli_run("export", "glossary", "--cluster", "MOSHI")
    assert third == again  # importing an export changes nothing


def test_cli_rule_weekly_and_history(cli_run, db, cluster):
    code, out, _ = cli_run("glossary", "rule", "--min-votes", "3", "--majority", "plurality", "--early-majority", "no")
    assert code == 0 and "at least 3 votes" in out and "most votes" in out
    code, out, _ = cli_run("glossary", "weekly", "fri", "--hour", "8")
    assert code == 0 and "every Friday from 08:00" in out
    assert cli_run("glossary", "weekly", "someday")[0] == 2
    with session_scope(db) as s:
        saved = store.settings_for(s, cluster.id)
        assert (saved.min_votes, saved.plurality, saved.early_majority, saved.weekly_day, saved.weekly_hour) == \
            (3, True, False, 4, 8)
    assert cli_run("glossary", "history")[0] == 0
