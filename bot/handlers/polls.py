"""Polls by message: members answer one question per message; facilitators create polls and read results.

A member's poll lives in their conversation (flow "polls"). All its steps take any text, so the step
handler itself decides: a valid answer is recorded; otherwise a command keyword (BAL, EVENTS) runs and
the poll waits for the next message; otherwise the question is asked again with the valid range. When a
question falls due while the member is in another conversation, they get a note to reply POLL instead,
and POLL resumes their pending questions at any time.

A facilitator creates a poll with NEWPOLL, a flow (bot/flow.py): a template or a title, then each
question's kind, text and options until 0, then the audience, the schedule and a confirmation.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot import flow, i18n, parse, router, sms
from bot.context import ACTIVE, FACILITATOR, Command, Ctx
from bot.context import Flow as StepHandler
from bot.flow import Flow, Step, StepError
from bot.i18n import N_, NP_
from bot.parse import ParseError
from storage import polls as store
from storage.clusters import Cluster
from storage.polls import Poll, PollError, PollQuestion, PollRecipient, PollRound, Schedule

FLOW = "polls"
CREATE = "polls.create"
SEND_LIMIT = 500

QUESTION_FORMS = {
    "rating": N_("{number}/{total} {question} Reply 1 (low) to 5 (high)."),
    "score": N_("{number}/{total} {question} Reply 0 (not at all) to 10 (very much)."),
    "yesno": N_("{number}/{total} {question} Reply 1 Yes, 2 No."),
    "choice": N_("{number}/{total} {question} {options}"),
    "text": N_("{number}/{total} {question} Reply in a few words."),
}
BUTTON_FORM = N_("{number}/{total} {question}")
SKIP_HINT = N_("Or SKIP.")
YES, NO = N_("Yes"), N_("No")
YES_WORDS = ("yes", "y", "ndiyo", "ndio", "oui", "o", "አዎ")
NO_WORDS = ("no", "n", "hapana", "non", "አይ", "አይደለም")
KIND_CHOICES = ("rating", "yesno", "choice", "score", "text")
STATUS_LABELS = {"draft": N_("draft"), "scheduled": N_("scheduled"), "done": N_("done"),
                 "cancelled": N_("cancelled")}
DEFAULT_SCHEDULE = dict(remind_days=3, close_days=7, window_hours=2, window_days=3)

DONE = "done"  # the kind step's answer when the poll has all its questions
TITLE_LIMIT = 80
RANGE = N_("Please answer with a number from {low} to {high}.")
LENGTH = N_("Please send 2 to {limit} characters.")
BAD_WHEN = N_("Please send a future date, a time and the months between rounds, e.g. 1/7 18:00 6")
# The parser's own reply where it says more than BAD_WHEN: the date or the hour itself is wrong.
PRECISE_WHEN = frozenset({"no_such_day", "weekday", "ambiguous_time"})
CONFIRM = [("ok", N_("OK")), ("cancel", N_("Cancel"))]

# Refusals by code, from the poll rules (storage.polls) and this module's readers.
ERRORS = {
    "no_questions": N_("A poll needs at least one question."),
    "options": N_("A question needs 2 to 10 options. Send them separated by commas."),
    "too_long": N_("That question is too long for one SMS with its options. Please send a shorter one."),
    "no_text": LENGTH,
    "bad_audience": N_("I could not read that audience. Send all, or e.g. sector:dairy, location:Moshi, "
                       "gender:F, role:firm."),
    "bad_start": BAD_WHEN,
    "bad_every": BAD_WHEN,
    "start_past": BAD_WHEN,
    "closed": N_("Sorry, this poll has closed; your answer was not saved."),
    "bad_text": N_("Please answer in at most {limit} characters."),
    "not_optional": N_("This question cannot be skipped. Please answer it."),
    "not_saved": N_("That poll could not be saved: a question is too long for one SMS. Use the CLI to fix it."),
}
ANSWER_ERRORS = frozenset({"closed", "bad_text"})  # an answer refused for these is not asked again


def refusal(code: str, **kwargs) -> StepError:
    """The table's reply for a code ({limit} is the answer limit unless given)."""
    return StepError(ERRORS.get(code, ERRORS["bad_start"]), **{"limit": store.TEXT_LIMIT, **kwargs})


