"""Results arithmetic against hand-computed figures, small-group suppression, change between rounds,
anonymous exports, RESULTS by message, the CLI, and polls refused at creation."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot import cli as cli_module
from bot import sms
from bot.handlers import polls as handler
from bot.scheduler import run_due
from storage import polls as store
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member
from storage.polls import Poll, PollError, PollResponse, PollRound, Schedule
from tests.conftest import outbox, say

UTC = ZoneInfo("UTC")
START = datetime(2030, 1, 15, 15, 0, tzinfo=UTC)
SPEC = {"title": "Check", "anonymous": True, "questions": [
    {"key": "overall", "kind": "rating", "text": "How satisfied are you?"},
    {"key": "attended", "kind": "yesno", "text": "Did you attend the fair?"},
    {"key": "product", "kind": "choice", "text": "Main product?", "options": ["Coffee", "Maize", "Milk"]},
    {"key": "recommend", "kind": "score", "text": "Would you recommend us?"},
    {"key": "change", "kind": "text", "text": "What should change?", "optional": True}]}
# Seven of eight recipients answer (members 1-6 women, 7-8 men; member 8 says nothing).
ROUND_ONE = [  # rating, yes/no, choice, score, text (None: skipped)
    (5, 1, 1, 10, "More fairs"), (4, 1, 3, 9, None), (4, 2, 3, 8, None), (3, 1, 2, 7, "Cheaper inputs"),
    (5, 2, 3, 6, None), (2, 1, 1, 3, None), (4, 1, 3, 9, None)]


def setup_round(db, cluster, add_member, spec=SPEC, answers=ROUND_ONE, number=1):
    members = []
    if number == 1:
        for i in range(8):
            members.append(add_member(f"+2557120002{i:02d}", gender="female" if i < 6 else "male",
                                      sector="tailoring" if i % 2 else "leather"))
    with session_scope(db) as s:
        c = s.get(Cluster, cluster.id)
        poll = s.get(Poll, 1) or store.create_poll(s, c, spec)
        if number == 1:
            store.schedule_poll(s, poll, c, Schedule(datetime(2030, 1, 15, 18, 0), every_months=6), START)
        due = store.round_due(poll, c.timezone, number - 1)
        rnd = store.open_round(s, poll, c, number, due, due)
        questions = store.questions(s, poll)
        people = list(s.exec(select(Member).order_by(Member.id)))
        for member, row in zip(people, answers, strict=False):
            for question, value in zip(questions, row, strict=True):
                if question.kind == "text":
                    store.record_answer(s, rnd, member, question, due, text=value or "", skipped=value is None)
                else:
                    store.record_answer(s, rnd, member, question, due, value=value)
        return poll.id, rnd.id


def test_round_figures_match_hand_computation(db, cluster, add_member):
    poll_id, round_id = setup_round(db, cluster, add_member)
    with session_scope(db) as s:
        rnd = s.get(PollRound, round_id)
        first = s.exec(select(Member).order_by(Member.id)).first()
        overall = store.questions(s, s.get(Poll, poll_id))[0]
        store.record_answer(s, rnd, first, overall, START, value=1)  # changes their mind...
        store.record_answer(s, rnd, first, overall, START, value=5)  # ...and back: one answer counts
        result = store.round_results(s, rnd)
    assert (result.recipients, result.respondents, result.rate) == (8, 7, 7 / 8)
    rating, yesno, choice, score, text = result.questions
    assert rating.distribution == {1: 0, 2: 1, 3: 1, 4: 3, 5: 2} and rating.answers == 7
    assert rating.mean == pytest.approx(27 / 7)
    assert yesno.distribution == {1: 5, 2: 2} and yesno.mean == pytest.approx(5 / 7)
    assert choice.distribution == {1: 2, 2: 1, 3: 4} and choice.mean is None
    assert score.mean == pytest.approx(52 / 7)
    assert score.score == pytest.approx(100 * (3 - 2) / 7)  # promoters 10, 9, 9; detractors 6, 3
    assert (text.answers, text.skipped, sorted(text.texts)) == (2, 5, ["Cheaper inputs", "More fairs"])


def test_response_rate_counts_unique_members_not_sends(db, settings, cluster, add_member):
    poll_id, round_id = setup_round(db, cluster, add_member, answers=[(5, 1, 1, 10, None)])
    with session_scope(db) as s:
        result = store.round_results(s, s.get(PollRound, round_id))
    assert (result.respondents, result.recipients) == (1, 8)


def test_groups_under_five_are_hidden(db, cluster, add_member):
    _poll_id, round_id = setup_round(db, cluster, add_member)
    with session_scope(db) as s:
        groups, hidden = store.breakdown(s, s.get(PollRound, round_id), "gender")
        by_sector, hidden_sectors = store.breakdown(s, s.get(PollRound, round_id), "sector")
    assert [g.group for g in groups] == ["female"] and hidden == 1  # one man answered
    assert groups[0].respondents == 6
    assert groups[0].questions[1].mean == pytest.approx(23 / 6)
    assert groups[0].questions[5] is None  # two free-text answers among the women: hidden
    assert by_sector == [] and hidden_sectors == 2  # 4 + 3 respondents


def test_change_against_the_previous_round(db, cluster, add_member):
    setup_round(db, cluster, add_member)
    _poll_id, round_id = setup_round(db, cluster, add_member, number=2, answers=[(4, 1, 1, 10, None)] * 5)
    with session_scope(db) as s:
        rnd = s.get(PollRound, round_id)
        current = store.round_results(s, rnd)
        diff = store.change(current, store.round_results(s, store.previous_round(s, rnd)))
    assert rnd.due_at == datetime(2030, 7, 15, 15, 0, tzinfo=UTC)
    assert diff["rate"] == pytest.approx(5 / 8 - 7 / 8)
    assert diff["mean:1"] == pytest.approx(4 - 27 / 7)
    assert diff["score:4"] == pytest.approx(100 - 100 / 7)


def test_results_by_message_fit_one_sms_and_hide_small_segments(db, settings, cluster, add_member):
    setup_round(db, cluster, add_member)
    add_member("+255712000999", admin_role="facilitator")
    reply = say(db, settings, "+255712000999", "RESULTS 1")
    assert len(reply) == 1 and sms.fits(reply[0]) and len(reply[0]) <= 160
    assert reply[0].startswith("Poll 1, round 1: 7 of 8 answered (88%).")
    assert "#1 3.9" in reply[0] and "#2 71%" in reply[0] and "#4 NPS +14" in reply[0]
    assert say(db, settings, "+255712000999", "RESULTS 1 gender:male") == [
        "Fewer than 5 members answered in that segment, so its results stay hidden."]
    assert say(db, settings, "+255712000999", "RESULTS 1 gender:female")[0].startswith(
        "Poll 1, round 1: 6 of 6 answered (100%).")
    assert say(db, settings, "+255712000999", "RESULTS 9") == ["No poll 9 in your cluster."]
    assert say(db, settings, "+255712000999", "RESULTS")[0].startswith("Send RESULTS and a poll number")


def export_csv(db, cluster, kind: str) -> str:
    with session_scope(db) as s:
        columns, rows = store.EXPORTS[kind](s, s.get(Cluster, cluster.id))
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        writer.writerows(rows)
    return buf.getvalue()


def test_anonymous_poll_exports_no_member_identity(db, cluster, add_member):
    setup_round(db, cluster, add_member)
    text = export_csv(db, cluster, "responses")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7 * 5
    assert all(row["member_number"] == "" and row["answered_at"] == "" for row in rows)
    assert "MOSHI-" not in text and "+255" not in text and "Test Member" not in text
    polls = list(csv.DictReader(io.StringIO(export_csv(db, cluster, "polls"))))
    assert [(p["round"], p["recipients"], p["respondents"], p["response_rate"]) for p in polls] == [
        ("1", "8", "7", "0.875")]


def test_named_poll_exports_member_numbers(db, cluster, add_member):
    setup_round(db, cluster, add_member, spec={**SPEC, "anonymous": False})
    rows = list(csv.DictReader(io.StringIO(export_csv(db, cluster, "responses"))))
    assert {row["member_number"] for row in rows} == {f"MOSHI-00{i}" for i in range(1, 8)}
    assert {row["answer"] for row in rows if row["key"] == "product"} == {"Coffee", "Maize", "Milk"}


@pytest.mark.parametrize("spec, code", [
    ({"title": "Empty", "questions": []}, "no_questions"),
    ({"title": "Many", "questions": [{"kind": "choice", "text": "Which?", "options": [str(i) for i in range(11)]}]},
     "too_many_options"),
    ({"title": "One", "questions": [{"kind": "choice", "text": "Which?", "options": ["only"]}]}, "too_few_options"),
    ({"title": "Odd", "questions": [{"kind": "slider", "text": "How?"}]}, "bad_kind"),
    ({"title": "Long", "questions": [{"kind": "choice", "text": "Which of these services " * 4,
                                      "options": ["Training for workers"] * 6}]}, "too_long"),
])
def test_bad_polls_are_refused_and_nothing_is_stored(db, cluster, spec, code):
    with session_scope(db) as s:
        with pytest.raises(PollError) as caught:
            handler.create_checked(s, s.get(Cluster, cluster.id), spec, "test")
        assert caught.value.code == code
        assert s.exec(select(Poll)).all() == []


@pytest.mark.parametrize("template", store.TEMPLATES)
def test_templates_fit_one_sms_per_question_in_every_language(db, cluster, template):
    with session_scope(db) as s:
        poll = handler.create_checked(s, s.get(Cluster, cluster.id), store.load_template(template), "test")
        items = store.questions(s, poll)
        assert len(items) <= 10
        for question in items:
            assert set(store.json.loads(question.texts)) == {"en", "sw", "fr", "am"}
            for channel in ("sms", "telegram"):
                assert sms.fits(handler.question_message(question, "am", len(items), channel)[0])


def run_cli(monkeypatch, settings, capsys, *argv) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    code = cli_module.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_create_schedule_and_results(db, settings, cluster, add_member, monkeypatch, capsys, tmp_path):
    setup_round(db, cluster, add_member)
    code, out, _ = run_cli(monkeypatch, settings, capsys, "poll", "results", "1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["mean"] == str(round(27 / 7, 2)) and rows[3]["score"] == "14.3"
    assert {(r["dimension"], r["group"]) for r in rows} >= {("all", "all"), ("gender", "female")}
    assert not any(r["group"] == "male" for r in rows)
    code, out, _ = run_cli(monkeypatch, settings, capsys, "poll", "results", "1")
    assert code == 0 and "7 of 8 members answered (88%)" in out and "More fairs" in out
    code, out, _ = run_cli(monkeypatch, settings, capsys, "poll", "create", "satisfaction")
    assert code == 0 and out.startswith("poll 2 created with 7 questions")
    code, out, _ = run_cli(monkeypatch, settings, capsys, "poll", "schedule", "2", "--start", "2031-01-01 18:00",
                           "--every-months", "6", "--audience", "sector:tailoring")
    assert code == 0 and "first round 2031-01-01 18:00 (Africa/Dar_es_Salaam), then every 6 months" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: Too many\nquestions:\n  - kind: choice\n    text: Which?\n    options: ["
                   + ", ".join(str(i) for i in range(11)) + "]\n")
    code, _, err = run_cli(monkeypatch, settings, capsys, "poll", "create", str(bad))
    assert code == 2 and "at most 10 options" in err
    table = tmp_path / "fair.csv"
    table.write_text("kind,text_en,text_sw,options_en,options_sw\ntitle,Fair review,Tathmini ya maonyesho,,\n"
                     "yesno,Did you attend?,Ulihudhuria?,,\nchoice,Best day?,Siku bora?,Mon|Sat,Jtatu|Jmosi\n")
    code, out, _ = run_cli(monkeypatch, settings, capsys, "poll", "create", str(table))
    assert code == 0 and out.startswith("poll 3 created with 2 questions")
    with session_scope(db) as s:
        assert s.get(Poll, 3).title_in("sw") == "Tathmini ya maonyesho"
        assert s.exec(select(PollResponse)).all() and s.get(Poll, 2).status == "scheduled"


def test_closing_a_round_tells_the_facilitator(db, settings, cluster, add_member):
    setup_round(db, cluster, add_member)
    add_member("+255712000999", admin_role="facilitator")
    run_due(db, settings, START + timedelta(days=7))
    notices = outbox(db, "+255712000999", kind="notice")
    assert [n.text for n in notices] == [
        "Poll 1, round 1 closed: 7 of 8 members answered. Send RESULTS 1 for the figures."]
