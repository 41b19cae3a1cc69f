"""The simulator: /simulate and the chat page answer loopback only, and show what the bot sends on its own."""

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from tests.conftest import with_settings


@pytest.fixture
def laptop(settings, db):
    """The embedded default: no provider configured, the simulator on."""
    alone = with_settings(settings, twilio_account_sid="", twilio_auth_token="", simulator=True)
    with TestClient(create_app(alone, db), client=("127.0.0.1", 50000)) as c:
        yield c


def simulate(client, sender: str, text: str):
    return client.post("/simulate", json={"from": sender, "text": text})


def test_a_whole_join_through_the_simulator_then_the_approval_arrives_in_the_inbox(laptop, cluster, add_member):
    client = laptop
    add_member("+255712000009", admin_role="facilitator")
    r = simulate(client, "0712 000 001", "JIUNGE")
    assert r.status_code == 200 and r.json()["from"] == "+255712000001"
    assert "Moshi Tailors" in r.json()["replies"][0]
    for answer in ["Asha Juma", "Asha Designs", "ushonaji", "Moshi", "1", "1", "2"]:
        replies = simulate(client, "+255712000001", answer).json()["replies"]
    assert "MOSHI-002" in replies[0]
    notice = client.get("/simulate/inbox", params={"phone": "0712000009", "after": 0}).json()["messages"]
    assert len(notice) == 1 and "APPROVE MOSHI-002" in notice[0]["text"]
    simulate(client, "+255712000009", "APPROVE MOSHI-002")
    inbox = client.get("/simulate/inbox", params={"phone": "+255712000001", "after": 0}).json()["messages"]
    assert [m["text"] for m in inbox][-1].startswith("Karibu")
    later = client.get("/simulate/inbox", params={"phone": "+255712000001", "after": inbox[-1]["id"]})
    assert later.json()["messages"] == []


def test_the_chat_page_is_served_and_bad_requests_are_explained(client, cluster):
    page = client.get("/")
    assert page.status_code == 200 and "/simulate" in page.text and "<script" in page.text
    assert simulate(client, "not a phone", "JOIN").status_code == 400
    assert client.post("/simulate", content=b"{nope").status_code == 400
    assert client.get("/simulate/inbox", params={"phone": "0712000001", "after": "x"}).status_code == 400


def test_the_simulator_answers_only_loopback_and_only_when_on(settings, db, cluster):
    with TestClient(create_app(settings, db), client=("192.0.2.7", 50000)) as remote:
        assert simulate(remote, "+255712000001", "JOIN").status_code == 404
        assert remote.get("/simulate/inbox", params={"phone": "+255712000001", "after": 0}).status_code == 404
        assert "simulator is off" in remote.get("/").text
    off = with_settings(settings, simulator=False)
    with TestClient(create_app(off, db), client=("127.0.0.1", 50000)) as local:
        assert simulate(local, "+255712000001", "JOIN").status_code == 404


def test_healthz_reports_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok"}
