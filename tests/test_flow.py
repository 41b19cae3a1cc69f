"""The one guided-conversation runner: a small flow of every kind of step, through the engine by SMS and
Telegram, and the same flow replayed from USSD-style answers joined by `*`; then registration on it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import flow, router
from bot.context import Ctx
from bot.engine import Inbound, receive
from bot.flow import Flow, Step, StepError
from bot.handlers import COMMANDS, FLOWS
from bot.handlers.registration import GENDERS, JOIN, QUESTIONS
from bot.i18n import N_
from storage.db import session_scope, utcnow
from storage.members import Identity, Member, get_or_create_identity
from storage.messages import Conversation
from tests.conftest import next_sid, say

ME = "+255712000001"
SAVED: list[dict] = []


class NotAColour(Exception):
    """Shaped like the shared parser's errors: a code, and the msgid to answer with."""

    def __init__(self, word: str):
        super().__init__(word)
        self.code = "not_a_colour"
        self.msgid = "Not a colour: {word}."
        self.kwargs = {"word": word}


def read_colour(ctx: Ctx, text: str, values: dict) -> str:
    if text.lower() not in ("red", "blue"):
        raise NotAColour(text[:10])
    values["hex"] = {"red": "#f00", "blue": "#00f"}[text.lower()]  # a derived value: BACK removes it too
    return text.lower()


def read_quantity(ctx: Ctx, text: str, values: dict) -> int:
    if not text.isdecimal() or not 1 <= int(text) <= 9:
        raise StepError("Send a number from 1 to {top}.", top=9)
    return int(text)


def summary(ctx: Ctx, values: dict) -> None:
    ctx.say(f"{values['qty']} x {values['item']}")


def finish(ctx: Ctx, values: dict) -> None:
    SAVED.append(values)
    ctx.say("Saved." if values["confirm"] == "publish" else "Dropped.")


ORDER = Flow(
    "test.order",
    steps=[
        Step("item", "What do you need?", free_text=True, max_length=20),
        Step("who", "For whom?", choices=GENDERS),
        Step("colour", "Which colour?", reader=read_colour, when=lambda v: v["who"] == "female"),
        Step("note", "Any note?", free_text=True, optional=True, default=""),
        Step("qty", "How many?", reader=read_quantity,
             next=lambda v: "reason" if v["qty"] > 5 else "confirm"),  # a branch
        Step("reason", "Why so many?", free_text=True, max_length=40),
        Step("confirm", "Send it?", choices=[("publish", N_("Publish")), ("discard", N_("Discard"))],
             preface=summary),
    ],
    finish=finish,
    keyword="ORDER",
)


@pytest.fixture
def order(monkeypatch, cluster, add_member):
    """ORDER as if a domain had registered it: a keyword, the command and the flow in the tables."""
    table = router.lookup_table()
    monkeypatch.setattr(router, "lookup_table", lambda: {**table, "order": ("ORDER", "en")})
    monkeypatch.setitem(COMMANDS, "ORDER", ORDER.command())
    monkeypatch.setitem(FLOWS, ORDER.name, ORDER)
    SAVED.clear()
    add_member(ME)
    return ORDER


def step_of(db, address: str = ME, channel: str = "sms") -> str | None:
    with session_scope(db) as s:
        identity = s.exec(select(Identity).where(Identity.channel == channel,
                                                 Identity.address == address)).one()
        conv = s.exec(select(Conversation).where(Conversation.identity_id == identity.id)).first()
        return conv.step if conv else None


