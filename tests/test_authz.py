"""Authorisation matrix: every facilitator and treasurer command, and every dashboard route, by every role.

Refused means: one reply saying so, and no row of any table changed (the inbound and outbound message logs
aside, and an identity's last-seen time). Allowed means: the command runs (no refusal, no apology).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select as sa_select

from bot.context import ADMIN, FACILITATOR, TREASURER
from bot.dashboard import COOKIE, routes
from bot.handlers import COMMANDS
from storage.clusters import create_cluster
from storage.db import session_scope
from storage.models import metadata
from tests.conftest import outbox, say, with_settings

FAC, TREAS, MEMBER, PENDING, STRANGER, OTHER_FAC = (
    "+255712000009", "+255712000008", "+255712000001", "+255712000002", "+255712000007", "+255712000019")
ADMIN_COMMANDS = sorted(n for n, c in COMMANDS.items() if c.access in (FACILITATOR, TREASURER, ADMIN))
REFUSALS = ("Only a facilitator can do that.", "Only the treasurer can do that.",
            "Only a facilitator or the treasurer can do that.",
            "You are not registered. Send JOIN to register with your cluster.",
            "Your registration is waiting for a facilitator's approval. We will tell you.")
APOLOGY = "Sorry, something went wrong"
# Arguments a rightful officer would send; {member}, {pending}, {request} are filled from the world.
ARGS = {
    "APPROVE": "{pending}", "REJECT": "{pending}", "MOVE": "1 14/12 10:00", "ATTEND": "1 {member}",
    "RECEIVED": "1 {member} 5000 RCPT1", "COLLECTED": "1 {member}", "EXTEND": "1 30/12",
    "CONFIRM": "{request}", "DECLINE": "{request}", "DEP": "{member} 5000", "WITHDRAW": "{member} 100",
    "BCAST": "all Meeting on Friday at 10", "VISIT": "{member} Visited the workshop",
    "SACCOS": "", "KPI": "", "POLLS": "", "NEWEVENT": "", "NEWBUY": "", "NEWPOLL": "",
}
# Commands whose rightful use with ARGS must change something stored.
EFFECTIVE = {"APPROVE", "REJECT", "CONFIRM", "DECLINE", "DEP", "BCAST", "VISIT", "NEWEVENT",
             "NEWBUY", "NEWPOLL"}
SKIPPED_TABLES = {"inbound_messages", "outbound_messages"}


def snapshot(db, skip_cluster: int | None = None, skip_tables: frozenset = frozenset()) -> dict:
    """Every stored row, by table (message logs and last-seen times left out)."""
    found = {}
    with session_scope(db) as s:
        for table in metadata.sorted_tables:
            if table.name in SKIPPED_TABLES or table.name in skip_tables:
                continue
            cols = [c for c in table.columns if c.name not in ("last_seen_at",)]
            rows = [tuple(r) for r in s.execute(sa_select(*cols))]
            if skip_cluster is not None and "cluster_id" in table.columns:
                index = [c.name for c in cols].index("cluster_id")
                rows = [r for r in rows if r[index] != skip_cluster]
            found[table.name] = sorted(rows, key=repr)
    return found


@pytest.fixture
def world(db, settings, cluster, add_member):
    """Cluster MOSHI with a facilitator, a treasurer, an active and a pending member and a pending deposit;
    cluster ARUSHA with its own facilitator; and a stranger who never joined."""
    add_member(FAC, admin_role="facilitator", name="Fatma Facilitator")
    add_member(TREAS, admin_role="treasurer", name="Tumaini Treasurer")
    member = add_member(MEMBER, name="Asha Member")
    pending = add_member(PENDING, status="pending", name="Pili Pending")
    with session_scope(db) as s:
        other = create_cluster(s, "Arusha Coffee", "ARUSHA", language="en", currency="TZS",
                               timezone="Africa/Dar_es_Salaam", region="TZ")
    add_member(OTHER_FAC, admin_role="facilitator", cluster_obj=other, name="Omari Other")
    open_settings = with_settings(settings, flood_limit=0)
    say(db, open_settings, MEMBER, "SAVE 5000")
    request = re.search(r"CONFIRM (\d+)", outbox(db, TREAS)[-1].text).group(1)  # members see no request number
    say(db, open_settings, STRANGER, "HELP")  # the stranger's address is known from here on
    return {"member": member.number, "pending": pending.number, "request": request, "other": other,
            "settings": open_settings}


def run(db, world, phone: str, name: str) -> list[str]:
    text = f"{name} {ARGS.get(name, '1').format(**world)}".strip()
    return say(db, world["settings"], phone, text)


def rightful(name: str) -> list[str]:
    access = COMMANDS[name].access
    return {FACILITATOR: [FAC], TREASURER: [TREAS], ADMIN: [FAC, TREAS]}[access]


def test_every_admin_command_is_in_the_matrix():
    assert len(ADMIN_COMMANDS) >= 10
    assert {"APPROVE", "REJECT", "BCAST", "CONFIRM", "DECLINE", "DEP", "KPI"} <= set(ADMIN_COMMANDS)


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_refused_with_nothing_changed_for_everyone_else(db, world, name):
    wrong = [p for p in (STRANGER, PENDING, MEMBER, FAC, TREAS, OTHER_FAC)
             if p not in rightful(name) and not (p == OTHER_FAC and FAC in rightful(name))]
    for phone in wrong:
        before = snapshot(db)
        replies = run(db, world, phone, name)
        assert len(replies) == 1 and replies[0] in REFUSALS, (phone, replies)
        assert snapshot(db) == before, (phone, name)


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_a_facilitator_of_another_cluster_cannot_touch_this_one(db, world, name):
    """Where the role fits, the command runs inside their own cluster only: ours is unchanged."""
    if FAC not in rightful(name):
        pytest.skip("a treasurer-only command: refused in the matrix above")
    before = snapshot(db, skip_cluster=world["other"].id, skip_tables=frozenset({"conversations"}))
    replies = run(db, world, OTHER_FAC, name)
    assert len(replies) == 1 and not replies[0].startswith(APOLOGY)
    after = snapshot(db, skip_cluster=world["other"].id, skip_tables=frozenset({"conversations"}))
    assert after == before, name


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
def test_allowed_for_the_right_role(db, world, name):
    phone = rightful(name)[-1 if name in ("CONFIRM", "DECLINE") else 0]  # the treasurer confirms deposits
    before = snapshot(db)
    replies = run(db, world, phone, name)
    assert replies and all(r not in REFUSALS and not r.startswith(APOLOGY) for r in replies), replies
    if name in EFFECTIVE:
        assert snapshot(db) != before, (name, replies)


# ---------------------------------------------------------------- the dashboard

def login(web, db, phone: str) -> bool:
    web.cookies.clear()
    before = len(outbox(db, phone))
    web.post("/dashboard/login", data={"phone": phone})
    sent = outbox(db, phone)[before:]
    if not sent:
        return False
    code = re.search(r"\b(\d{6})\b", sent[-1].text).group(1)
    return web.post("/dashboard/verify", data={"phone": phone, "code": code},
                    follow_redirects=False).status_code == 303


def cluster_pages(settings, db, code: str) -> list[str]:
    paths = []
    for route in routes(settings, db):
        if "{code}" not in route.path or "POST" in (route.methods or ()):
            continue
        paths.append(route.path.replace("{code}", code).replace("{kind}", "members").replace("{fmt}", "csv"))
    return paths


def csrf(web, code: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', web.get(f"/dashboard/c/{code}/members").text).group(1)


def test_dashboard_logins_only_for_active_officers(web, db, world):
    for phone in (STRANGER, PENDING, MEMBER):
        assert not login(web, db, phone), phone
    for phone in (FAC, TREAS, OTHER_FAC):
        assert login(web, db, phone), phone


def test_dashboard_pages_need_a_session(web, db, world, settings):
    web.cookies.set(COOKIE, "forged-" + "0" * 40, domain="bot.example.org", path="/dashboard")
    for path in cluster_pages(settings, db, "MOSHI"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dashboard", path
    before = snapshot(db)
    r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/approve", data={"csrf": "0" * 64},
                 follow_redirects=False)
    assert r.status_code == 403 and snapshot(db) == before


def test_dashboard_of_another_cluster_is_refused(web, db, world, settings):
    assert login(web, db, OTHER_FAC)
    for path in cluster_pages(settings, db, "MOSHI"):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 403, path
        assert "Pili Pending" not in r.text and "Asha Member" not in r.text
    token = csrf(web, "ARUSHA")
    before = snapshot(db)
    for verb in ("approve", "reject"):
        r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/{verb}", data={"csrf": token},
                     follow_redirects=False)
        assert r.status_code == 403
    assert snapshot(db) == before


def test_dashboard_treasurer_reads_but_only_a_facilitator_decides(web, db, world, settings):
    assert login(web, db, TREAS)
    for path in cluster_pages(settings, db, "MOSHI"):
        assert web.get(path, follow_redirects=False).status_code == 200, path
    before = snapshot(db)
    r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/approve", data={"csrf": csrf(web, "MOSHI")},
                 follow_redirects=False)
    assert r.status_code == 403 and snapshot(db) == before
    assert login(web, db, FAC)
    r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/approve", data={"csrf": csrf(web, "MOSHI")},
                 follow_redirects=False)
    assert r.status_code == 303 and snapshot(db) != before


def test_dashboard_posts_without_the_csrf_token_change_nothing(web, db, world):
    assert login(web, db, FAC)
    before = snapshot(db)
    for data in ({}, {"csrf": "0" * 64}):
        r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/approve", data=data, follow_redirects=False)
        assert r.status_code == 403
    r = web.post(f"/dashboard/c/MOSHI/members/{world['pending']}/approve", data={"csrf": csrf(web, "MOSHI")},
                 headers={"Origin": "https://evil.example.com"}, follow_redirects=False)
    assert r.status_code == 403
    assert snapshot(db) == before
