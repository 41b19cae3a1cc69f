"""Polls by message: members answer one question per message; facilitators create polls and read results.

A member's poll lives in their conversation (flow "polls"). All its steps take any text, so the step
handler itself decides: a valid answer is recorded; otherwise a command keyword (BAL, EVENTS) runs and
the poll waits for the next message; otherwise the question is asked again with the valid range. When a
question falls due while the member is in another conversation, they get a note to reply POLL instead,
and POLL resumes their pending questions at any time.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from bot import i18n, router, sms
from bot.context import ACTIVE, FACILITATOR, Command, Ctx, Flow
from bot.i18n import N_
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

SAMPLES = {
    "question": "How useful were the cluster's events for your business?",
    "options": "1 Dairy, 2 Coffee, 3 Tailoring, 4 Leather, 5 Other",
    "low": "1",
    "high": "10",
    "round": "12",
    "rate": "100% +100",
    "details": "#1 4.2 (+0.3)",
    "every": "6",
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
        ctx.reply("Sorry, this poll has closed; your answer was not saved.")
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
        if exc.code == "closed":
            ctx.end_flow()
            ctx.reply("Sorry, this poll has closed; your answer was not saved.")
            return
        if exc.code == "bad_text":
            ctx.reply("Please answer in at most {limit} characters.", limit=store.TEXT_LIMIT)
            return
        return _ask_again(ctx, rnd, question)
    _advance(ctx, rnd)


def _ask_again(ctx: Ctx, rnd: PollRound, question: PollQuestion) -> None:
    low, high = question.scale
    if question.kind == "yesno":
        ctx.reply("Please answer 1 for yes or 2 for no.")
    else:
        ctx.reply("Please answer with a number from {low} to {high}.", low=low, high=high)
    ask(ctx, rnd, question)


def _skip(ctx: Ctx, rnd: PollRound, question: PollQuestion) -> None:
    try:
        store.record_answer(ctx.session, rnd, ctx.member, question, ctx.now, skipped=True)
    except PollError:
        ctx.reply("This question cannot be skipped. Please answer it.")
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
    arg = router.split_first(ctx.args)[0]
    if arg.isdecimal():
        return _jump(ctx, int(arg))
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
        ctx.reply("Please answer with a number from {low} to {high}.", low=1, high=len(items))
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
    ref, segment = router.split_first(ctx.args)
    poll_id = ref.lstrip("#")
    if not poll_id.isdecimal():
        ctx.reply("Send RESULTS and a poll number, e.g. RESULTS 3, or RESULTS 3 sector:dairy.")
        return
    item = store.get_poll(ctx.session, ctx.cluster, int(poll_id))
    if item is None:
        ctx.reply("No poll {id} in your cluster.", id=poll_id[:9])
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


def new_poll(ctx: Ctx) -> None:
    """NEWPOLL: guided creation. NEWPOLL 5 copies poll 5; the conversation then asks audience and schedule."""
    arg = router.split_first(ctx.args)[0].lstrip("#")
    if arg.isdecimal():
        source = store.get_poll(ctx.session, ctx.cluster, int(arg))
        if source is None:
            ctx.reply("No poll {id} in your cluster.", id=arg[:9])
            return
        return _to_audience(ctx, store.poll_spec(ctx.session, source))
    ctx.start_flow(CREATE, "source", {})
    ctx.reply("New poll: reply 1 for the satisfaction survey, 2 for the service-interest survey, "
              "or send the title of your own poll.")


def create_step(ctx: Ctx) -> None:
    if ctx.conversation is None:
        return _after_expiry(ctx)
    step = ctx.conversation.step
    {"source": _source, "kind": _kind, "text": _text, "options": _opts, "audience": _audience,
     "schedule": _schedule, "confirm": _confirm}[step](ctx, ctx.data)


def _source(ctx: Ctx, data: dict) -> None:
    answer = ctx.text.strip()
    if answer in ("1", "2"):
        return _to_audience(ctx, store.load_template(store.TEMPLATES[int(answer) - 1]))
    if not 2 <= len(answer) <= 80:
        ctx.reply("Please send 2 to {limit} characters.", limit=80)
        return
    ctx.set_step("kind", {"spec": {"title": {ctx.lang: answer}, "questions": []}})
    _ask_kind(ctx, 1)


def _ask_kind(ctx: Ctx, number: int) -> None:
    ctx.reply("Question {number}: reply its type: 1 rating 1-5, 2 yes/no, 3 choice, 4 score 0-10, 5 text. "
              "Reply 0 when you have no more questions.", number=number)


def _kind(ctx: Ctx, data: dict) -> None:
    answer = ctx.text.strip()
    spec = data["spec"]
    if answer == "0":
        if not spec["questions"]:
            ctx.reply("A poll needs at least one question.")
            _ask_kind(ctx, 1)
            return
        return _to_audience(ctx, spec)
    if not answer.isdecimal() or not 1 <= int(answer) <= len(KIND_CHOICES):
        ctx.reply("Please answer with a number from {low} to {high}.", low=0, high=len(KIND_CHOICES))
        return
    if len(spec["questions"]) >= store.MAX_QUESTIONS:
        return _to_audience(ctx, spec)
    data["kind"] = KIND_CHOICES[int(answer) - 1]
    ctx.set_step("text", data)
    ctx.reply("Send the text of question {number}.", number=len(spec["questions"]) + 1)


def _text(ctx: Ctx, data: dict) -> None:
    text = " ".join(ctx.text.split())
    question = {"kind": data["kind"], "text": {ctx.lang: text}, "optional": data["kind"] == "text"}
    if data["kind"] == "choice":
        data["question"] = question
        ctx.set_step("options", data)
        ctx.reply("Send the options separated by commas (2 to 10).")
        return
    _add_question(ctx, data, question)


def _opts(ctx: Ctx, data: dict) -> None:
    options = [o.strip() for o in ctx.text.split(",") if o.strip()]
    if not 2 <= len(options) <= store.MAX_OPTIONS:
        ctx.reply("A question needs 2 to 10 options. Send them separated by commas.")
        return
    _add_question(ctx, data, {**data.pop("question"), "options": {ctx.lang: options}})


def _add_question(ctx: Ctx, data: dict, question: dict) -> None:
    spec = data["spec"]
    position = len(spec["questions"]) + 1
    try:
        probe = store.validate_spec({"title": spec["title"], "questions": [question]})["questions"][0]
    except PollError:
        ctx.reply("Please send 2 to {limit} characters.", limit=store.TEXT_LIMIT)
        return
    draft = PollQuestion(poll_id=0, position=position, key=f"q{position}", kind=probe["kind"],
                         optional=probe["optional"], texts=json.dumps(probe["text"]),
                         options=json.dumps(probe.get("options", {})))
    if not sms.fits(question_message(draft, ctx.lang, store.MAX_QUESTIONS, "sms")[0]):
        ctx.reply("That question is too long for one SMS with its options. Please send a shorter one.")
        data.setdefault("question", question)
        ctx.set_step("text", data)
        return
    spec["questions"].append(question)
    data.pop("kind", None)
    data.pop("question", None)
    ctx.set_step("kind", data)
    _ask_kind(ctx, position + 1)


def _to_audience(ctx: Ctx, spec: dict) -> None:
    ctx.start_flow(CREATE, "audience", {"spec": spec})
    ctx.reply("{count} questions. Who should answer? Send all, or a segment such as sector:dairy or "
              "location:Moshi.", count=len(spec["questions"]))


def _audience(ctx: Ctx, data: dict) -> None:
    try:
        store.segment_members(ctx.session, ctx.cluster, ctx.text)
    except PollError:
        ctx.reply("I could not read that audience. Send all, or e.g. sector:dairy, location:Moshi, "
                  "gender:F, role:firm.")
        return
    data["spec"]["audience"] = ctx.text
    ctx.set_step("schedule", data)
    ctx.reply("When? Send the date, the time and the months between rounds (0 = once), "
              "e.g. 2025-07-01 18:00 6")


def parse_when(text: str) -> tuple[datetime, int]:
    """'2025-07-01 18:00 6' -> (local start, every 6 months); the months default to 0 (once)."""
    parts = text.split()
    months = 0
    if len(parts) == 3:
        if not parts[2].isdecimal():
            raise PollError("bad_every", parts[2])
        months = int(parts[2])
    elif len(parts) != 2:
        raise PollError("bad_start", text)
    return store.parse_start(" ".join(parts[:2])), months


def _schedule(ctx: Ctx, data: dict) -> None:
    try:
        start, months = parse_when(ctx.text)
        if store.to_utc(start, ctx.timezone) < ctx.now or not 0 <= months <= 24:
            raise PollError("bad_start")
    except PollError:
        ctx.reply("Please send a future date, a time and the months between rounds, e.g. 2025-07-01 18:00 6")
        return
    data["start"], data["every"] = start.isoformat(), months
    ctx.set_step("confirm", data)
    ctx.reply("{title}: {count} questions, {term}, from {when}, every {every} months. Reply 1 OK, "
              "2 cancel.", title=_spec_title(data["spec"], ctx.lang)[:40],
              count=len(data["spec"]["questions"]), term=data["spec"].get("audience", "all")[:30],
              when=store.to_utc(start, ctx.timezone), every=months)


def _spec_title(spec: dict, lang: str) -> str:
    title = spec["title"]
    return title if isinstance(title, str) else title.get(lang) or next(iter(title.values()))


def _confirm(ctx: Ctx, data: dict) -> None:
    answer = ctx.text.strip()
    if answer == "2":
        ctx.end_flow()
        ctx.reply("Cancelled; nothing was saved.")
        return
    if answer != "1":
        ctx.reply("Please answer with a number from {low} to {high}.", low=1, high=2)
        return
    start = datetime.fromisoformat(data["start"])
    try:
        item = create_checked(ctx.session, ctx.cluster, data["spec"], ctx.member.number)
        store.schedule_poll(ctx.session, item, ctx.cluster, Schedule(start, data["every"], **DEFAULT_SCHEDULE),
                            ctx.now, actor=ctx.member.number)
    except PollError:
        ctx.end_flow()
        ctx.reply("That poll could not be saved: a question is too long for one SMS. Use the CLI to fix it.")
        return
    ctx.end_flow()
    ctx.reply("Poll {id} is scheduled. See its results with RESULTS {id}.", id=item.id)


COMMANDS = [
    Command("POLL", poll, access=ACTIVE),
    Command("SKIP", skip, access=ACTIVE, help=False),
    Command("POLLS", polls_list, access=FACILITATOR),
    Command("NEWPOLL", new_poll, access=FACILITATOR),
    Command("RESULTS", results, access=FACILITATOR),
]
FLOWS = {
    FLOW: Flow(answer_step, free_text=frozenset({"answer"})),
    CREATE: Flow(create_step, free_text=frozenset({"source", "text", "options", "audience", "schedule"})),
}