SAMPLES = {
    "question": "How useful were the cluster's events for your business?",
    "options": "1 Dairy, 2 Coffee, 3 Tailoring, 4 Leather, 5 Other",
    "low": "1",
    "high": "10",
    "round": "12",
    "rate": "100% +100",
    "details": "#1 4.2 (+0.3)",
    "every": "tous les 24 mois",
    "answered": "12345",
}


# ---------------------------------------------------------------- wording a question


def question_message(question: PollQuestion, lang: str, total: int, channel: str,
                     region: str = "") -> tuple[str, list[tuple[str, str]]]:
    """The question as one message: numbered options on SMS, buttons (sending the same digits) on Telegram."""
    text = question.text_in(lang)
    kwargs = dict(number=question.position, total=total, question=text)
    buttons: list[tuple[str, str]] = []
    if channel == "telegram" and question.kind != "text":
        body = i18n.translate(lang, BUTTON_FORM, **kwargs)
        buttons = _buttons(question, lang)
    elif question.kind == "choice":
        kwargs["options"] = ", ".join(f"{i} {label}" for i, label in enumerate(question.options_in(lang), start=1))
        body = i18n.translate(lang, QUESTION_FORMS[question.kind], **kwargs)
    else:
        body = i18n.translate(lang, QUESTION_FORMS[question.kind], **kwargs)
    if question.optional:
        body = f"{body} {i18n.translate(lang, SKIP_HINT)}"
    return body, buttons


def _buttons(question: PollQuestion, lang: str) -> list[tuple[str, str]]:
    if question.kind == "yesno":
        return [(i18n.translate(lang, YES), "1"), (i18n.translate(lang, NO), "2")]
    if question.kind == "choice":
        return [(label, str(i)) for i, label in enumerate(question.options_in(lang), start=1)]
    low, high = question.scale
    return [(str(v), str(v)) for v in range(low, high + 1)]


def check_fits(session: Session, poll: Poll) -> None:
    """Refuse a poll whose question, with its options and hints, does not fit one SMS in some language."""
    items = store.questions(session, poll)
    for question in items:
        for lang in i18n.LANGUAGES:
            if lang not in question.texts:
                continue
            body, _ = question_message(question, lang, len(items), "sms")
            if not sms.fits(body):
                raise PollError("too_long", f"question {question.position} ({lang})")


def create_checked(session: Session, cluster: Cluster, spec: dict, created_by: str) -> Poll:
    """Create a poll and check every question fits one SMS; the caller's transaction undoes a refusal."""
    with session.begin_nested():
        poll = store.create_poll(session, cluster, spec, created_by)
        check_fits(session, poll)
    return poll


def parse_answer(question: PollQuestion, text: str) -> tuple[int | None, str] | None:
    """(value, text) from a member's reply: a digit, or a word in any language; None if unreadable."""
    if question.kind == "text":
        clean = " ".join(text.split())
        return (None, clean) if clean else None
    answer = router.fold(text).strip(" .,!")
    if answer.lstrip("-").isdecimal() and len(answer) <= 3:
        return int(answer), ""
    if question.kind == "yesno":
        if answer in YES_WORDS:
            return 1, ""
        if answer in NO_WORDS:
            return 2, ""
    if question.kind == "choice":
        for lang in i18n.LANGUAGES:
            for i, label in enumerate(question.options_in(lang), start=1):
                if router.fold(label) == answer:
                    return i, ""
    return None


# ---------------------------------------------------------------- members answering


def ask(ctx: Ctx, rnd: PollRound, question: PollQuestion) -> None:
    poll = ctx.session.get(Poll, rnd.poll_id)
    total = len(store.questions(ctx.session, poll))
    ctx.start_flow(FLOW, "answer", {"round": rnd.id, "question": question.id})
    ctx.say(*question_message(question, ctx.lang, total, ctx.channel, ctx.region))


