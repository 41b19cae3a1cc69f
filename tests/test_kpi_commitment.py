"""Commitment (issue 14 item 13): a member is committed when in the last 12 months they saved (a confirmed
deposit), attended an event, pledged to a joint purchase, or the facilitator marked them (COMMITTED);
computed from the records, shown by KPI in four languages, on the dashboard (with how each KPI is counted),
in the members export, and set or cleared by SMS (facilitators only) and by the CLI."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from storage import events, kpis, purchases, savings
from storage.audit import AuditEntry
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member
from tests import integration_world as w
from tests.conftest import one_reply, say

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
FAC, TREASURER, MEMBER = "+255712000099", "+255712000098", "+255712000010"
LANGS = ("en", "sw", "fr", "am")
WORDS = {  # the mark and unmark keywords in each language (bot/locales/keywords/broadcasts.toml)
    "en": ("COMMITTED", "UNCOMMITTED"), "sw": ("HAI", "SIHAI"), "fr": ("ENGAGÉ", "NONENGAGÉ"),
    "am": ("ቁርጠኛ", "ቁርጠኛሰርዝ"),
}


@pytest.fixture
def crew(db, cluster, add_member):
    """A facilitator, a treasurer and one plain member (the one each test makes committed or not)."""
    return (add_member(FAC, admin_role="facilitator", role="support", name="Fatuma"),
            add_member(TREASURER, admin_role="treasurer", name="Tumaini"),
            add_member(MEMBER, name="Asha", role="firm"))


def _committed(db, cluster, member, now=NOW) -> bool:
    with session_scope(db) as s:
        return member.id in kpis.committed_ids(s, cluster.id, now)


def _share(db, cluster, now=NOW) -> tuple[int, int]:
    with session_scope(db) as s:
        k = kpis.by_key(kpis.compute(s, s.get(Cluster, cluster.id), now))["committed"]
        return k.numerator, k.denominator


# ------------------------------------------------------------------ each way of taking part, one test each
def test_nobody_is_committed_without_taking_part(db, cluster, crew):
    assert not _committed(db, cluster, crew[2])
    assert _share(db, cluster) == (0, 2)  # the treasurer and the member; the facilitator is no participant


def test_a_confirmed_deposit_makes_a_member_committed(db, cluster, crew):
    _fac, treasurer, member = crew
    with session_scope(db) as s:
        c, t, m = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.get(Member, member.id)
        savings.record_deposit(s, c, m, 5_000_00, t, NOW - timedelta(days=100), "DEP-1")
    assert _committed(db, cluster, member)
    assert _share(db, cluster) == (1, 2)


def test_a_confirmed_deposit_request_counts_a_pending_or_declined_one_does_not(db, cluster, crew):
    _fac, treasurer, member = crew
    with session_scope(db) as s:
        c, t, m = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.get(Member, member.id)
        savings.request_deposit(s, c, m, 1_000_00, NOW - timedelta(days=3), "MP-1")  # still waiting
        refused = savings.request_deposit(s, c, m, 1_000_00, NOW - timedelta(days=3), "MP-2")
        savings.decline_request(s, c, refused.id, t, NOW - timedelta(days=2))
    assert not _committed(db, cluster, member)
    with session_scope(db) as s:
        c, t, m = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.get(Member, member.id)
        request = savings.request_deposit(s, c, m, 2_000_00, NOW - timedelta(days=2), "MP-3")
        savings.confirm_request(s, c, request.id, t, NOW - timedelta(days=1))
    assert _committed(db, cluster, member)


def test_a_reversed_deposit_does_not_count(db, cluster, crew):
    _fac, treasurer, member = crew
    with session_scope(db) as s:
        c, t, m = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.get(Member, member.id)
        wrong = savings.record_deposit(s, c, m, 5_000_00, t, NOW - timedelta(days=10), "DEP-9")
        savings.reverse_entry(s, c, wrong.id, t, NOW - timedelta(days=9), reason="typed twice")
    assert not _committed(db, cluster, member)


def _event(s, c, fac, starts_at):
    e = events.create_event(s, c, title="Workshop", starts_at=starts_at, now=starts_at - timedelta(days=10),
                            place="Hall", created_by=fac)
    events.publish(s, e.id, c, starts_at - timedelta(days=10))
    return e


def test_checking_in_at_an_event_makes_a_member_committed(db, cluster, crew):
    fac, _t, member = crew
    start = NOW - timedelta(days=40)
    with session_scope(db) as s:
        c, f, m = s.get(Cluster, cluster.id), s.get(Member, fac.id), s.get(Member, member.id)
        e = _event(s, c, f, start)
        events.check_in(s, c, e.id, m, e.checkin_code, start + timedelta(minutes=5))
    assert _committed(db, cluster, member)


def test_being_marked_attended_makes_a_member_committed(db, cluster, crew):
    fac, _t, member = crew
    start = NOW - timedelta(days=40)
    with session_scope(db) as s:
        c, f, m = s.get(Cluster, cluster.id), s.get(Member, fac.id), s.get(Member, member.id)
        e = _event(s, c, f, start)
        events.mark_attendance(s, c, e.id, m, start + timedelta(minutes=30), by=f)
    assert _committed(db, cluster, member)


def _purchase(s, c, fac, created):
    bag = purchases.QTY_SCALE
    return purchases.create_purchase(s, c, item="Fertiliser", unit="bag", units="bags", unit_price=60_000_00,
                                     individual_price=75_000_00, minimum=5 * bag,
                                     deadline=created + timedelta(days=5), now=created, created_by=fac)


def test_a_pledge_to_a_joint_purchase_makes_a_member_committed(db, cluster, crew):
    fac, _t, member = crew
    created = NOW - timedelta(days=20)
    with session_scope(db) as s:
        c, f, m = s.get(Cluster, cluster.id), s.get(Member, fac.id), s.get(Member, member.id)
        p = _purchase(s, c, f, created)
        purchases.offer(s, p, [m], created)
        purchases.pledge(s, p.id, m, 2 * purchases.QTY_SCALE, created + timedelta(days=1))
    assert _committed(db, cluster, member)


def test_a_pledge_taken_back_to_zero_does_not_count(db, cluster, crew):
    fac, _t, member = crew
    created = NOW - timedelta(days=20)
    with session_scope(db) as s:
        c, f, m = s.get(Cluster, cluster.id), s.get(Member, fac.id), s.get(Member, member.id)
        p = _purchase(s, c, f, created)
        purchases.offer(s, p, [m], created)
        purchases.pledge(s, p.id, m, 2 * purchases.QTY_SCALE, created + timedelta(days=1))
        purchases.pledge(s, p.id, m, 0, created + timedelta(days=2))
    assert not _committed(db, cluster, member)


@pytest.mark.parametrize("lang", LANGS)
def test_the_facilitators_mark_makes_a_member_committed(db, settings, cluster, crew, lang):
    fac, _t, member = crew
    with session_scope(db) as s:
        s.get(Member, fac.id).language = lang
    reply = one_reply(db, settings, FAC, "sms", f"{WORDS[lang][0]} {member.number}", lang, now=NOW)
    assert member.number in reply and "Asha" in reply and "2026" in reply  # marked until a year on
    assert _committed(db, cluster, member)
    assert _share(db, cluster) == (1, 2)
    with session_scope(db) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "member.commit")).one()
        assert (entry.actor_member_id, entry.subject) == (fac.id, member.number)


# ------------------------------------------------------------------ twelve months, and no more
@pytest.mark.parametrize("way", ["deposit", "check_in", "attendance", "pledge", "mark"])
def test_taking_part_more_than_twelve_months_ago_does_not_count(db, cluster, crew, way):
    fac, treasurer, member = crew
    then = NOW - timedelta(days=366)
    with session_scope(db) as s:
        c, f, t, m = (s.get(Cluster, cluster.id), s.get(Member, fac.id), s.get(Member, treasurer.id),
                      s.get(Member, member.id))
        if way == "deposit":
            savings.record_deposit(s, c, m, 5_000_00, t, then, "DEP-OLD")
        elif way in ("check_in", "attendance"):
            e = _event(s, c, f, then)
            if way == "check_in":
                events.check_in(s, c, e.id, m, e.checkin_code, then + timedelta(minutes=5))
            else:
                events.mark_attendance(s, c, e.id, m, then + timedelta(minutes=5), by=f)
        elif way == "pledge":
            p = _purchase(s, c, f, then - timedelta(days=1))
            purchases.offer(s, p, [m], then - timedelta(days=1))
            purchases.pledge(s, p.id, m, purchases.QTY_SCALE, then)
        else:
            m.committed_at = then
    assert _committed(db, cluster, member, now=then + timedelta(days=300))  # it counted in its year
    assert not _committed(db, cluster, member)
    assert _share(db, cluster) == (0, 2)


def test_commitment_costs_the_same_queries_for_three_members_or_thirty(db, cluster, crew, add_member):
    """One statement for every member's commitment, not one per member."""

    def statements() -> int:
        seen = []
        with session_scope(db) as s:
            engine = s.get_bind()
            listener = lambda *args: seen.append(1)  # noqa: E731
            sa_event.listen(engine, "before_cursor_execute", listener)
            try:
                kpis.compute(s, s.get(Cluster, cluster.id), NOW)
            finally:
                sa_event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    for i in range(27):
        add_member(f"+2557120003{i:02d}", name=f"M{i}")
    assert statements() == few


