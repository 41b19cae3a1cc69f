"""KPIs and dashboard pages over rows the landed domains really write (events, purchases, savings, polls, visits), checked
against the figures worked out by hand in tests/integration_world.py, by storage, by SMS and on the dashboard."""


import re
from datetime import timedelta

import pytest

from storage import kpis
from storage.clusters import Cluster
from storage.db import session_scope
from tests import integration_world as w
from tests.conftest import outbox


@pytest.fixture
def world(db, cluster, add_member):
    return w.build(db, cluster, add_member)


def _kpis(db, world):
    with session_scope(db) as s:
        return kpis.by_key(kpis.compute(s, s.get(Cluster, world.cluster_id), world.now))


def test_every_kpi_matches_the_hand_computed_figures(db, world):
    k = _kpis(db, world)
    shares = {key: (k[key].numerator, k[key].denominator) for key in
              ("committed", "industry", "contact", "joint", "women", "poll_response", "satisfaction")}
    assert shares == {"committed": (6, 7), "industry": (5, 6), "contact": (2, 7), "joint": (4, 7),
                      "women": (4, 7), "poll_response": (4, 8), "satisfaction": (3, 4)}
    assert k["industry"].academia == 1
    assert [k[key].met for key in ("committed", "industry", "contact", "joint")] == [True, True, False, True]
    amounts = {key: k[key].amount for key in ("savings", "loans_outstanding", "purchase_savings")}
    assert amounts == {"savings": 100_000 * w.TZS, "loans_outstanding": 99_000 * w.TZS,
                       "purchase_savings": 75_000 * w.TZS}


def test_cancelled_purchase_and_old_records_leave_the_year_kpis(db, world):
    """A check-in a year and a day old no longer counts, and a cancelled purchase's pledges never do."""
    later = world.now + timedelta(days=366)
    with session_scope(db) as s:
        k = kpis.by_key(kpis.compute(s, s.get(Cluster, world.cluster_id), later))
    assert (k["joint"].numerator, k["contact"].numerator, k["poll_response"].denominator) == (0, 0, 0)
    assert k["purchase_savings"].amount == 0 and k["savings"].amount == 100_000 * w.TZS


def test_kpi_sms_states_the_four_thresholds(phone, world):
    reply = phone(w.FAC).last("KPI")
    # committed 6/7, firms 5/6, academia 1, contact 2/7, joint 4/7; three of four met
    assert reply == ("12 months: 6 of 7 members took part, 86% (min 80%); firms 83% (>70%), academia 1; "
                     "contacted 29% (>40%); joint activities 57% (>30%). 3 of 4 met.")


def test_kpi_sms_is_refused_to_members(phone, world):
    assert phone(w.PHONES[0]).last("KPI") == "Only a facilitator can do that."


def test_dashboard_overview_shows_every_kpi_with_its_counts(web, db, world):
    w.login(web, db)
    page = web.get("/dashboard/c/MOSHI/")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    for counts in ("6 of 7", "5 of 6; academia: 1", "2 of 7", "4 of 7", "4 of 8", "3 of 4"):
        assert counts in text, counts
    for amount in ("100,000", "99,000", "75,000"):
        assert amount in text, amount
    assert text.count("not met") == 1


@pytest.mark.parametrize("slug, expected", [
    ("events", ["Vision workshop", "Moshi hall", "Rsvps"]),
    ("purchases", ["Fertiliser", "Pledges"]),
    ("polls", ["<svg", "Round 1", "4 answers"]),
    ("outbox", ["Latest messages"]),
])
def test_domain_pages_render_real_rows(web, db, world, slug, expected):
    w.login(web, db)
    page = web.get(f"/dashboard/c/MOSHI/{slug}")
    assert page.status_code == 200, page.text[:500]
    for text in expected:
        assert text in page.text, text
    assert w.PRIVATE_ANSWER not in page.text  # free-text answers are never charted


def test_savings_page_shows_totals_to_a_facilitator_and_ledger_to_the_treasurer(web, db, world):
    w.login(web, db)
    page = web.get("/dashboard/c/MOSHI/savings")
    assert page.status_code == 200 and "100,000" in page.text and "DEP-1" not in page.text
    web.cookies.clear()
    w.login(web, db, w.TREASURER)
    page = web.get("/dashboard/c/MOSHI/savings")
    assert page.status_code == 200
    for text in ("DEP-1", "MPESA-XYZ", "loan_disbursement", "reversal", "TSh100,000", "-TSh5,000"):
        assert text in page.text, text
    assert "10000000" not in page.text  # minor units are shown as money, not as a hundred times the sum


def test_outbox_page_never_shows_another_admins_login_code(web, db, world):
    """The treasurer must not read the facilitator's one-time code off the outbox page and log in as them."""
    web.post("/dashboard/login", data={"phone": w.FAC})
    code = re.search(r"\b(\d{6})\b", outbox(db, w.FAC)[-1].text).group(1)
    w.login(web, db, w.TREASURER)
    page = web.get("/dashboard/c/MOSHI/outbox")
    assert page.status_code == 200 and "login code hidden" in page.text and code not in page.text