def answer_step(ctx: Ctx) -> None:
    if ctx.conversation is None:
        return _after_expiry(ctx)
    data = ctx.data
    rnd = ctx.session.get(PollRound, data.get("round", 0))
    question = ctx.session.get(PollQuestion, data.get("question", 0))
    if rnd is None or question is None or not rnd.is_open(ctx.now):
        ctx.end_flow()
        ctx.reply(ERRORS["closed"])
        return
    found = router.match(ctx.text)
    if found and found.command == "SKIP" and not found.args:
        return _skip(ctx, rnd, question)
    parsed = parse_answer(question, ctx.text)
    if found and found.command != "SKIP" and (parsed is None or (question.kind == "text" and not found.args)):
        return _run_command(ctx, found)
    if parsed is None:
        return _ask_again(ctx, rnd, question)
    value, text = parsed
    try:
        store.record_answer(ctx.session, rnd, ctx.member, question, ctx.now, value=value, text=text)
    except PollError as exc:
        if exc.code not in ANSWER_ERRORS:
            return _ask_again(ctx, rnd, question)
        if exc.code == "closed":
            ctx.end_flow()
        ctx.reply(ERRORS[exc.code], limit=store.TEXT_LIMIT)
        return
    _advance(ctx, rnd)


def _ask_again(ctx: Ctx, rnd: PollRound, question: PollQuestion) -> None:
    low, high = question.scale
    if question.kind == "yesno":
        ctx.reply("Please answer 1 for yes or 2 for no.")
    else:
        ctx.reply(RANGE, low=low, high=high)
    ask(ctx, rnd, question)


def _skip(ctx: Ctx, rnd: PollRound, question: PollQuestion) -> None:
    try:
        store.record_answer(ctx.session, rnd, ctx.member, question, ctx.now, skipped=True)
    except PollError:
        ctx.reply(ERRORS["not_optional"])
        ask(ctx, rnd, question)
        return
    _advance(ctx, rnd)


def _advance(ctx: Ctx, rnd: PollRound) -> None:
    following = store.next_question(ctx.session, rnd, ctx.member)
    if following is not None:
        ask(ctx, rnd, following)
        return
    store.mark_finished(ctx.session, rnd, ctx.member, ctx.now)
    ctx.end_flow()
    poll = ctx.session.get(Poll, rnd.poll_id)
    ctx.reply("Thank you! Your answers to {title} are saved.", title=poll.title_in(ctx.lang))
    if store.pending_rounds(ctx.session, ctx.member, ctx.now):
        ctx.reply("Another poll is waiting for you: reply POLL to answer it.")


def _after_expiry(ctx: Ctx) -> None:
    """The engine ended an expired conversation yet still routed the message here: run it as a command."""
    found = router.match(ctx.text)
    if found is None:
        ctx.reply("Sorry, I did not understand that. Send HELP to see what you can send.")
        return
    _run_command(ctx, found)


def _run_command(ctx: Ctx, found: router.Match) -> None:
    """A command sent mid-poll runs as usual; the poll question stays open for the next message."""
    ctx.run(found.command, found.args)


def poll(ctx: Ctx) -> None:
    """POLL: resume pending questions; POLL n: go back to question n of the current round to change it."""
    try:
        return _jump(ctx, parse.ident(parse.first_word(ctx.args)[0]))
    except ParseError:
        pass  # no question number: resume the pending questions
    for rnd in store.pending_rounds(ctx.session, ctx.member, ctx.now):
        question = store.next_question(ctx.session, rnd, ctx.member)
        if question is not None:
            ask(ctx, rnd, question)
            return
        store.mark_finished(ctx.session, rnd, ctx.member, ctx.now)
    if _answerable_round(ctx) is not None:
        ctx.reply("You have answered every question. To change an answer send POLL and its number, "
                  "e.g. POLL 2.")
        return
    ctx.reply("You have no poll to answer right now.")


def _answerable_round(ctx: Ctx) -> PollRound | None:
    """The newest open round that asked this member."""
    return ctx.session.exec(select(PollRound).join(PollRecipient, PollRecipient.round_id == PollRound.id)
                            .where(PollRecipient.member_id == ctx.member.id,
                                   PollRecipient.sent_at != None,  # noqa: E711
                                   PollRound.status != "closed", PollRound.closes_at > ctx.now)
                            .order_by(PollRound.opened_at.desc(), PollRound.id.desc())).first()


def _jump(ctx: Ctx, position: int) -> None:
    rnd = _answerable_round(ctx)
    if rnd is None:
        ctx.reply("You have no poll to answer right now.")
        return
    items = store.questions(ctx.session, ctx.session.get(Poll, rnd.poll_id))
    if not 1 <= position <= len(items):
        ctx.reply(RANGE, low=1, high=len(items))
        return
    ask(ctx, rnd, items[position - 1])