# ------------------------------------------------------------------ marking and unmarking
@pytest.mark.parametrize("lang", LANGS)
def test_unmark_clears_the_mark_and_says_whether_records_still_count(db, settings, cluster, crew, lang):
    fac, treasurer, member = crew
    with session_scope(db) as s:
        s.get(Member, fac.id).language = lang
    mark, unmark = WORDS[lang]
    one_reply(db, settings, FAC, "sms", f"{mark} {member.number}", lang, now=NOW)
    gone = one_reply(db, settings, FAC, "sms", f"{unmark} {member.number}", lang, now=NOW)
    assert member.number in gone
    assert not _committed(db, cluster, member)
    with session_scope(db) as s:
        assert s.get(Member, member.id).committed_at is None
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "member.uncommit")).one().subject == member.number
    again = one_reply(db, settings, FAC, "sms", f"{unmark} {member.number}", lang, now=NOW)
    assert again != gone  # no mark left: says so, and records nothing
    with session_scope(db) as s:
        assert len(s.exec(select(AuditEntry).where(AuditEntry.action == "member.uncommit")).all()) == 1
        c, t, m = s.get(Cluster, cluster.id), s.get(Member, treasurer.id), s.get(Member, member.id)
        savings.record_deposit(s, c, m, 5_000_00, t, NOW - timedelta(days=5), "DEP-2")
    one_reply(db, settings, FAC, "sms", f"{mark} {member.number}", lang, now=NOW)
    still = one_reply(db, settings, FAC, "sms", f"{unmark} {member.number}", lang, now=NOW)
    assert still not in (gone, again)  # cleared, yet committed by the deposit
    assert _committed(db, cluster, member)


