"""The done-when scenario of each feature issue (glossary, events, purchases, savings, polls, facilitator
tools), run once more in ONE cluster whose members registered by SMS, so every domain meets the others'
records, conversations and keywords. Over the signed Twilio webhook wherever the real clock allows it."""

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.channels.twilio_sms import TwilioTransport
from bot.dispatch import Dispatcher
from bot.engine import Inbound, receive
from bot.scheduler import run_due
from storage.db import session_scope, utcnow
from storage.glossary import GlossaryBallot
from storage.messages import OutboundMessage
from tests import integration_world as w
from tests.conftest import next_sid, outbox, say, sign, with_settings

pytest_plugins = ("tests.fakes.fixtures",)
FAC, TREASURER = w.FAC, w.TREASURER
M = [f"+25571200001{i}" for i in range(1, 7)]  # M[0], M[1] register by SMS in Swahili
TZ = ZoneInfo("Africa/Dar_es_Salaam")


@pytest.fixture
def crowd(db, cluster, add_member, phone):
    """A facilitator, a treasurer, two members who joined by SMS (approved by SMS) and four imported."""
    add_member(FAC, admin_role="facilitator", name="Fatuma", role="support")
    add_member(TREASURER, admin_role="treasurer", name="Tumaini")
    for number, name in ((M[0], "Asha Juma"), (M[1], "Bahati Said")):
        p = phone(number)
        assert p.last("JIUNGE").startswith("Karibu")
        for answer in (name, "Duka la nguo", "ushonaji", "Moshi", "1", "1", "2"):
            reply = p.last(answer)
        assert "MOSHI-" in reply
    for number in ("MOSHI-003", "MOSHI-004"):
        assert "active" in phone(FAC).last(f"APPROVE {number}")
    add_member(M[2], name="Chausiku", language="sw", sector="ushonaji")
    add_member(M[3], name="Dotto", language="sw", gender="male")
    add_member(M[4], name="Eva", sector="tailoring")
    add_member(M[5], name="Faraji", gender="male", sector="coffee")
    return [phone(n) for n in M]


def test_issue3_maana_klasta_and_a_local_word_adopted_by_sms(phone, db, crowd):
    reply = crowd[0].last("maana klasta")
    assert reply.startswith("Klasta: Biashara") and len(reply) <= 160
    crowd[0].last("PENDEKEZA cluster initiative = umoja")
    crowd[4].last("PROPOSE cluster initiative = mshikamano")
    opened = phone(FAC).last("VOTE OPEN cluster initiative")
    ballot = int(opened.split()[1])
    for p in crowd[:5]:  # 5 of the 8 active members: an absolute majority adopts at once
        p.last("1")
    with session_scope(db) as s:
        assert (s.get(GlossaryBallot, ballot).status, s.get(GlossaryBallot, ballot).winner) == ("adopted", "umoja")
    assert crowd[5].last("DEF cluster initiative").startswith("Cluster initiative (here: umoja): ")


def test_issue4_workshop_created_from_a_phone_answered_reminded_and_attended(phone, db, settings, crowd, cli_run):
    fac = phone(FAC)
    start = (utcnow() + timedelta(days=5)).astimezone(TZ).replace(hour=14, minute=0, second=0, microsecond=0)
    for answer in ("NEWEVENT", "Pricing workshop", "1", start.strftime("%d/%m %H:%M"), "Moshi hall", "30", "0"):
        fac.last(answer)
    assert "members" in fac.last("sector:ushonaji")
    done = fac.last("1")
    code = re.search(r"\b(\d{4})\b", done.split("code")[-1]).group(1)
    assert "published" in done and len(outbox(db, kind="invitation")) == 3  # M1, M2 and M3 sew
    assert "Pricing workshop" in crowd[0].last("NDIYO 1")
    receive(db, settings, Inbound("telegram", "4242", "", next_sid("U"), contact_phone=M[1]))
    receive(db, settings, Inbound("telegram", "4242", "YES 1", next_sid("U")))
    assert crowd[2].last("HAPANA 1").startswith("Tumepokea: hutakuja Pricing workshop")
    run_due(db, settings, start - timedelta(days=1) + timedelta(minutes=1))
    reminded = {m.address for m in outbox(db, kind="reminder")}
    assert reminded == {M[0], "4242"}
    for number in (M[0], M[1]):
        assert "Pricing workshop" in say(db, settings, number, f"NIPO 1 {code}", now=start + timedelta(minutes=15))[0]
    rows = list(csv.DictReader(io.StringIO(cli_run("export", "rsvps")[1])))
    came = {r["member_number"] for r in rows if r["attended"] == "True"}
    assert came == {"MOSHI-003", "MOSHI-004"}