def skip(ctx: Ctx) -> None:
    """SKIP outside a poll question: nothing to skip (inside one, the poll step handles it)."""
    ctx.reply("There is no question to skip. Reply POLL to see your poll questions.")


# ---------------------------------------------------------------- facilitators


def polls_list(ctx: Ctx) -> None:
    items = store.cluster_polls(ctx.session, ctx.cluster)
    if not items:
        ctx.reply("No polls yet. Send NEWPOLL to create one.")
        return
    head = ctx.t("Polls: {commands}", commands="")
    shown: list[str] = []
    for item in items:
        entry = f"{item.id} {item.title_in(ctx.lang)} ({ctx.t(STATUS_LABELS[item.status])})"
        if not sms.fits(head + "; ".join([*shown, entry])):
            break
        shown.append(entry)
    ctx.say(head + "; ".join(shown))


def results(ctx: Ctx) -> None:
    """RESULTS id [segment]: the latest round in one SMS, with the change since the round before."""
    try:
        poll_id, segment = parse.ident_and_rest(ctx.args)
    except ParseError:
        ctx.reply("Send RESULTS and a poll number, e.g. RESULTS 3, or RESULTS 3 sector:dairy.")
        return
    item = store.get_poll(ctx.session, ctx.cluster, poll_id)
    if item is None:
        ctx.reply("No poll {id} in your cluster.", id=poll_id)
        return
    rnd = store.latest_round(ctx.session, item)
    if rnd is None:
        ctx.reply("Poll {id} has not been sent yet.", id=item.id)
        return
    members = None
    if segment:
        try:
            members = store.segment_members(ctx.session, ctx.cluster, segment)
        except PollError:
            ctx.reply("I could not read that audience. Send all, or e.g. sector:dairy, location:Moshi, "
                      "gender:F, role:firm.")
            return
    current = store.round_results(ctx.session, rnd, members)
    if members is not None and current.respondents < store.MIN_GROUP:
        ctx.reply("Fewer than 5 members answered in that segment, so its results stay hidden.")
        return
    before = store.previous_round(ctx.session, rnd)
    diff = store.change(current, store.round_results(ctx.session, before, members) if before else None)
    head = ctx.t("Poll {id}, round {round}: {count} of {total} answered ({rate}). {details}", id=item.id,
                 round=rnd.number, count=current.respondents, total=current.recipients,
                 rate=_percent(current.rate, diff.get("rate")), details="")
    ctx.say(_fill(head, summary_parts(current, diff)))


def _percent(rate: float | None, delta: float | None) -> str:
    text = "-" if rate is None else f"{round(100 * rate)}%"
    return text if delta is None else f"{text} {_signed(100 * delta, 0)}"


def _signed(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}"


def summary_parts(result: store.RoundResult, diff: dict) -> list[str]:
    """Language-neutral figures per question: '#1 4.2 (+0.3)', '#6 NPS +20 (-5)'."""
    parts = []
    for q in result.questions:
        p = q.question.position
        if q.score is not None:
            delta = diff.get(f"score:{p}")
            parts.append(f"#{p} NPS {_signed(q.score, 0)}" + (f" ({_signed(delta, 0)})" if delta is not None else ""))
        elif q.mean is not None:
            value = f"{100 * q.mean:.0f}%" if q.question.kind == "yesno" else f"{q.mean:.1f}"
            delta = diff.get(f"mean:{p}")
            shown = _signed(100 * delta, 0) if delta is not None and q.question.kind == "yesno" else (
                _signed(delta) if delta is not None else "")
            parts.append(f"#{p} {value}" + (f" ({shown})" if shown else ""))
        elif q.question.kind == "choice" and q.answers:
            top = max(q.distribution, key=lambda v: (q.distribution[v], -v))
            parts.append(f"#{p} {q.question.options_in('en')[top - 1][:12]} {q.distribution[top]}")
        elif q.question.kind == "text":
            parts.append(f"#{p} {q.answers}")
    return parts


def _fill(head: str, parts: list[str]) -> str:
    """As many parts as fit one SMS after the head."""
    text = head.rstrip()
    for part in parts:
        candidate = f"{text} {part}" if text.endswith(".") else f"{text}, {part}"
        if not sms.fits(candidate) or len(sms.normalise(candidate)) > 160:
            break
        text = candidate
    return text


# ---------------------------------------------------------------- creating a poll by message