def test_unmark_in_english_words_each_outcome(db, settings, cluster, crew):
    _fac, _t, member = crew
    say(db, settings, FAC, f"COMMITTED {member.number}", now=NOW)
    assert say(db, settings, FAC, f"UNCOMMITTED {member.number}", now=NOW)[0] == (
        f"Mark cleared for {member.number} Asha. They no longer count as committed.")
    assert say(db, settings, FAC, f"UNCOMMITTED {member.number}", now=NOW)[0] == (
        f"{member.number} Asha has no committed mark; nothing changed.")
    assert say(db, settings, FAC, f"COMMITTED {member.number}", now=NOW)[0] == (
        f"{member.number} Asha is marked committed until 30 Jun 2026. To clear it: UNCOMMITTED {member.number}")


def test_the_member_is_read_whole_by_the_shared_parser(db, settings, cluster, crew):
    _fac, _t, member = crew
    assert "Asha" in say(db, settings, FAC, "COMMITTED 0712 000 010", now=NOW)[0]  # a phone written in groups
    assert _committed(db, cluster, member)


@pytest.mark.parametrize("text, expected", [
    ("COMMITTED", "Send COMMITTED and a member number or phone"),
    ("COMMITTED NOPE", "Send COMMITTED and a member number or phone"),
    ("COMMITTED 0712 000 077", "No member 0712 000 077 in your cluster."),
    ("UNCOMMITTED", "Send UNCOMMITTED and a member number or phone"),
])
def test_bad_input_gets_a_clear_reply_and_records_nothing(db, settings, cluster, crew, text, expected):
    assert expected in one_reply(db, settings, FAC, "sms", text, now=NOW)
    with session_scope(db) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action.like("member.%commit"))).all() == []
        assert all(m.committed_at is None for m in s.exec(select(Member)))