def test_issue5_forty_pledges_a_deadline_that_closes_itself_and_who_paid(phone, db, settings, crowd, add_member,
                                                                          cli_run):
    for i in range(34):
        add_member(f"+2557130000{i:02d}", name=f"Farmer {i}")
    deadline = (utcnow() + timedelta(days=3)).astimezone(TZ).replace(second=0, microsecond=0)
    code, out, err = cli_run("purchase", "create", "--item", "Fertiliser", "--unit", "bag", "--units", "bags",
                             "--price", "45000", "--usual-price", "52000", "--minimum", "50",
                             "--pay-to", "M-Pesa 0712 345 678", "--deadline", deadline.strftime("%Y-%m-%d %H:%M"))
    assert code == 0, err
    pledgers = [*M, *(f"+2557130000{i:02d}" for i in range(34))]
    for number in pledgers:  # the same BUY whether the member writes English or Swahili
        reply = phone(number).last(f"{'NUNUA' if number in M[:4] else 'BUY'} 1 {1 + len(number) % 2}")
        assert "Fertiliser" in reply, reply
    run_due(db, settings, deadline.astimezone(ZoneInfo("UTC")) + timedelta(minutes=1))
    assert any("closed" in m.text for m in outbox(db, M[4]))
    assert phone(M[4]).last("PAID 1 45,000 QK7H2").endswith("Left to pay after it: TSh45,000.")  # 2 bags
    payment = re.search(r"PAYOK (\d+)", [m.text for m in outbox(db, TREASURER) if "QK7H2" in m.text][0]).group(1)
    assert "confirmed" in phone(TREASURER).last(f"PAYOK {payment}")
    summary = phone(FAC).send("PURCHASE 1")[0]
    assert "40 members" in summary and "paid TSh45,000" in summary and "saved TSh" in summary


def test_issue6_a_saccos_month_and_the_check_passes(phone, db, crowd, cli_run):
    t = phone(TREASURER)
    assert "Amana ya TSh 50,000" in crowd[0].last("AKIBA 50,000 QK12AB")  # a Swahili member, a Swahili keyword
    assert "TSh50,000" in t.last("CONFIRM 1")
    assert "TSh80,000" in t.last("DEP MOSHI-003 30000 CASH1")
    crowd[0].last("MKOPO 200000 4")
    assert "approved" in t.last("LOANYES 1")
    assert "paid out" in t.last("PAYOUT 1")
    crowd[0].last("REJESHA 52,000 MPR1")
    assert "TSh156,000" in t.last("CONFIRM 2")
    wrong = t.last("DEP MOSHI-003 3000")
    assert "reversed" in t.last(f"REVERSE {wrong.split(':')[0].split()[-1]} typed twice")
    balance = crowd[0].last("SALIO")
    assert "80,000" in balance and "156,000" in balance
    code, out, err = cli_run("savings", "check")
    assert code == 0 and "passed" in out


def test_issue7_half_yearly_survey_answered_in_swahili_with_results_and_change(phone, db, settings, crowd,
                                                                              cli_run):
    start = utcnow() - timedelta(minutes=5)
    assert cli_run("poll", "create", "satisfaction")[0] == 0
    code, out, err = cli_run("poll", "schedule", "1", "--start", start.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
                             "--every-months", "6", "--window-hours", "0", "--window-days", "1")
    assert code == 0, err
    run_due(db, settings, utcnow())
    for p, first in zip(crowd[:4], ("5", "4", "4", "2"), strict=True):  # four Swahili members
        for answer in (first, "4", "3", "4", "5", "9"):
            p.last(answer)
        assert p.last("Mafunzo zaidi").startswith("Asante")
    due2 = start + timedelta(days=183)
    run_due(db, settings, due2)
    for number in M[:2]:
        for answer in ("5", "5", "4", "4", "5", "10", "SKIP"):
            say(db, settings, number, answer, now=due2 + timedelta(hours=1))
    reply = say(db, settings, FAC, "RESULTS 1", now=due2 + timedelta(hours=2))[0]
    # round 1: 4 of 8 answered, overall 5, 4, 4, 2 (mean 3.75); round 2: 2 of 8, overall 5 and 5
    assert reply.startswith("Poll 1, round 2: 2 of 8 answered (25% -25). #1 5.0 (+1.2)")
    code, out, _ = cli_run("poll", "results", "1", "--round", "1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {("all", "all")} <= {(r["dimension"], r["group"]) for r in rows}


def test_issue8_notice_to_women_tailors_delivered_dashboard_and_workbook(phone, db, settings, crowd, client,
                                                                          fake_twilio):
    reply = phone(FAC).last("BCAST sector:ushonaji location:Moshi gender:F Warsha Ijumaa saa 4")
    assert "to 3 members" in reply
    live = with_settings(settings, twilio_api_base=fake_twilio.url)
    dispatcher = Dispatcher(db, live, [TwilioTransport(live)])
    dispatcher.drain()
    dispatcher.close()
    for message in fake_twilio.messages:
        params = {"MessageSid": message["Sid"], "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
        client.post("/webhooks/twilio/status", data=params,
                    headers={"X-Twilio-Signature": sign(params, "/webhooks/twilio/status")})
    assert phone(FAC).last("REPORT 1") == "Broadcast 1 to 3 members: 3 sent, 3 delivered, 0 failed, 0 waiting."
    with session_scope(db) as s:
        assert {m.address for m in s.exec(select(OutboundMessage).where(OutboundMessage.batch == "broadcast:1"))} \
            == set(M[:3])
    client.base_url = "https://bot.example.org"  # the dashboard's cookie is Secure
    w.login(client, db)
    overview = client.get("/dashboard/c/MOSHI/").text
    assert "Committed members" in overview and "Poll response rate" in overview
    book = load_workbook(io.BytesIO(client.get("/dashboard/c/MOSHI/export/all.xlsx").content), read_only=True)
    assert {"members", "messages", "ledger", "events"} <= set(book.sheetnames)