def parse_when(text: str, tz: str, now: datetime, lang: str | None = None) -> tuple[datetime, int]:
    """'2030-07-01 18:00 6', '1 July 6pm 6' or 'kesho saa 12 jioni' -> (local start, months between rounds).

    A last word of one or two figures is the months (none: 0, once); the rest is a moment as the shared
    parser reads it: a date without a year is the next one, a time alone today's or tomorrow's, the past
    refused (ParseError).
    """
    head, _space, last = parse.clean(text).rpartition(" ")
    months = 0
    if head and re.fullmatch(r"[0-9]{1,2}", last, re.ASCII):
        text, months = head, int(last)
    start = parse.moment(text, tz, now, lang)
    return start.astimezone(ZoneInfo(tz)).replace(tzinfo=None), months


def _number(ctx: Ctx, values: dict) -> dict:
    return {"number": len(values["spec"]["questions"]) + 1}


def _source(ctx: Ctx, text: str, values: dict) -> str:
    """1 or 2: a shipped questionnaire; anything else is the title of the facilitator's own poll."""
    if text in ("1", "2"):
        name = store.TEMPLATES[int(text) - 1]
        values["spec"] = store.load_template(name)
        return name
    if not 2 <= len(text) <= TITLE_LIMIT:
        raise StepError(LENGTH, limit=TITLE_LIMIT)
    values["spec"] = {"title": {ctx.lang: text}, "questions": []}
    return text


def _kind(ctx: Ctx, text: str, values: dict) -> str:
    questions = values["spec"]["questions"]
    if text == "0":
        if not questions:
            raise refusal("no_questions")
        return DONE
    if not text.isdecimal() or not 1 <= int(text) <= len(KIND_CHOICES):
        raise StepError(RANGE, low=0, high=len(KIND_CHOICES))
    return DONE if len(questions) >= store.MAX_QUESTIONS else KIND_CHOICES[int(text) - 1]


def _text(ctx: Ctx, text: str, values: dict) -> str:
    text = " ".join(text.split())
    if values["kind"] != "choice":
        _add_question(ctx, values, {"kind": values["kind"], "text": {ctx.lang: text},
                                    "optional": values["kind"] == "text"})
    return text


def _options(ctx: Ctx, text: str, values: dict) -> list[str]:
    options = [o.strip() for o in text.split(",") if o.strip()]
    if not 2 <= len(options) <= store.MAX_OPTIONS:
        raise refusal("options")
    _add_question(ctx, values, {"kind": "choice", "text": {ctx.lang: values["text"]}, "optional": False,
                                "options": {ctx.lang: options}})
    return options


def _add_question(ctx: Ctx, values: dict, question: dict) -> None:
    """Add a question the poll rules accept and that fits one SMS with its options and hints."""
    spec = values["spec"]
    position = len(spec["questions"]) + 1
    try:
        probe = store.validate_spec({"title": spec["title"], "questions": [question]})["questions"][0]
    except PollError as exc:
        raise refusal("no_text") from exc
    draft = PollQuestion(poll_id=0, position=position, key=f"q{position}", kind=probe["kind"],
                         optional=probe["optional"], texts=json.dumps(probe["text"]),
                         options=json.dumps(probe.get("options", {})))
    if not sms.fits(question_message(draft, ctx.lang, store.MAX_QUESTIONS, "sms")[0]):
        raise refusal("too_long")
    spec["questions"].append(question)


def _audience(ctx: Ctx, text: str, values: dict) -> str:
    try:
        store.segment_members(ctx.session, ctx.cluster, text)
    except PollError as exc:
        raise refusal(exc.code) from exc
    values["spec"]["audience"] = text
    return text


def _schedule(ctx: Ctx, text: str, values: dict) -> dict:
    try:
        start, months = parse_when(text, ctx.timezone, ctx.now, ctx.lang)
    except ParseError as exc:
        raise (StepError(exc.msgid) if exc.code in PRECISE_WHEN else refusal("bad_start")) from exc
    if not 0 <= months <= 24:
        raise refusal("bad_every")
    return {"start": start.isoformat(), "every": months}


def _questions(ctx: Ctx, values: dict) -> dict:
    return {"count": len(values["spec"]["questions"])}


