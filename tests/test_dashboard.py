"""The dashboard over HTTP: one-time code login, session cookie, CSRF, cluster isolation, pages, exports."""


import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlmodel import select

import bot.dashboard
from bot.dashboard import COOKIE, Formats, distribution_chart, environment, trend_chart
from storage.clusters import create_cluster
from storage.db import session_scope
from storage.members import Member
from tests.conftest import outbox

FAC = "+255712000009"


def login(web, db, phone=FAC):
    web.post("/dashboard/login", data={"phone": phone})
    code = re.search(r"\b(\d{6})\b", outbox(db, phone)[-1].text).group(1)
    r = web.post("/dashboard/verify", data={"phone": phone, "code": code}, follow_redirects=False)
    assert r.status_code == 303
    return r


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_login_with_code_sent_through_the_bot_sets_a_strict_httponly_cookie(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    assert "enter your phone number" in web.get("/dashboard").text
    r = login(web, db)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie and "path=/dashboard" in cookie
    page = web.get("/dashboard")
    assert page.status_code == 200 and "Committed members" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "http" not in re.sub(r'https?://www\.w3\.org[^"]*', "", page.text).replace("http-equiv", "")
    assert len(page.content) < 20_000


def test_code_goes_only_to_admins_and_is_single_use(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    add_member("+255712000001")
    web.post("/dashboard/login", data={"phone": "+255712000001"})
    assert outbox(db, "+255712000001") == []
    r = web.post("/dashboard/login", data={"phone": "not a phone"})
    assert r.status_code == 400 and "not a valid phone" in r.text
    web.post("/dashboard/login", data={"phone": "0712 000 009"})
    code = re.search(r"\b(\d{6})\b", outbox(db, FAC)[-1].text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    assert web.post("/dashboard/verify", data={"phone": FAC, "code": wrong}).status_code == 400
    assert web.post("/dashboard/verify", data={"phone": FAC, "code": code}, follow_redirects=False).status_code == 303
    web.cookies.clear()
    assert web.post("/dashboard/verify", data={"phone": FAC, "code": code}).status_code == 400


def test_five_wrong_guesses_burn_the_code(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    web.post("/dashboard/login", data={"phone": FAC})
    code = re.search(r"\b(\d{6})\b", outbox(db, FAC)[-1].text).group(1)
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]
    for guess in guesses:
        web.post("/dashboard/verify", data={"phone": FAC, "code": guess})
    assert web.post("/dashboard/verify", data={"phone": FAC, "code": code}).status_code == 400


def test_no_session_or_forged_session_shows_login_and_changes_nothing(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    pending = add_member("+255712000004", status="pending")
    r = web.get("/dashboard/c/MOSHI/members", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    web.cookies.set(COOKIE, "forged-token-value", domain="bot.example.org", path="/dashboard")
    assert "enter your phone number" in web.get("/dashboard/c/MOSHI/").text
    r = web.post(f"/dashboard/c/MOSHI/members/{pending.number}/approve", data={"csrf": "0" * 32})
    assert r.status_code == 403
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "pending"


def test_approve_needs_csrf_then_approves_and_tells_the_member(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    pending = add_member("+255712000004", status="pending", name="Neema")
    login(web, db)
    page = web.get("/dashboard/c/MOSHI/members?status=pending")
    assert "Neema" in page.text and f"approve-{pending.number}" in page.text
    url = f"/dashboard/c/MOSHI/members/{pending.number}/approve"
    assert web.post(url, data={"csrf": "f" * 32}).status_code == 403
    assert web.post(url, data={"csrf": csrf_of(page.text)},
                    headers={"Origin": "https://evil.example"}).status_code == 403
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "pending"
    r = web.post(url, data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200 and "is now an active member" in r.text
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "active"
    assert any("now a member" in m.text for m in outbox(db, "+255712000004"))


def test_facilitator_cannot_reach_into_another_cluster(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    with session_scope(db) as s:
        other = create_cluster(s, "Dakar Fish", "DAKAR", region="SN", timezone="Africa/Dakar")
    stranger = add_member("+221771234567", status="pending", cluster_obj=other)
    login(web, db)
    csrf = csrf_of(web.get("/dashboard/c/MOSHI/").text)
    for path in ("/dashboard/c/DAKAR/", "/dashboard/c/DAKAR/members", "/dashboard/c/DAKAR/export/members.csv",
                 "/dashboard/c/NOPE/"):
        r = web.get(path)
        assert r.status_code == 403 and "not a facilitator of this cluster" in r.text
    r = web.post(f"/dashboard/c/DAKAR/members/{stranger.number}/approve", data={"csrf": csrf})
    assert r.status_code == 403
    r = web.post(f"/dashboard/c/MOSHI/members/{stranger.number}/approve", data={"csrf": csrf})
    assert r.status_code == 404
    with session_scope(db) as s:
        assert s.get(Member, stranger.id).status == "pending"


def test_members_filter(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator", name="Fac")
    add_member("+255712000001", name="Asha", gender="female", sector="tailoring")
    add_member("+255712000002", name="Baraka", gender="male", sector="coffee")
    login(web, db)
    text = web.get("/dashboard/c/MOSHI/members?gender=female&sector=TAILORING").text
    assert "Asha" in text and "Baraka" not in text
    assert "Baraka" in web.get("/dashboard/c/MOSHI/members?q=bar").text


def test_logout_revokes_the_session(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    login(web, db)
    token = web.cookies.get(COOKIE)
    csrf = csrf_of(web.get("/dashboard/c/MOSHI/").text)
    assert web.post("/dashboard/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    web.cookies.set(COOKIE, token, domain="bot.example.org", path="/dashboard")
    assert web.get("/dashboard/c/MOSHI/", follow_redirects=False).status_code == 303


def test_exports_download_and_parse_back(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator", name="Fac")
    add_member("+255712000001", name="Asha")
    login(web, db)
    rows = list(csv.DictReader(io.StringIO(web.get("/dashboard/c/MOSHI/export/members.csv").text)))
    assert {r["name"] for r in rows} == {"Fac", "Asha"}
    assert {r["name"] for r in json.loads(web.get("/dashboard/c/MOSHI/export/members.json").text)} == {"Fac", "Asha"}
    book = load_workbook(io.BytesIO(web.get("/dashboard/c/MOSHI/export/all.xlsx").content))
    assert "members" in book.sheetnames and book["members"].max_row == 3
    assert web.get("/dashboard/c/MOSHI/export/nothing.csv").status_code == 404


def test_savings_ledgers_only_for_the_treasurer(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    login(web, db)
    assert "shown to the treasurer" in web.get("/dashboard/c/MOSHI/savings").text


def test_pages_render_whatever_domains_exist(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    login(web, db)
    for slug in ("events", "purchases", "savings", "polls", "outbox"):
        r = web.get(f"/dashboard/c/MOSHI/{slug}")
        assert r.status_code == 200, slug
        assert len(r.content) < 30_000


def test_poll_charts_show_distribution_and_trend(web, db, cluster, add_member, monkeypatch):
    data = [{"title": "Training needs", "questions": [{"text": "Was the workshop useful?",
                                                      "options": ["Yes", "Somewhat", "No"],
                                                      "rounds": [{"label": "Round 1", "counts": [4, 3, 3]},
                                                                 {"label": "Round 2", "counts": [7, 2, 1]}]}]}]
    monkeypatch.setattr(bot.dashboard, "poll_data", lambda session, cluster: data)
    add_member(FAC, admin_role="facilitator")
    login(web, db)
    text = web.get("/dashboard/c/MOSHI/polls").text
    assert "Was the workshop useful?" in text and 'aria-label="distribution"' in text
    assert 'aria-label="trend"' in text and "7 (70 %)" in text


def test_chart_svgs_are_small_and_escape_labels():
    svg = distribution_chart(["<b>Yes</b>", "No"], [3, 1])
    assert "&lt;b&gt;" in svg and "3 (75 %)" in svg and "1 (25 %)" in svg
    trend = trend_chart(["Yes", "No"], [{"label": "R1", "counts": [1, 1]}, {"label": "R2", "counts": [3, 1]}])
    assert trend.count("<polyline") == 2 and len(trend) < 2000
    assert distribution_chart(["A"], [0]).count("<rect") == 1


def test_pending_members_are_listed_first(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator", name="Fac")
    add_member("+255712000001", name="Amani")
    add_member("+255712000004", status="pending", name="Zed")
    login(web, db)
    text = web.get("/dashboard/c/MOSHI/members").text
    assert text.index("Zed") < text.index("Amani")
    with session_scope(db) as s:
        assert len(s.exec(select(Member)).all()) == 3


# ---------------------------------------------------------------- language, escaping, plurals
SLUGS = ("", "members", "events", "purchases", "savings", "polls", "outbox")


def test_pages_are_in_the_facilitators_own_language(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator", language="sw")
    add_member("+255712000004", status="pending", name="Neema")
    login(web, db)
    page = web.get("/dashboard/c/MOSHI/")
    assert '<html lang="sw">' in page.text
    assert "Wanachama waliojitolea" in page.text and "Committed members" not in page.text
    assert "<h1>Muhtasari</h1>" in page.text and "Overview" not in page.text
    members = web.get("/dashboard/c/MOSHI/members").text
    assert "anasubiri idhini" in members and "Idhinisha" in members and "Approve" not in members
    for slug in SLUGS:
        assert "Log out" not in web.get(f"/dashboard/c/MOSHI/{slug}").text, slug


def test_switching_language_keeps_to_our_pages_and_refuses_unknown_codes(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    login(web, db)
    csrf = csrf_of(web.get("/dashboard/c/MOSHI/members").text)
    r = web.post("/dashboard/language", data={"lang": "fr", "csrf": csrf, "next": "/dashboard/c/MOSHI/members"},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/c/MOSHI/members"
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    page = web.get("/dashboard/c/MOSHI/").text
    assert '<html lang="fr">' in page and "Membres engagés" in page and "Committed members" not in page

    refused = web.post("/dashboard/language", data={"lang": "xx", "csrf": csrf, "next": "/dashboard"})
    assert refused.status_code == 400 and "Cette langue n'est pas disponible" in refused.text
    assert web.post("/dashboard/language", data={"lang": "sw", "csrf": "f" * 32}).status_code == 403
    assert web.post("/dashboard/language", data={"lang": "sw", "csrf": csrf},
                    headers={"Origin": "https://evil.example"}).status_code == 403
    assert "Membres engagés" in web.get("/dashboard/c/MOSHI/").text  # nothing refused changed the language
    for target in ("https://evil.example/x", "//evil.example/x", "/elsewhere", "/\\evil.example"):
        r = web.post("/dashboard/language", data={"lang": "am", "csrf": csrf, "next": target},
                     follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dashboard", target

    assert web.post("/dashboard/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert "enter your phone number" in web.get("/dashboard").text  # the choice ended with the session


def test_language_on_the_login_page_needs_no_session(web, db, cluster, add_member):
    r = web.post("/dashboard/language", data={"lang": "sw", "next": "/dashboard"}, follow_redirects=False)
    assert r.status_code == 303
    page = web.get("/dashboard").text
    assert "Kuingia kwenye dashibodi" in page and "enter your phone number" not in page
    assert 'name="lang" value="en"' in page and "<b>Kiswahili</b>" in page


def test_names_are_escaped_on_every_page_that_shows_them(web, db, cluster, add_member):
    evil = '<script>alert("x")</script>'
    add_member(FAC, admin_role="facilitator", name=evil)
    pending = add_member("+255712000004", status="pending", name=evil + "&")
    login(web, db)
    pages = [web.get(f"/dashboard/c/MOSHI/{slug}").text for slug in SLUGS]
    csrf = csrf_of(pages[0])
    pages.append(web.post(f"/dashboard/c/MOSHI/members/{pending.number}/approve", data={"csrf": csrf}).text)
    pages.append(web.get("/dashboard/c/MOSHI/members?q=" + evil).text)
    for text in pages:
        assert "<script" not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "is now an active member" in pages[-2] and "&lt;/script&gt;&amp;" in pages[-2]


def test_the_notice_after_a_decision_is_worded_by_us_not_by_the_link(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    neema = add_member("+255712000004", name="Neema")
    login(web, db)
    page = web.get(f"/dashboard/c/MOSHI/members?done=approved&number={neema.number}").text
    assert f"{neema.number} Neema is now an active member." in page
    crafted = web.get("/dashboard/c/MOSHI/members?done=Call+0712+to+verify&number=MOSHI-001").text
    assert "Call 0712" not in crafted and 'class="flash"' not in crafted


@pytest.mark.parametrize("lang, expected", [
    ("en", ["0 active members", "1 active member", "2 active members", "5 active members"]),
    ("sw", ["wanachama kamili 0", "mwanachama kamili 1", "wanachama kamili 2", "wanachama kamili 5"]),
    ("fr", ["0 membre actif", "1 membre actif", "2 membres actifs", "5 membres actifs"]),
    ("am", ["0 ንቁ አባል", "1 ንቁ አባል", "2 ንቁ አባላት", "5 ንቁ አባላት"]),
])
def test_counted_phrases_take_the_plural_of_the_language(lang, expected):
    macros = environment(lang).get_template("macros.html").module
    assert [str(macros.counted("active", n, Formats(lang))) for n in (0, 1, 2, 5)] == expected


def test_one_member_is_not_one_members(web, db, cluster, add_member):
    add_member(FAC, admin_role="facilitator")
    add_member("+255712000004", status="pending")
    login(web, db)
    text = web.get("/dashboard/c/MOSHI/").text
    assert "1 member waiting for approval" in text and "1 members" not in text
    assert "1 active member," in text
