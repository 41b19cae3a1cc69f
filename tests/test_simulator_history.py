"""The simulator page keeps the conversation on reload: /simulate/history gives it back from the server.

The page loads it on start (and when another phone is typed, remembered in localStorage), then polls the
inbox from `last_id`, so nothing is shown twice and nothing is lost across a reload.
"""

import pytest
from starlette.testclient import TestClient

from bot.app import STATIC, create_app
from tests.conftest import with_settings

JOIN = "JIUNGE"


@pytest.fixture
def laptop(settings, db):
    alone = with_settings(settings, twilio_account_sid="", twilio_auth_token="", simulator=True)
    with TestClient(create_app(alone, db), client=("127.0.0.1", 50000)) as c:
        yield c


def simulate(client, sender: str, text: str) -> list[str]:
    return client.post("/simulate", json={"from": sender, "text": text}).json()["replies"]


def history(client, phone: str) -> dict:
    r = client.get("/simulate/history", params={"phone": phone})
    assert r.status_code == 200
    return r.json()


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "am"])
def test_after_a_reload_the_conversation_is_shown_again_in_order(laptop, cluster, add_member, lang):
    member = add_member("+255712000002", language=lang)
    said = []
    for text in ("HELP", "PROFILE", "BAL"):
        said.append(("me", text))
        said += [("bot", reply) for reply in simulate(laptop, member.phone, text)]
    got = history(laptop, "0712 000 002")
    assert [(m["who"], m["text"]) for m in got["messages"]] == said


def test_notices_the_bot_sent_on_its_own_are_part_of_it_and_the_poll_carries_on_after_them(laptop, cluster,
                                                                                            add_member):
    fac = add_member("+255712000009", admin_role="facilitator")
    simulate(laptop, "+255712000001", JOIN)
    for answer in ["Asha Juma", "Asha Designs", "ushonaji", "Moshi", "1", "1", "2"]:
        simulate(laptop, "+255712000001", answer)
    simulate(laptop, fac.phone, "APPROVE MOSHI-002")
    got = history(laptop, "+255712000001")
    assert got["messages"][0] == {"who": "me", "text": JOIN}
    assert got["messages"][-1]["who"] == "bot" and got["messages"][-1]["text"].startswith("Karibu")
    after = laptop.get("/simulate/inbox", params={"phone": "+255712000001", "after": got["last_id"]})
    assert after.json()["messages"] == []  # the approval is not shown a second time by the poll
    officer = history(laptop, fac.phone)["messages"]
    assert any("APPROVE MOSHI-002" in m["text"] for m in officer if m["who"] == "bot")


def test_each_phone_sees_only_its_own_conversation(laptop, cluster, add_member):
    add_member("+255712000002")
    add_member("+255712000003")
    simulate(laptop, "+255712000002", "HELP")
    simulate(laptop, "+255712000003", "PROFILE")
    assert [m["text"] for m in history(laptop, "+255712000002")["messages"] if m["who"] == "me"] == ["HELP"]
    assert [m["text"] for m in history(laptop, "+255712000003")["messages"] if m["who"] == "me"] == ["PROFILE"]


def test_history_answers_like_the_rest_of_the_simulator(settings, db, laptop, cluster):
    assert laptop.get("/simulate/history", params={"phone": "not a phone"}).status_code == 400
    with TestClient(create_app(settings, db), client=("192.0.2.7", 50000)) as remote:
        assert remote.get("/simulate/history", params={"phone": "+255712000001"}).status_code == 404
    off = with_settings(settings, simulator=False)
    with TestClient(create_app(off, db), client=("127.0.0.1", 50000)) as local:
        assert local.get("/simulate/history", params={"phone": "+255712000001"}).status_code == 404


def test_the_page_restores_from_history_and_remembers_the_phone():
    page = (STATIC / "simulator.html").read_text(encoding="utf-8")
    assert "/simulate/history" in page and "localStorage" in page and "last_id" in page