def _summary(ctx: Ctx, values: dict) -> dict:
    every = values["schedule"]["every"]
    start = datetime.fromisoformat(values["schedule"]["start"])
    return {"title": _spec_title(values["spec"], ctx.lang)[:40], "count": len(values["spec"]["questions"]),
            "term": values["spec"].get("audience", "all")[:30], "when": store.to_utc(start, ctx.timezone),
            "every": ctx.t(NP_("every {count} month", "every {count} months"), count=every) if every
            else ctx.t(N_("once")), "low": 1, "high": len(CONFIRM)}


def _spec_title(spec: dict, lang: str) -> str:
    title = spec["title"]
    return title if isinstance(title, str) else title.get(lang) or next(iter(title.values()))


def _start(ctx: Ctx) -> dict | None:
    """NEWPOLL alone asks for a template or a title; NEWPOLL 5 copies poll 5 and asks whom and when."""
    ref = parse.first_word(ctx.args)[0]
    if not ref:
        return {}
    try:
        source = store.get_poll(ctx.session, ctx.cluster, parse.ident(ref))
    except ParseError as exc:
        if exc.code == "invalid":
            return {}  # words after NEWPOLL: the guided creation starts as usual
        source = None
    if source is None:
        ctx.reply("No poll {id} in your cluster.", id=ref[:9])
        return None
    flow.open_flow(ctx, NEWPOLL, {"spec": store.poll_spec(ctx.session, source)}, at="audience")
    return None


def _finish(ctx: Ctx, values: dict) -> None:
    if values["confirm"] == "cancel":
        ctx.reply("Cancelled; nothing was saved.")
        return
    when = values["schedule"]
    try:
        item = create_checked(ctx.session, ctx.cluster, values["spec"], ctx.member.number)
        store.schedule_poll(ctx.session, item, ctx.cluster, Schedule(datetime.fromisoformat(when["start"]),
                            when["every"], **DEFAULT_SCHEDULE), ctx.now, actor=ctx.member.number)
    except PollError:
        ctx.reply(ERRORS["not_saved"])
        return
    ctx.reply("Poll {id} is scheduled. See its results with RESULTS {id}.", id=item.id)


NEWPOLL = Flow(
    CREATE,
    steps=[
        Step("source", N_("New poll: reply 1 for the satisfaction survey, 2 for the service-interest survey, "
                          "or send the title of your own poll."), reader=_source, free_text=True,
             next=lambda v: "audience" if v["spec"]["questions"] else "kind"),
        Step("kind", N_("Question {number}: reply its type: 1 rating 1-5, 2 yes/no, 3 choice, 4 score 0-10, "
                        "5 text. Reply 0 when you have no more questions."), reader=_kind, fill=_number,
             next=lambda v: "audience" if v["kind"] == DONE else "text"),
        Step("text", N_("Send the text of question {number}."), reader=_text, fill=_number, free_text=True,
             next=lambda v: "options" if v["kind"] == "choice" else "kind"),
        Step("options", N_("Send the options separated by commas (2 to 10)."), reader=_options,
             free_text=True, next="kind"),
        Step("audience", NP_("{count} question. Who should answer? Send all, or a segment such as "
                             "sector:dairy or location:Moshi.",
                             "{count} questions. Who should answer? Send all, or a segment such as "
                             "sector:dairy or location:Moshi."), reader=_audience, fill=_questions,
             free_text=True),
        Step("schedule", N_("When? Send the date, the time and the months between rounds (0 = once), "
                            "e.g. 1/7 18:00 6"), reader=_schedule, free_text=True),
        Step("confirm", NP_("{title}: {count} question, {term}, from {when}, {every}. Reply 1 OK, 2 cancel.",
                            "{title}: {count} questions, {term}, from {when}, {every}. Reply 1 OK, 2 cancel."),
             choices=CONFIRM, listed=True, hint=RANGE, fill=_summary),
    ],
    finish=_finish,
    keyword="NEWPOLL",
    access=FACILITATOR,
    start=_start,
)


COMMANDS = [
    Command("POLL", poll, access=ACTIVE),
    Command("SKIP", skip, access=ACTIVE, help=False),
    Command("POLLS", polls_list, access=FACILITATOR),
    NEWPOLL.command(),
    Command("RESULTS", results, access=FACILITATOR),
]
FLOWS = {
    FLOW: StepHandler(answer_step, free_text=frozenset({"answer"})),
    CREATE: NEWPOLL,
}