def test_ask_reask_choices_skip_and_finish_by_sms(db, settings, order):
    talk = lambda text: say(db, settings, ME, text)  # noqa: E731
    assert talk("ORDER") == ["What do you need?"]
    assert talk("x" * 30) == ["Please answer in 2 to 20 characters."]
    assert talk("Fertiliser") == ["For whom? 1 Woman, 2 Man, 3 Other"]
    assert talk("7") == ["Please answer with a number from 1 to 3. For whom? 1 Woman, 2 Man, 3 Other"]
    assert talk("Mwanamke") == ["Which colour?"]  # the label in another language picks it too
    assert talk("green") == ["Not a colour: green."]  # a parser-style error, worded
    assert talk("red") == ["Any note?"]
    assert talk("ruka") == ["How many?"]  # optional: SKIP in any language leaves the default
    assert talk("SKIP") == ["This question cannot be skipped. Please answer it."]
    assert talk("0") == ["Send a number from 1 to 9."]
    assert talk("3") == ["3 x Fertiliser", "Send it? 1 Publish, 2 Discard"]  # the preface, then the question
    assert talk("publish") == ["Saved."]
    assert SAVED == [{"item": "Fertiliser", "who": "female", "colour": "red", "hex": "#f00", "note": "",
                      "qty": 3, "confirm": "publish"}]
    assert step_of(db) is None


def test_branch_and_condition(db, settings, order):
    for text in ["ORDER", "Seeds", "2", "a note", "7"]:  # a man: no colour asked; seven: a reason asked
        replies = say(db, settings, ME, text)
    assert replies == ["Why so many?"]
    say(db, settings, ME, "For the whole group")
    assert say(db, settings, ME, "2") == ["Dropped."]
    assert SAVED[-1] == {"item": "Seeds", "who": "male", "note": "a note", "qty": 7,
                         "reason": "For the whole group", "confirm": "discard"}


def test_back_undoes_the_last_answer_with_what_its_reader_derived(db, settings, order):
    talk = lambda text: say(db, settings, ME, text)  # noqa: E731
    talk("ORDER")
    assert talk("back") == ["There is no earlier question. What do you need?"]
    for text in ["Seeds", "1", "blue"]:
        talk(text)
    assert talk("RUDI") == ["Which colour?"]  # Swahili BACK: the colour and its derived hex are undone
    assert talk("retour") == ["For whom? 1 Woman, 2 Man, 3 Other"]
    assert talk("2") == ["Any note?"]  # the answer changed, so the colour is no longer asked
    for text in ["ok", "2", "1"]:
        talk(text)
    assert SAVED[-1] == {"item": "Seeds", "who": "male", "note": "ok", "qty": 2, "confirm": "publish"}


def test_free_text_steps_yield_only_to_stop_start_and_help(db, settings, order):
    say(db, settings, ME, "ORDER")
    assert say(db, settings, ME, "HELP")[0].startswith("You can send:")
    assert step_of(db) == "item"
    assert say(db, settings, ME, "PROFILE") == ["For whom? 1 Woman, 2 Man, 3 Other"]  # a free-text answer
    assert "MOSHI-" in say(db, settings, ME, "PROFILE")[0]  # at a choice step the command runs...
    assert step_of(db) == "who"  # ...and the flow waits
    assert say(db, settings, ME, "1") == ["Which colour?"]
    assert "no more" in say(db, settings, ME, "STOP")[0]
    assert step_of(db) is None


def test_a_flow_expires_after_a_day(db, settings, order):
    start = utcnow()
    say(db, settings, ME, "ORDER", now=start)
    assert "expired" in say(db, settings, ME, "Seeds", now=start + timedelta(hours=25))[0]
    assert step_of(db) is None and SAVED == []


def test_telegram_gets_buttons_and_a_press_answers(db, settings, order):
    with session_scope(db) as s:
        member = s.exec(select(Member).where(Member.phone == ME)).one()
        s.add(Identity(channel="telegram", address="4242", member_id=member.id))

    def press(text: str):
        outcome = receive(db, settings, Inbound("telegram", "4242", text, next_sid("U")))
        return [(r.text, json.loads(r.buttons) if r.buttons else []) for r in outcome.replies]

    press("/order")
    assert press("Seeds") == [("For whom?", [["Woman", "1"], ["Man", "2"], ["Other", "3"]])]
    assert press("2") == [("Any note?", [])]


def make_ctx(session, settings, lang: str = "en", address: str = ME) -> Ctx:
    identity = get_or_create_identity(session, "sms", address)
    return Ctx(session=session, settings=settings, identity=identity, member=None, cluster=None, lang=lang,
               text="", channel="ussd")