def test_a_pending_member_cannot_be_marked(db, settings, cluster, crew, add_member):
    pending = add_member("+255712000050", status="pending", name="Neema")
    assert "not an active member" in say(db, settings, FAC, f"COMMITTED {pending.number}", now=NOW)[0]
    assert not _committed(db, cluster, pending)


@pytest.mark.parametrize("who", [TREASURER, MEMBER, "+255712000077"])
@pytest.mark.parametrize("lang", LANGS)
def test_only_a_facilitator_may_mark_or_unmark(db, settings, cluster, crew, who, lang):
    fac, _t, member = crew
    with session_scope(db) as s:
        m = s.get(Member, fac.id)
        m.committed_at = NOW - timedelta(days=1)  # a mark to try to clear
        for row in s.exec(select(Member).where(Member.number != fac.number)):
            row.language = lang
    for word in WORDS[lang]:
        for target in (member.number, fac.number):
            reply = one_reply(db, settings, who, "sms", f"{word} {target}", lang, now=NOW)
            assert target not in reply  # refused before the member is even looked up
    with session_scope(db) as s:
        assert s.get(Member, member.id).committed_at is None
        assert s.get(Member, fac.id).committed_at is not None
        assert s.exec(select(AuditEntry).where(AuditEntry.action.like("member.%commit"))).all() == []


def test_the_refusal_says_who_may(db, settings, cluster, crew):
    assert say(db, settings, MEMBER, "COMMITTED 1", now=NOW)[0] == "Only a facilitator can do that."
    assert say(db, settings, TREASURER, "UNCOMMITTED 1", now=NOW)[0] == "Only a facilitator can do that."


def test_cli_member_commit_and_uncommit(db, cluster, crew, cli_run):
    _fac, _t, member = crew
    code, out, _err = cli_run("member", "commit", "0712", "000", "010", "--cluster", "MOSHI")
    assert code == 0 and f"{member.number} Asha is marked committed until" in out
    assert _committed(db, cluster, member, now=datetime.now(UTC))
    code, out, _err = cli_run("member", "uncommit", member.number, "--cluster", "MOSHI")
    assert code == 0 and "no longer counted as committed" in out
    code, out, _err = cli_run("member", "uncommit", member.number, "--cluster", "MOSHI")
    assert code == 0 and "has no committed mark" in out
    with session_scope(db) as s:
        actions = [(e.action, e.actor) for e in s.exec(select(AuditEntry).where(
            AuditEntry.action.like("member.%commit")).order_by(AuditEntry.id))]
    assert actions == [("member.commit", "cli"), ("member.uncommit", "cli")]
    code, _out, err = cli_run("member", "commit", "0712000077", "--cluster", "MOSHI")
    assert code != 0 and "no member" in err


# ------------------------------------------------------------------ the KPI message in four languages
@pytest.mark.parametrize("lang, expected", [
    ("en", "12 months: 1 of 2 members took part, 50% (min 80%); firms 100% (>70%), academia 0; contacted 0% "
           "(>40%); joint activities 0% (>30%). 0 of 4 met."),
    ("sw", "Miezi 12: 1/2 walishiriki, 50% (lengo 80%); biashara 100% (>70%), vyuo 0; mliowafikia 0% (>40%); "
           "shughuli za pamoja 0% (>30%). 0/4 yamefikiwa."),
    ("fr", "12 mois: 1/2 ont participé, 50% (min 80%); entreprises 100% (>70%), recherche 0; "
           "contactés 0% (>40%); actions communes 0% (>30%). 0/4 atteints."),
    ("am", "12 ወራት፦ 1/2 አባላት ተሳትፈዋል፣ 50% (≥80%)፤ ድርጅቶች 100% (>70%)፣ ትምህርትና ምርምር 0፤ ያገኘናቸው 0% (>40%)፤ "
           "የጋራ ሥራ 0% (>30%)። 0/4 ተሳክተዋል።"),
])
def test_kpi_message_reads_the_counts_in_each_language_and_fits(db, settings, cluster, crew, lang, expected):
    fac, _t, member = crew
    with session_scope(db) as s:
        s.get(Member, fac.id).language = lang
        s.get(Member, member.id).committed_at = NOW - timedelta(days=10)
    assert one_reply(db, settings, FAC, "sms", "KPI", lang, now=NOW) == expected


