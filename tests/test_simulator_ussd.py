"""The simulator's USSD mode: POST /simulate/ussd answers one screen as the gateway's callback would, under
the simulator's rules (loopback only, only when on), and the page dials the configured service code."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from storage.clusters import Cluster
from storage.db import session_scope
from storage.savings import pending_requests
from storage.ussd import UssdSession
from tests.conftest import outbox, with_settings

ASHA, TREASURER = "+255712000001", "+255712000008"


@pytest.fixture
def laptop(settings, db):
    alone = with_settings(settings, twilio_account_sid="", twilio_auth_token="", simulator=True)
    with TestClient(create_app(alone, db), client=("127.0.0.1", 50000)) as c:
        yield c


def ussd(client, session: str, text: str, phone: str = ASHA, *, form: bool = False) -> dict:
    data = {"phone": phone, "session": session, "text": text}
    r = client.post("/simulate/ussd", data=data) if form else client.post("/simulate/ussd", json=data)
    assert r.status_code == 200, r.text
    return r.json()


def line_of(screen: str, words: str) -> str:
    return next(line.split(" ")[0] for line in screen.split("\n") if words in line)


def test_a_session_dialled_answered_and_ended_through_the_simulator(laptop, db, cluster, add_member):
    add_member(ASHA)
    add_member(TREASURER, admin_role="treasurer")
    main = ussd(laptop, "s1", "")
    assert main["end"] is False and main["screen"].startswith("Moshi Tailors")
    assert not main["screen"].startswith(("CON", "END")) and "\n2 Report a deposit\n" in main["screen"]
    deposit = line_of(main["screen"], "Report a deposit")
    asked = ussd(laptop, "s1", deposit)
    assert asked["end"] is False and "How much" in asked["screen"]
    assert "reference" in ussd(laptop, "s1", f"{deposit}*5000", form=True)["screen"].lower()  # a form works too
    ussd(laptop, "s1", f"{deposit}*5000*QK12AB")
    done = ussd(laptop, "s1", f"{deposit}*5000*QK12AB*1")
    assert done == {"screen": "Deposit of TSh5,000 noted. The treasurer will confirm it and tell you.", "end": True}
    with session_scope(db) as s:
        [request] = pending_requests(s, s.get(Cluster, cluster.id))
        assert (request.amount_minor, request.reference) == (500000, "QK12AB")
        assert s.get(UssdSession, 1).session_id == "sim-s1"  # apart from the gateway's session ids
    receipt = laptop.get("/simulate/inbox", params={"phone": ASHA, "after": 0}).json()["messages"]
    assert [m["text"] for m in receipt] == [done["screen"]]  # the receipt by SMS, shown in the SMS log
    assert ussd(laptop, "s1", f"{deposit}*5000*QK12AB*1") == done  # a repeat acts once
    assert len(outbox(db, ASHA, kind="receipt")) == 1
    assert ussd(laptop, "s2", "")["screen"] == main["screen"]  # dialled again: a new session


def test_the_simulated_ussd_session_stays_out_of_the_sms_history(laptop, cluster, add_member):
    add_member(ASHA)
    laptop.post("/simulate", json={"from": ASHA, "text": "HELP"})
    before = laptop.get("/simulate/history", params={"phone": ASHA}).json()["messages"]
    ussd(laptop, "s1", "")
    ussd(laptop, "s1", "1")
    assert laptop.get("/simulate/history", params={"phone": ASHA}).json()["messages"] == before


@pytest.mark.parametrize("body", [{"session": "s1", "text": ""}, {"phone": ASHA, "text": ""},
                                  {"phone": "12", "session": "s1"}, {"phone": ASHA, "session": "a b"},
                                  {"phone": ASHA, "session": "x" * 65},
                                  {"phone": ASHA, "session": "s1", "text": "1*" * 1001}, ["phone"]])
def test_a_bad_simulated_dial_is_explained_and_nothing_recorded(laptop, db, cluster, body):
    r = laptop.post("/simulate/ussd", json=body)
    assert r.status_code == 400 and r.json()["error"]
    assert laptop.post("/simulate/ussd", content=b"{nope", headers={"Content-Type": "application/json"}
                       ).status_code == 400
    with session_scope(db) as s:
        assert s.get(UssdSession, 1) is None


def test_simulated_ussd_is_refused_when_the_simulator_is_off_or_not_local(settings, db, cluster):
    body = {"phone": ASHA, "session": "s1", "text": ""}
    off = with_settings(settings, simulator=False)
    with TestClient(create_app(off, db), client=("127.0.0.1", 50000)) as local:
        assert local.post("/simulate/ussd", json=body).status_code == 404
        assert local.post("/simulate/ussd", json=body, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    with TestClient(create_app(settings, db), client=("192.0.2.7", 50000)) as remote:
        assert remote.post("/simulate/ussd", json=body).status_code == 404
    with TestClient(create_app(settings, db), client=("127.0.0.1", 50000)) as local:
        assert local.post("/simulate/ussd", json=body, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
        with session_scope(db) as s:
            assert s.get(UssdSession, 1) is None
        assert local.post("/simulate/ussd", json=body).status_code == 200  # on, from loopback itself: answered


@pytest.mark.parametrize("code, shown", [("", "*384#"), ("*384*123#", "*384*123#"), ("<b>#", "&lt;b&gt;#")])
def test_the_page_has_a_ussd_mode_that_dials_the_service_code(settings, db, code, shown):
    with TestClient(create_app(with_settings(settings, ussd_service_code=code), db),
                    client=("127.0.0.1", 50000)) as local:
        page = local.get("/").text
    assert "/simulate/ussd" in page and f"Dial {shown}" in page and "{{" not in page
    assert "<b>#" not in page
