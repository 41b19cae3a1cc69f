"""Forgetting and exporting a member across every domain: free text goes, every total stays."""

import json

import pytest
from sqlalchemy import String, Text, select
from sqlmodel.sql.sqltypes import AutoString

from storage import kpis, polls, purchases, savings
from storage.clusters import Cluster
from storage.db import session_scope
from storage.members import Member
from storage.models import metadata
from tests import integration_world as w


@pytest.fixture
def world(db, cluster, add_member):
    return w.build(db, cluster, add_member)


# A member who is forgotten has left, so is no longer a participant; money and poll figures stay.
UNCHANGED_KPIS = ("poll_response", "satisfaction", "savings", "loans_outstanding", "purchase_savings")


def totals(db, world) -> dict:
    """Every figure a forgotten member's rows feed: balances, loans, purchase sums, poll counts, KPIs."""
    with session_scope(db) as s:
        c = s.get(Cluster, world.cluster_id)
        balances = sorted(s.exec(select(savings.Account.member_id, savings.Account.balance_minor)).all())
        loan = s.get(savings.Loan, world.loan_id)
        purchase = purchases.summary(s, s.get(purchases.Purchase, world.purchase_id))
        result = polls.round_results(s, s.get(polls.PollRound, world.round_id))
        answers = [(q.question.key, q.answers, q.skipped, q.distribution) for q in result.questions]
        found = [k for k in kpis.compute(s, c, world.now) if k.key in UNCHANGED_KPIS]
        return {"balances": balances, "loan": (loan.outstanding_minor, loan.status), "purchase": purchase,
                "poll": (result.recipients, result.respondents, answers),
                "kpis": [(k.key, k.numerator, k.denominator, k.amount) for k in found],
                "problems": savings.check(s, c)}


def _is_text(column) -> bool:
    return isinstance(column.type, String | Text | AutoString)


def every_text(db) -> str:
    """All text held in the database, to search for what must be gone."""
    parts = []
    with session_scope(db) as s:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if _is_text(c)]
            if columns:
                for row in s.execute(select(*columns)):
                    parts.extend(str(v) for v in row if v)
    return "\n".join(parts)


def test_forget_erases_free_text_in_every_domain_and_keeps_every_total(db, world, phone, cli_run):
    phone(w.PHONES[0]).last("BAL")
    before = totals(db, world)
    assert before["problems"] == []
    held = every_text(db)
    for text in (w.PRIVATE_ANSWER, w.PRIVATE_NOTE, w.PRIVATE_REASON, "Member 1", "Shop 1", w.PHONES[0]):
        assert text in held, text
    for ref in ("MOSHI-003", "MOSHI-005"):  # M1 (savings, loan, poll text, visit note) and M3 (purchase)
        code, out, err = cli_run("member", "forget", ref, "--yes")
        assert code == 0, err
    assert totals(db, world) == before
    held = every_text(db)
    for text in (w.PRIVATE_ANSWER, w.PRIVATE_NOTE, w.PRIVATE_REASON, "Member 1", "Shop 1", "Member 3",
                 w.PHONES[0], w.PHONES[2]):
        assert text not in held, text
    code, out, err = cli_run("savings", "check")
    assert code == 0, out + err


def test_member_export_has_a_row_from_every_domain_the_member_took_part_in(db, world, phone, cli_run):
    phone(w.PHONES[0]).last("BAL")
    code, out, _ = cli_run("member", "export", "MOSHI-003")
    assert code == 0
    data = json.loads(out)
    expected = {"members", "identities", "inbound_messages", "outbound_messages", "visits", "event_invitations",
                "event_checkins", "purchase_offers", "savings_accounts", "savings_entries", "savings_loans",
                "savings_requests", "poll_recipients", "poll_responses", "audit_log"}
    assert expected <= set(data), expected - set(data)
    assert any(r["text"] == w.PRIVATE_ANSWER for r in data["poll_responses"])
    assert any(r["note"] == w.PRIVATE_NOTE for r in data["visits"])
    assert {"purchase_pledges", "purchase_payments"} <= set(json.loads(cli_run("member", "export", "MOSHI-005")[1]))
    assert "glossary_proposals" in json.loads(cli_run("member", "export", "MOSHI-004")[1])


def test_member_export_includes_rows_that_name_the_member_by_number(db, world, cli_run):
    """Audit subjects and details, and poll authors, name a member by number: no foreign key to follow."""
    with session_scope(db) as s:
        number = s.get(Member, world.ids["F"]).number
    data = json.loads(cli_run("member", "export", number)[1])
    assert [p["id"] for p in data["polls"]] == [world.poll_id]
    visited = json.loads(cli_run("member", "export", "MOSHI-003")[1])["audit_log"]
    assert any(r["action"] == "visit.log" and r["subject"] == "MOSHI-003" for r in visited)
    paid = json.loads(cli_run("member", "export", "MOSHI-005")[1])["audit_log"]  # M3, paid through the treasurer
    assert any(r["action"] == "purchase.payment.record" for r in paid)
