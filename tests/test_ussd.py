"""USSD menus over HTTP as Africa's Talking calls them: keyed callbacks, CON/END screens of at most 160
plain GSM-7 characters, menus by role, whole journeys in four languages, retries acting once, the
session's place in the database, receipts by SMS, and the end-of-session notification."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from bot import i18n, sms
from bot.app import create_app
from bot.channels import ussd
from bot.handlers import menu
from bot.scheduler import run_due
from storage import events as event_store
from storage import polls as poll_store
from storage import purchases as purchase_store
from storage import savings as savings_store
from storage.clusters import Cluster
from storage.db import session_scope, utcnow
from storage.events import Invitation
from storage.members import Identity, Member
from storage.messages import InboundMessage
from storage.polls import PollRecipient, PollResponse
from storage.purchases import Pledge
from storage.ussd import UssdSession
from tests.conftest import with_settings
from tests.fakes.africastalking import KEY, SERVICE
from tests.test_africastalking import post_sms

pytest_plugins = ("tests.fakes.fixtures", "tests.fakes.africastalking_fixtures")

ASHA, FAC, TREASURER, STRANGER = "+255712000001", "+255712000009", "+255712000008", "+255712000077"
_sessions = itertools.count(1)


def post_ussd(client, session_id: str, number: str, text: str, *, key: str | None = KEY):
    form = {"sessionId": session_id, "serviceCode": SERVICE, "phoneNumber": number, "networkCode": "63902",
            "text": text}
    return client.post("/webhooks/africastalking/ussd" + (f"?key={key}" if key is not None else ""), data=form)


class Handset:
    """A phone dialling the service code: each answer is sent with every earlier one, as gateways do."""

    def __init__(self, client, number: str):
        self.client, self.number = client, number
        self.session_id, self.answers, self.screens = "", [], []

    def dial(self) -> str:
        self.session_id, self.answers = f"ATUid_{next(_sessions):06d}", []
        return self._post()

    def answer(self, *texts: str) -> str:
        screen = ""
        for text in texts:
            self.answers.append(text)
            screen = self._post()
        return screen

    def _post(self) -> str:  # noqa
        r = post_ussd(self.client, self.session_id, self.number, "*".join(self.answers))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        screen = r.text
        assert screen.startswith(("CON ", "END ")), screen
        body = screen[4:]
        assert len(body) <= 160 and all(ch in sms.GSM7_BASIC for ch in body), screen
        self.screens.append(screen)
        import os
        if os.environ.get('PEEK'):
            print(repr(screen))
        return screen


@pytest.fixture
def handset(at_client):
    return lambda number: Handset(at_client, number)


def count(db, model) -> int:
    with session_scope(db) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def line_of(screen: str, words: str) -> str:
    """The number of the menu line that says `words`."""
    for line in screen[4:].split("\n"):
        number, _, label = line.partition(" ")
        if number.isdecimal() and words.lower() in label.lower():
            return number
    raise AssertionError(f"no line {words!r} in {screen!r}")


# ---------------------------------------------------------------- the callback

@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_a_ussd_request_without_the_right_key_is_refused_and_nothing_recorded(at_client, db, cluster, key):
    before = (count(db, InboundMessage), count(db, UssdSession))
    assert post_ussd(at_client, "ATUid_x", ASHA, "", key=key).status_code == 403
    assert (count(db, InboundMessage), count(db, UssdSession)) == before


def test_a_ussd_request_without_a_session_or_phone_is_refused(at_client, db, cluster):
    r = at_client.post(f"/webhooks/africastalking/ussd?key={KEY}", data={"phoneNumber": ASHA, "text": ""})
    assert r.status_code == 400
    assert count(db, UssdSession) == 0


# ---------------------------------------------------------------- menus by role

def test_an_active_member_sees_the_member_menu_in_their_language(handset, add_member, cluster):
    add_member(ASHA, language="sw")
    screen = handset(ASHA).dial()
    assert screen.startswith("CON Moshi Tailors")
    assert "\n1 Salio na mkopo\n" in screen and "\n4 Matukio\n" in screen


def test_a_stranger_is_offered_registration_and_registers_one_question_a_screen(handset, db, cluster):
    phone = handset(STRANGER)
    screen = phone.dial()
    assert screen.startswith("CON ")
    screen = phone.answer(line_of(screen, "Register"))
    assert screen.startswith("CON ")
    for answer in ("Neema Mushi", "Neema Designs", "tailoring", "Moshi", "1", "1"):
        screen = phone.answer(answer)
        assert screen.startswith("CON "), screen
    screen = phone.answer("2")  # Kiswahili
    assert screen.startswith("END "), screen
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.phone == STRANGER)).one()
        assert (member.name, member.status, member.language) == ("Neema Mushi", "pending", "sw")


def test_balance_runs_bal_and_ends(handset, add_member, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    screen = phone.dial()
    screen = phone.answer(line_of(screen, "Balance"))
    assert screen == "END Your savings: TSh0. No loan."


# ---------------------------------------------------------------- deposits, confirmed by the treasurer by SMS

def test_a_deposit_reported_by_ussd_waits_for_the_treasurer_and_is_sent_by_sms(
        handset, add_member, db, at_cluster, dispatcher, fake_at):
    asha = add_member(ASHA)
    add_member(TREASURER, admin_role="treasurer", name="Tina Treasurer")
    phone = handset(ASHA)
    screen = phone.dial()
    screen = phone.answer(line_of(screen, "Report a deposit"))
    assert "How much" in screen
    assert "amount in figures" in phone.answer("five thousand")  # re-asked, nothing recorded
    assert "reference" in phone.answer("5000").lower()
    screen = phone.answer("QK12AB")
    assert screen.startswith("CON ") and "TSh5,000" in screen and "QK12AB" in screen
    screen = phone.answer("1")
    assert screen == "END Deposit of TSh5,000 noted. The treasurer will confirm it and tell you."
    with session_scope(db) as s:
        [request] = savings_store.pending_requests(s, s.get(Cluster, at_cluster.id))
        assert (request.member_id, request.amount_minor, request.reference) == (asha.id, 500000, "QK12AB")
    dispatcher.drain()
    to_asha = [m["message"] for m in fake_at.messages if m["to"] == ASHA]
    assert to_asha == ["Deposit of TSh5,000 noted. The treasurer will confirm it and tell you."]
    to_treasurer = [m["message"] for m in fake_at.messages if m["to"] == TREASURER]
    assert len(to_treasurer) == 1 and f"CONFIRM {request.id}" in to_treasurer[0]


def test_a_deposit_answered_no_records_nothing_and_sends_nothing(handset, add_member, db, at_cluster, dispatcher,
                                                                   fake_at):
    add_member(ASHA)
    phone = handset(ASHA)
    screen = phone.dial()
    phone.answer(line_of(screen, "Report a deposit"), "5000", "1")
    assert phone.answer("2") == "END Nothing was recorded."
    with session_scope(db) as s:
        assert savings_store.pending_requests(s, s.get(Cluster, at_cluster.id)) == []
    dispatcher.drain()
    assert [m for m in fake_at.messages if m["to"] == ASHA] == []


def test_a_gateway_retry_gets_the_same_screen_and_acts_once(at_client, handset, add_member, db, at_cluster):
    add_member(ASHA)
    add_member(TREASURER, admin_role="treasurer")
    phone = handset(ASHA)
    screen = phone.dial()
    phone.answer(line_of(screen, "Report a deposit"), "5000", "1")
    last = phone.answer("1")
    again = post_ussd(at_client, phone.session_id, ASHA, "*".join(phone.answers))
    assert again.text == last
    with session_scope(db) as s:
        assert len(savings_store.pending_requests(s, s.get(Cluster, at_cluster.id))) == 1
        row = s.exec(select(UssdSession).where(UssdSession.session_id == phone.session_id)).one()
        assert row.ended and row.answers == 4 and row.screen == last


def test_the_treasurer_confirms_a_ussd_deposit_by_sms(handset, add_member, db, at_cluster, dispatcher, fake_at,
                                                      at_client):
    add_member(ASHA)
    add_member(TREASURER, admin_role="treasurer")
    phone = handset(ASHA)
    screen = phone.dial()
    phone.answer(line_of(screen, "Report a deposit"), "5000", "QK12AB", "1")
    with session_scope(db) as s:
        [request] = savings_store.pending_requests(s, s.get(Cluster, at_cluster.id))
    post_sms(at_client, TREASURER, f"CONFIRM {request.id}", key=KEY)
    dispatcher.drain()
    with session_scope(db) as s:
        assert s.get(savings_store.Request, request.id).status == "confirmed"
    phone.dial()
    screen = phone.answer("1")
    assert screen == "END Your savings: TSh5,000. No loan."


# ---------------------------------------------------------------- navigation

def test_zero_goes_back_and_double_zero_home(handset, add_member, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    main = phone.dial()
    terms = phone.answer(line_of(main, "Definitions"))
    assert terms.startswith("CON Definitions")
    assert phone.answer("0") == main
    phone.answer(line_of(main, "Report a deposit"))
    assert phone.answer("0") == main  # at a form's first question: back to the menu it came from
    phone.answer(line_of(main, "Report a deposit"), "5000")
    assert "How much" in phone.answer("0")  # inside the form: the question before
    assert phone.answer("00") == main


def test_a_wrong_number_says_what_is_expected(handset, add_member, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    phone.dial()
    screen = phone.answer("42")
    assert screen.startswith("CON Choose a number from 1 to")


def test_98_pages_the_main_menu(handset, add_member, cluster):
    add_member(FAC, admin_role="facilitator")
    phone = handset(FAC)
    first = phone.dial()
    second = phone.answer("98")
    assert second != first and second.startswith("CON ")
    numbers = [int(line.split(" ")[0]) for line in second[4:].split("\n")[1:] if line[0].isdigit()
               and not line.startswith("98") and not line.startswith("0 ")]
    assert numbers and min(numbers) > 1  # numbering runs on from the first page
    assert "Registrations to approve" in second or "Registrations to approve" in first


# ---------------------------------------------------------------- the end-of-session notification

def test_the_end_of_session_notification_records_its_cost(at_client, handset, add_member, db, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    phone.dial()
    form = {"sessionId": phone.session_id, "serviceCode": SERVICE, "networkCode": "63902", "phoneNumber": ASHA,
            "status": "Success", "cost": "TZS 0.0000", "durationInMillis": "12045", "hopsCount": "3",
            "input": "1", "lastAppResponse": "END ...", "errorMessage": ""}
    assert at_client.post(f"/webhooks/africastalking/ussd/end?key={KEY}", data=form).status_code == 200
    assert at_client.post("/webhooks/africastalking/ussd/end?key=bad", data=form).status_code == 403
    with session_scope(db) as s:
        row = s.exec(select(UssdSession).where(UssdSession.session_id == phone.session_id)).one()
        assert (row.status, row.cost, row.duration_ms, row.hops, row.ended) == ("Success", "TZS 0.0000", 12045, 3,
                                                                                 True)



# ---------------------------------------------------------------- whole journeys in four languages

LANGS = ("en", "sw", "fr", "am")


def label(lang: str, key: str) -> str:
    return ussd.plain(i18n.translate(lang, menu.LABELS[key]))


def said(lang: str, msgid: str, **values) -> str:
    return ussd.plain(i18n.translate(lang, msgid, region="TZ", tz="Africa/Dar_es_Salaam", **values))


@pytest.fixture
def world(db, at_cluster, add_member):
    """A treasurer, an event with invitations out, a purchase offered and a poll round asked, in one cluster;
    the member is added per language by the test."""
    fac = add_member(FAC, admin_role="facilitator", name="Fatuma Facil")
    add_member(TREASURER, admin_role="treasurer", name="Tumaini Treasurer")

    def with_member(lang: str) -> dict:
        member = add_member(ASHA, language=lang, name="Asha Mushi")
        now = utcnow()
        with session_scope(db) as s:
            c = s.get(Cluster, at_cluster.id)
            event = event_store.create_event(s, c, title="Coffee training", starts_at=now + timedelta(days=7),
                                             now=now, place="Moshi hall", capacity=10,
                                             created_by=s.get(Member, fac.id))
            event_store.publish(s, event.id, c, now)
            bag = purchase_store.QTY_SCALE
            p = purchase_store.create_purchase(s, c, item="Fertiliser", unit="bag", units="bags",
                                               unit_price=60_000 * 100, individual_price=75_000 * 100,
                                               minimum=5 * bag, deadline=now + timedelta(days=5), now=now,
                                               created_by=s.get(Member, fac.id))
            purchase_store.offer(s, p, [s.get(Member, member.id)], now)
            poll = poll_store.create_poll(s, c, poll_store.load_template("satisfaction"), created_by=fac.number)
            rnd = poll_store.open_round(s, poll, c, 1, now, now)
            for recipient in s.exec(select(PollRecipient).where(PollRecipient.round_id == rnd.id)):
                recipient.sent_at = now
                s.add(recipient)
            return {"member": member.id, "event": event.id, "purchase": p.id, "round": rnd.id}

    return with_member


@pytest.mark.parametrize("lang", LANGS)
def test_a_member_reports_a_deposit_answers_an_invitation_pledges_and_answers_the_poll_by_ussd(
        handset, world, db, lang, dispatcher, fake_at, at_client):
    ids = world(lang)
    phone = handset(ASHA)
    main = phone.dial()
    assert main.startswith("CON Moshi Tailors")

    # a deposit, confirmed on the last screen, noted and sent by SMS
    phone.answer(line_of(main, label(lang, "deposit")), "5000", "QK12AB")
    noted = said(lang, "Deposit of {amount} noted. The treasurer will confirm it and tell you.",
                 amount=i18n.Money(500000, "TZS"))
    assert phone.answer("1") == "END " + noted
    with session_scope(db) as s:
        [request] = s.exec(select(savings_store.Request).where(savings_store.Request.member_id == ids["member"]))
        assert (request.amount_minor, request.reference, request.status) == (500000, "QK12AB", "pending")
    # the treasurer confirms it by SMS through Africa's Talking; the balance by USSD shows it
    assert post_sms(at_client, TREASURER, f"CONFIRM {request.id}", key=KEY).status_code == 200
    with session_scope(db) as s:
        assert s.get(savings_store.Request, request.id).status == "confirmed"
    balance = phone.answer(line_of(phone.dial(), label(lang, "balance")))
    assert balance.startswith("END ") and ussd.plain(i18n.format_money(500000, "TZS", lang, "TZ")) in balance

    # an invitation answered
    main = phone.dial()
    events_screen = phone.answer(line_of(main, label(lang, "events")))
    assert "Coffee training" in events_screen
    answers = phone.answer(line_of(events_screen, "Coffee training"))
    assert answers.startswith("CON Coffee training")
    assert phone.answer(line_of(answers, label(lang, "yes"))).startswith("END ")
    with session_scope(db) as s:
        invitation = s.exec(select(Invitation).where(Invitation.event_id == ids["event"],
                                                     Invitation.member_id == ids["member"])).one()
        assert invitation.state == "yes"

    # a pledge: the amount due is on the screen and sent by SMS
    main = phone.dial()
    offers = phone.answer(line_of(main, label(lang, "purchases")))
    question = phone.answer(line_of(offers, "Fertiliser"))
    assert question.startswith("CON Fertiliser")
    assert phone.answer("3").startswith("END ")
    with session_scope(db) as s:
        pledge = s.exec(select(Pledge).where(Pledge.purchase_id == ids["purchase"])).one()
        assert pledge.quantity == 3 * purchase_store.QTY_SCALE

    # the poll's first question, answered with a score
    main = phone.dial()
    first = phone.answer(line_of(main, label(lang, "poll")))
    assert first.startswith("CON ")
    phone.answer("4")
    with session_scope(db) as s:
        responses = s.exec(select(PollResponse).where(PollResponse.round_id == ids["round"],
                                                      PollResponse.member_id == ids["member"])).all()
        assert [r.value for r in responses] == [4]

    dispatcher.drain()
    to_asha = [m["message"] for m in fake_at.messages if m["to"] == ASHA]
    assert len(to_asha) == 3  # the deposit noted, then confirmed, and the pledge's amount due
    assert sms.encode(to_asha[0]).segments <= 2


@pytest.mark.parametrize("lang", LANGS)
def test_a_stranger_registers_by_ussd_in_the_language_they_pick(handset, db, cluster, lang):
    phone = handset(STRANGER)
    screen = phone.dial()
    screen = phone.answer(line_of(screen, label("en", "register")))
    for answer in ("Neema Mushi", "Neema Designs", "tailoring", "Moshi", "1", "1"):
        screen = phone.answer(answer)
        assert screen.startswith("CON "), screen
    screen = phone.answer(str(LANGS.index(lang) + 1))
    assert screen.startswith("END "), screen
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.phone == STRANGER)).one()
        assert (member.status, member.language) == ("pending", lang)


# ---------------------------------------------------------------- privacy: what a session showed is personal

def test_forgetting_a_member_deletes_their_ussd_sessions(handset, add_member, db, cluster, cli_run):
    add_member(ASHA)
    phone = handset(ASHA)
    phone.answer(line_of(phone.dial(), "Balance"))  # the screen showed her savings
    with session_scope(db) as s:
        assert "savings" in s.exec(select(UssdSession.screen)).one()
    assert cli_run("member", "forget", ASHA, "--yes")[0] == 0
    assert count(db, UssdSession) == 0


def test_ussd_screens_are_erased_after_the_retention_period(handset, add_member, db, at_settings, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    phone.answer(line_of(phone.dial(), "Balance"))
    settings = with_settings(at_settings, retention_days=365)
    run_due(db, settings, utcnow() + timedelta(days=364))
    with session_scope(db) as s:
        assert s.exec(select(UssdSession.screen)).one().startswith("END Your savings")
    run_due(db, settings, utcnow() + timedelta(days=366))
    with session_scope(db) as s:
        row = s.exec(select(UssdSession)).one()
        assert (row.screen, row.state, row.answers) == ("", "{}", 1)  # the record of the session stays


# ---------------------------------------------------------------- officers' work

@pytest.mark.parametrize("lang", LANGS)
def test_the_treasurer_confirms_a_waiting_deposit_by_ussd(handset, add_member, db, at_cluster, lang, dispatcher,
                                                          fake_at):
    asha = add_member(ASHA, name="Asha Mushi")
    treasurer = add_member(TREASURER, admin_role="treasurer", language=lang)
    with session_scope(db) as s:
        request = savings_store.request_deposit(s, s.get(Cluster, at_cluster.id), s.get(Member, asha.id),
                                                5000 * 100, utcnow(), "QK12AB")
    phone = handset(TREASURER)
    main = phone.dial()
    waiting = phone.answer(line_of(main, label(lang, "requests")))
    assert f"1 {request.id} {asha.number}" in waiting
    choice = phone.answer("1")
    assert "Asha Mushi" in choice
    assert phone.answer(line_of(choice, label(lang, "confirm"))).startswith("END ")
    with session_scope(db) as s:
        assert s.get(savings_store.Request, request.id).status == "confirmed"
        assert s.get(Member, treasurer.id).admin_role == "treasurer"
    dispatcher.drain()
    assert [m for m in fake_at.messages if m["to"] == ASHA]  # the member is told, by SMS


def test_a_member_does_not_see_the_officers_menus_nor_reach_them(handset, add_member, db, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    main = phone.dial()
    assert "Deposits to confirm" not in main and "Registrations" not in phone.answer("98")
    assert phone.answer("9").startswith("CON Choose a number from 1 to 8")


def test_a_facilitator_approves_a_registration_by_ussd(handset, add_member, db, cluster):
    pending = add_member(STRANGER, status="pending", name="Neema Mushi", business="Neema Designs")
    add_member(FAC, admin_role="facilitator")
    phone = handset(FAC)
    main = phone.dial()
    if "Registrations to approve" not in main:
        main = phone.answer("98")
    waiting = phone.answer(line_of(main, "Registrations to approve"))
    assert f"{pending.number} Neema Mushi" in waiting
    choice = phone.answer("1")
    assert choice.startswith(f"CON {pending.number} Neema Mushi, Neema Designs")
    assert phone.answer(line_of(choice, "Approve")).startswith("END ")
    with session_scope(db) as s:
        assert s.get(Member, pending.id).status == "active"


def test_an_empty_officer_list_says_nothing_waits(handset, add_member, cluster):
    add_member(FAC, admin_role="facilitator")
    phone = handset(FAC)
    main = phone.dial()
    if "Registrations to approve" not in main:
        main = phone.answer("98")
    assert phone.answer(line_of(main, "Registrations to approve")) == "END Nothing is waiting for you."


# ---------------------------------------------------------------- definitions

def test_a_term_looked_up_by_ussd_and_its_more(handset, add_member, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    terms = phone.answer(line_of(phone.dial(), "Definitions"))
    assert "Term of the week" in terms
    assert phone.answer(line_of(terms, "Look a term up")).startswith("CON Which term?")
    shown = phone.answer("cluster")
    assert shown.startswith("CON Cluster: ") and shown.endswith("\n98 >") and "(MORE)" not in shown
    more = phone.answer("98")  # the next part, as MORE does by SMS
    assert more != shown and more.startswith(("CON ", "END ")) and "(MORE)" not in more


def test_the_term_of_the_week_by_ussd(handset, add_member, cluster):
    add_member(ASHA)
    phone = handset(ASHA)
    terms = phone.answer(line_of(phone.dial(), "Definitions"))
    shown = phone.answer(line_of(terms, "Term of the week"))
    assert shown.startswith(("CON ", "END ")) and ":" in shown and "Sorry" not in shown


def test_a_stranger_looks_a_term_up_without_registering(handset, db, cluster):
    phone = handset(STRANGER)
    terms = phone.answer(line_of(phone.dial(), "Definitions"))
    assert "Term of the week" not in terms
    phone.answer(line_of(terms, "Look a term up"))
    assert "luster" in phone.answer("cluster")
    with session_scope(db) as s:
        assert s.exec(select(Member).where(Member.phone == STRANGER)).first() is None


def test_screens_of_a_session_are_not_a_flood(at_settings, db, dispatcher, add_member, cluster):
    strict = with_settings(at_settings, flood_limit=2)
    add_member(ASHA)
    with TestClient(create_app(strict, db), client=("127.0.0.1", 50000)) as c:
        phone = Handset(c, ASHA)
        main = phone.dial()
        terms = phone.answer(line_of(main, "Definitions"))
        assert phone.answer("0") == main
        assert phone.answer(line_of(main, "Definitions")) == terms
        assert phone.answer("00") == main


def test_a_dial_does_not_lift_a_carrier_opt_out_of_sms(handset, add_member, db, cluster):
    add_member(ASHA)
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.address == ASHA)).one()
        identity.opted_out, identity.opt_out_reason = True, "africastalking UserInBlacklist"
        s.add(identity)
    handset(ASHA).dial()
    with session_scope(db) as s:
        assert s.exec(select(Identity.opted_out).where(Identity.address == ASHA)).one() is True


def test_a_session_belongs_to_the_phone_that_dialled_it(at_client, handset, add_member, db, cluster):
    add_member(ASHA)
    add_member(FAC, admin_role="facilitator")
    phone = handset(ASHA)
    phone.answer(line_of(phone.dial(), "Balance"))
    other = post_ussd(at_client, phone.session_id, FAC, "*".join(phone.answers))
    assert other.text == "END This is no longer there. Dial again for the menu."
    onward = post_ussd(at_client, phone.session_id, FAC, "*".join([*phone.answers, "1"]))
    assert "savings" not in onward.text and onward.text.startswith("END ")
    with session_scope(db) as s:
        row = s.exec(select(UssdSession).where(UssdSession.session_id == phone.session_id)).one()
        assert (row.phone, row.answers) == (ASHA, 1)


def test_a_long_ethiopic_name_in_a_menu_title_never_pushes_the_lines_off(handset, add_member, db, at_cluster):
    long_name = "ወይዘሮ ብርቱካን ገብረመድህን ወልደጊዮርጊስ ተክለሃይማኖት"
    asha = add_member(ASHA, name=long_name)
    add_member(TREASURER, admin_role="treasurer", language="am")
    with session_scope(db) as s:
        savings_store.request_deposit(s, s.get(Cluster, at_cluster.id), s.get(Member, asha.id), 9_999_999 * 100,
                                      utcnow(), "QK12AB")
    phone = handset(TREASURER)
    phone.dial()
    waiting = phone.answer("1")
    screen = phone.answer("1")
    assert screen.startswith("CON ") and "\n1 " in screen and "\n2 " in screen, (waiting, screen)