def test_kpi_message_over_the_integration_world_in_every_language_fits(db, settings, cluster, add_member):
    world = w.build(db, cluster, add_member)
    for lang in LANGS:
        with session_scope(db) as s:
            s.get(Member, world.ids["F"]).language = lang
        reply = one_reply(db, settings, w.FAC, "sms", "KPI", lang)
        for figure in ("86", "83", "29", "57"):  # committed 6/7, firms 5/6, contact 2/7, joint 4/7
            assert figure in reply, (lang, reply)
        assert re.search(r"(?<!\d)6(?!\d)", reply) and re.search(r"(?<!\d)7(?!\d)", reply), reply  # 6 of 7


# ------------------------------------------------------------------ dashboard and export
@pytest.fixture
def world(db, cluster, add_member):
    return w.build(db, cluster, add_member)


@pytest.mark.parametrize("lang, words", [
    ("en", ["a confirmed savings deposit, an event attended or a pledge to a joint purchase",
            "of all active members except facilitators", "members with a visit or call logged",
            "the usual price less the pooled price"]),
    ("sw", ["wanachama walioweka akiba iliyothibitishwa", "waliotembelewa au kupigiwa simu"]),
    ("fr", ["dépôt d'épargne confirmé", "hors animateurs"]),
    ("am", ["የተረጋገጠ የቁጠባ ገቢ", "ከአስተባባሪዎች ውጪ"]),
])
def test_dashboard_overview_says_how_each_kpi_is_counted(web, db, world, lang, words):
    with session_scope(db) as s:
        s.get(Member, world.ids["F"]).language = lang
    w.login(web, db)
    page = web.get("/dashboard/c/MOSHI/")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)).replace("&#39;", "'")
    for phrase in words:
        assert phrase in text, phrase


def test_dashboard_has_a_how_line_under_every_kpi(web, db, world):
    w.login(web, db)
    page = web.get("/dashboard/c/MOSHI/")
    with session_scope(db) as s:
        found = kpis.compute(s, s.get(Cluster, world.cluster_id), world.now)
    assert page.text.count('<small class="muted">') == len(found)


def test_members_page_shows_the_computed_commitment_and_the_mark(web, db, world):
    w.login(web, db)
    page = web.get("/dashboard/c/MOSHI/members")
    assert page.status_code == 200
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>(MOSHI-\d+).*?(?=<tr>|</table>)", page.text, re.S)}
    with session_scope(db) as s:
        numbers = {k: s.get(Member, v).number for k, v in world.ids.items()}
    for key in ("T", "M1", "M2", "M3", "M4", "M5"):
        assert ">yes" in rows[numbers[key]], key
    for key in ("F", "M6", "P"):
        assert ">yes" not in rows[numbers[key]], key
    assert "marked" in rows[numbers["M5"]] and "marked" not in rows[numbers["M1"]]


def test_members_export_committed_column_is_the_computed_value(web, db, world):
    w.login(web, db)
    got = web.get("/dashboard/c/MOSHI/export/members.csv")
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    with session_scope(db) as s:
        numbers = {v: k for k, v in ((k, s.get(Member, i).number) for k, i in world.ids.items())}
    committed = sorted(numbers[r["number"]] for r in rows if r["committed"] in ("True", "true", "1"))
    assert committed == ["M1", "M2", "M3", "M4", "M5", "T"]  # 6 of the 7 participants, as the KPI counts
    marks = sorted(numbers[r["number"]] for r in rows if r["committed_mark"])
    assert marks == ["M5", "T"]
    assert json.dumps(rows)  # every value is plain text