def test_replay_feeds_joined_answers_through_the_same_readers(db, settings, cluster):
    with session_scope(db) as s:
        ctx = make_ctx(s, settings)
        state, problem = flow.replay(ORDER, "Seeds*1*red*SKIP*3*1".split("*"), ctx)
        assert problem is None and state.done
        assert state.values == {"item": "Seeds", "who": "female", "colour": "red", "hex": "#f00", "note": "",
                                "qty": 3, "confirm": "publish"}
        state, problem = flow.replay(ORDER, "Seeds*9".split("*"), ctx)
        assert state.step == "who"
        assert flow.render_screen(ORDER.step(state.step), ctx, state.values, problem) == \
            "Please answer with a number from 1 to 3. For whom? 1 Woman, 2 Man, 3 Other"
        assert flow.render_screen(ORDER.step("who"), ctx) == "For whom?\n1 Woman\n2 Man\n3 Other"
        state, problem = flow.replay(ORDER, "Seeds*1*0*2".split("*"), ctx, back=("0",))  # USSD's 0 is BACK
        assert (state.step, state.values["who"], problem) == ("note", "male", None)
        assert s.exec(select(Conversation)).all() == []  # nothing stored: the next screen replays again


def test_registration_replayed_then_completed_as_a_menu_channel_would(db, settings, cluster):
    answers = ["Asha Juma", "Asha Designs", "tailoring", "Moshi", "1", "1", "2"]
    with session_scope(db) as s:
        ctx = make_ctx(s, settings)
        state, problem = flow.replay(JOIN, answers[:2] + ["🙏🙏"], ctx, {"cluster_id": cluster.id})
        assert state.step == "sector"
        assert flow.render_screen(JOIN.step("sector"), ctx, state.values, problem) == \
            "Please answer in 2 to 60 letters."
        state, problem = flow.replay(JOIN, answers, ctx, {"cluster_id": cluster.id})
        assert problem is None and state.done
        flow.complete(ctx, JOIN, state.values)
        assert ctx.replies[0].text.startswith("Asante, Asha Juma!")  # worded in the language chosen
    with session_scope(db) as s:
        member = s.exec(select(Member)).one()
        assert (member.name, member.gender, member.language, member.status) == ("Asha Juma", "female", "sw",
                                                                                 "pending")


def test_registration_by_sms_with_back_and_a_command_word_at_a_free_text_step(db, settings, cluster):
    talk = lambda text: say(db, settings, ME, text)  # noqa: E731
    assert talk("JOIN")[0].startswith("Welcome to Moshi Tailors!")
    assert talk("BAL") == ["Please finish registering first. What is your full name?"]
    assert talk("JOIN") == ["What is your full name?"]  # the keyword again resumes
    talk("Asha Juma")
    talk("Asha Desgns")
    assert talk("back") == [QUESTIONS["business"]]
    assert talk("Asha Designs") == [QUESTIONS["sector"]]
    for text in ["tailoring", "Moshi", "1", "2"]:
        talk(text)
    assert talk("kiswahili")[0].startswith("Asante")
    with session_scope(db) as s:
        member = s.exec(select(Member)).one()
        assert (member.business, member.role, member.language) == ("Asha Designs", "government", "sw")


def test_registration_on_telegram_offers_buttons_for_every_choice(db, settings, cluster):
    def send(text: str):
        outcome = receive(db, settings, Inbound("telegram", "777", text, next_sid("U")))
        return [(r.text, [value for _label, value in json.loads(r.buttons or "[]")]) for r in outcome.replies]

    [(welcome, contact)] = send("/join")
    assert "full name" in welcome and contact == ["__contact__"]
    for text in ["Asha Juma", "Asha Designs", "tailoring"]:
        send(text)
    assert send("Moshi") == [(QUESTIONS["gender"], ["1", "2", "3"])]
    assert send("1") == [(QUESTIONS["role"], ["1", "2", "3", "4"])]
    assert send("1") == [(QUESTIONS["language"], ["1", "2", "3", "4"])]
    [(done, _)] = send("3")
    assert "MOSHI-" in done and done.startswith("Merci")
    with session_scope(db) as s:
        assert s.exec(select(Member)).one().phone == ""
