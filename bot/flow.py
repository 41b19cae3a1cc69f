"""Guided conversations as data: a Flow lists its steps, one runner asks, reads, re-asks, goes back, finishes.

Every channel renders the same definitions. By SMS and Telegram the runner keeps the state between
messages in the `conversations` table (SMS has no session, processes restart). A menu channel (USSD) gets
every answer of its session at once, joined by `*`, and calls `replay`, which feeds them through the same
readers with no state of its own, then shows `render_screen` for the step reached.

A reader turns an answer into a value or raises `StepError(msgid, **placeholders)`; any exception with a
`msgid` attribute (and optionally `kwargs`), such as the shared parser's errors, is read the same way.
Readers may add derived values to `values` (a unit's plural) and may query storage, but must not write to
it: a replay runs them again on every screen. The flow's `finish` is the one place that acts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import i18n, router
from bot.context import ACTIVE, Command, Ctx
from bot.i18n import N_

END = ""  # what a `next` returns to finish the flow
BACK, SKIP = "BACK", "SKIP"  # keywords the runner reads itself, at any step (bot/locales/keywords/flow.toml)
NAVIGATION = frozenset({BACK, SKIP})
HISTORY = "_back"  # the conversation data's key for what BACK undoes
MAX_HISTORY = 40

CHOICE_HINT = N_("Please answer with a number from 1 to {count}. {question}")
LENGTH_HINT = N_("Please answer in 2 to {limit} characters.")
NO_SKIP = N_("This question cannot be skipped. Please answer it.")
NO_EARLIER = N_("There is no earlier question. {question}")

Reader = Callable[[Ctx, str, dict], Any]
Fill = Callable[[Ctx, dict], Mapping[str, Any]]


class StepError(Exception):
    """An answer refused: the msgid to reply (None: the step's own hint) and its placeholders.

    Every refusal may use {question} (the step's question, worded), {count} (its number of choices) and
    {limit} (its max_length) besides its own placeholders.
    """

    def __init__(self, msgid: str | None = None, /, **kwargs: Any):
        super().__init__(msgid or "")
        self.msgid = msgid
        self.kwargs = kwargs


@dataclass(frozen=True)
class Step:
    """One question. `key` is where the answer goes in the values; `question` is a msgid whose
    placeholders `fill(ctx, values)` supplies. Without a reader the answer is the text itself, or, with
    `choices`, the value of the choice picked (by number, by a label in any language, by an alias, or by
    a Telegram button, which sends the number)."""

    key: str
    question: str
    reader: Reader | None = None
    fill: Fill | None = None
    choices: Sequence[tuple[str, str]] = ()  # (value, label msgid)
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)  # more words for a choice value
    listed: bool = False  # the question already numbers its choices ("Are you: 1 Woman, 2 Man?")
    free_text: bool = False  # any text is an answer: only STOP, START and HELP interrupt
    optional: bool = False  # SKIP leaves `default` as the value
    default: Any = None
    max_length: int | None = None  # an answer must have 2 to max_length characters
    hint: str | None = None  # the refusal when the reader names none (default: by kind of step)
    preface: Callable[[Ctx, dict], None] | None = None  # replies before the question (a summary to confirm)
    next: str | Callable[[dict], str] | None = None  # a step's key, END, or a branch; None: the following
    when: Callable[[dict], bool] | None = None  # asked only when this holds; otherwise passed over

    def default_hint(self) -> str:
        if self.hint:
            return self.hint
        if self.choices:
            return CHOICE_HINT
        return LENGTH_HINT if self.max_length else self.question


@dataclass
class Flow:
    """A guided conversation. `keyword` starts it (list `flow.command()` in the module's COMMANDS);
    `start(ctx)` checks who may begin and returns the first values, or None after replying why not;
    `intro` words the first question when the flow begins (a msgid filled like the first step's question,
    or a function that replies); `finish(ctx, values)` acts on the answers once the flow has ended;
    `cancel(ctx, values)` tidies up when a flow is left unfinished (it must not reply). With `busy` set, a
    bare command keyword at a free-text step is not taken as an answer: the command runs when the person
    may run it, otherwise `busy` is replied (with {question})."""

    name: str
    steps: Sequence[Step]
    finish: Callable[[Ctx, dict], None]
    keyword: str = ""
    access: str = ACTIVE
    start: Callable[[Ctx], dict | None] | None = None
    intro: str | Callable[[Ctx, dict], None] | None = None
    cancel: Callable[[Ctx, dict], None] | None = None
    busy: str | None = None
    by_key: dict[str, Step] = field(init=False, repr=False)
    order: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_key = {s.key: s for s in self.steps}
        self.order = {s.key: i for i, s in enumerate(self.steps)}
        assert len(self.by_key) == len(self.steps), f"{self.name}: two steps share a key"
        assert END not in self.by_key and not any(s.key.startswith("_") for s in self.steps)
        for s in self.steps:
            assert not isinstance(s.next, str) or s.next == END or s.next in self.by_key, (self.name, s.key)

    @property
    def free_text(self) -> frozenset[str]:
        return frozenset(s.key for s in self.steps if s.free_text)

    def step(self, key: str) -> Step:
        return self.by_key[key]

    def first(self, values: dict) -> str:
        return self._asked(self.steps[0].key, values)

    def following(self, step: Step, values: dict) -> str:
        """The step after `step` for these values (END when the flow is complete)."""
        if callable(step.next):
            key = step.next(values)
        elif step.next is not None:
            key = step.next
        else:
            index = self.order[step.key] + 1
            key = self.steps[index].key if index < len(self.steps) else END
        return self._asked(key, values)

    def _asked(self, key: str, values: dict) -> str:
        while key != END and self.by_key[key].when is not None and not self.by_key[key].when(values):
            key = self.following(self.by_key[key], values)
        return key

    def yields_to(self, key: str, text: str, found: router.Match, allowed: bool) -> bool:
        """Whether a command keyword sent at this step runs that command rather than answering it: at a
        step that is not free text it does, unless it names one of the step's choices ("Publish")."""
        if found.command in NAVIGATION:
            return False
        step = self.by_key.get(key)
        if step is None:
            return True
        if not step.free_text:
            return not (step.choices and pick(text, step) is not None)
        return self.busy is not None and not found.args and allowed

    def handle(self, ctx: Ctx) -> None:
        answer(ctx, self)

    def command(self, *, help: bool = True) -> Command:
        """The command table's entry for the keyword that starts this flow."""
        return Command(self.keyword, lambda ctx: begin(ctx, self), access=self.access, help=help)


@dataclass
class State:
    """Where a person is in a flow: the step to answer (END once complete), the answers so far, and what
    each answer changed, so BACK can undo it: [[step, {key: value before}, [keys it added]], ...]."""

    step: str
    values: dict
    back: list = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.step == END


# ---------------------------------------------------------------- the pure part: every channel's

def pick(text: str, step: Step) -> str | None:
    """The value of the choice `text` names: its number, its label in any language, its value or an alias."""
    answer = router.fold(text).strip(" .,!")
    if answer.isdecimal():
        index = int(answer) - 1
        return step.choices[index][0] if 0 <= index < len(step.choices) else None
    for value, label in step.choices:
        names = {router.fold(i18n.translate(lang, label)) for lang in i18n.LANGUAGES}
        names.update(router.fold(word) for word in step.aliases.get(value, ()))
        names.add(router.fold(value))
        if answer in names:
            return value
    return None


def navigation(text: str) -> str | None:
    """BACK or SKIP when the whole message is one of their words in any language."""
    found = router.match(text)
    return found.command if found and found.command in NAVIGATION and not found.args else None


def read(step: Step, ctx: Ctx, text: str, values: dict) -> Any:
    """The step's value for this answer; raises StepError (or a parser's error) to re-ask."""
    if step.max_length is not None and not 2 <= len(text) <= step.max_length:
        raise StepError()
    if step.reader is not None:
        return step.reader(ctx, text, values)
    if step.choices:
        value = pick(text, step)
        if value is None:
            raise StepError()
        return value
    return text


def advance(flow: Flow, state: State, text: str, ctx: Ctx, *,
            back: Sequence[str] = ()) -> tuple[State, StepError | None]:
    """One answer applied to a state: the new state, or the same one and the refusal to word."""
    step = flow.step(state.step)
    word = BACK if text.strip() in back else navigation(text)
    if word == BACK:
        return _back(state)
    values = copy.deepcopy(state.values)
    if word == SKIP:
        if not step.optional:
            return state, StepError(NO_SKIP)
        value = step.default
    else:
        try:
            value = read(step, ctx, text.strip(), values)
        except Exception as exc:
            refusal = as_refusal(exc)
            if refusal is None:
                raise
            return state, refusal
    values[step.key] = value
    changed = {k: state.values[k] for k in state.values if k in values and values[k] != state.values[k]}
    added = [k for k in values if k not in state.values]
    dropped = {k: state.values[k] for k in state.values if k not in values}
    history = [*state.back, [step.key, {**changed, **dropped}, added]][-MAX_HISTORY:]
    return State(flow.following(step, values), values, history), None


def as_refusal(exc: Exception) -> StepError | None:
    """A reader's error as a StepError: ours, or any exception carrying a msgid (the shared parser's)."""
    if isinstance(exc, StepError):
        return exc
    msgid = getattr(exc, "msgid", None)
    if not isinstance(msgid, str):
        return None
    kwargs = getattr(exc, "kwargs", None)
    return StepError(msgid, **(kwargs if isinstance(kwargs, dict) else {}))


def _back(state: State) -> tuple[State, StepError | None]:
    if not state.back:
        return state, StepError(NO_EARLIER)
    key, before, added = state.back[-1]
    values = {k: v for k, v in state.values.items() if k not in added}
    values.update(copy.deepcopy(before))
    return State(key, values, state.back[:-1]), None


def opening(flow: Flow, values: dict | None = None) -> State:
    return State(flow.first(values or {}), dict(values or {}))


def replay(flow: Flow, answers: Sequence[str], ctx: Ctx, values: dict | None = None, *,
           back: Sequence[str] = ()) -> tuple[State, StepError | None]:
    """Every answer of a session fed through the readers from the first step, without storing anything.

    A USSD gateway sends `text` = "Asha*Asha Designs*1"; `replay(flow, text.split("*"), ctx)` gives the
    step to show next (or a complete state for `complete`) and, when an answer was refused, the refusal
    with the state at the step refused; later answers are then ignored. Answers in `back` (USSD's "0")
    act as BACK.
    """
    state = opening(flow, values)
    for text in answers:
        if state.done:
            break
        state, problem = advance(flow, state, text, ctx, back=back)
        if problem is not None:
            return state, problem
    return state, None


def placeholders(step: Step, ctx: Ctx, values: dict) -> dict:
    return dict(step.fill(ctx, values)) if step.fill else {}


def question(step: Step, ctx: Ctx, values: dict, *, numbered: bool, lines: bool = False) -> str:
    """The question in the reader's language, its choices numbered after it when asked for: on one line
    for SMS ("Are you: 1 Woman, 2 Man"), one per line for a menu screen."""
    text = ctx.t(step.question, **placeholders(step, ctx, values))
    if not (numbered and step.choices and not step.listed):
        return text
    choices = [f"{i} {ctx.t(label)}" for i, (_value, label) in enumerate(step.choices, start=1)]
    return "\n".join([text, *choices]) if lines else f"{text} {', '.join(choices)}"


def explain(step: Step, ctx: Ctx, values: dict, problem: StepError, *, numbered: bool) -> str:
    """A refusal worded: the reader's msgid (or the step's hint) with the step's own placeholders."""
    kwargs = {**placeholders(step, ctx, values), "count": len(step.choices), "limit": step.max_length or 0,
              "question": question(step, ctx, values, numbered=numbered), **problem.kwargs}
    return ctx.t(problem.msgid or step.default_hint(), **kwargs)


def render_screen(step: Step, ctx: Ctx, values: dict | None = None, problem: StepError | None = None) -> str:
    """A menu screen (USSD): the refusal if any, else the question, with the choices one per line."""
    values = values or {}
    if problem is not None:
        return explain(step, ctx, values, problem, numbered=True)
    return question(step, ctx, values, numbered=True, lines=True)


# ---------------------------------------------------------------- the message runner (SMS, Telegram)

def buttons(ctx: Ctx, step: Step) -> list[tuple[str, str]]:
    """Telegram buttons worded in the reader's language; each sends the number an SMS user would type."""
    return [(ctx.t(label), str(i)) for i, (_value, label) in enumerate(step.choices, start=1)]


def ask(ctx: Ctx, flow: Flow, key: str, values: dict) -> None:
    step = flow.step(key)
    if step.preface is not None:
        step.preface(ctx, values)
    ctx.say(question(step, ctx, values, numbered=not ctx.has_buttons), buttons(ctx, step) or None)


def refuse(ctx: Ctx, step: Step, values: dict, problem: StepError) -> None:
    """One reply that says what was wrong; the step waits for another answer."""
    ctx.say(explain(step, ctx, values, problem, numbered=not ctx.has_buttons), buttons(ctx, step) or None)


def begin(ctx: Ctx, flow: Flow) -> None:
    """The starting keyword: open the flow, or, sent again with nothing after it, ask the open question."""
    conv = ctx.conversation
    if conv is not None and conv.flow == flow.name and not ctx.args and conv.step in flow.by_key:
        ask(ctx, flow, conv.step, load(ctx).values)
        return
    values = flow.start(ctx) if flow.start is not None else {}
    if values is not None:
        open_flow(ctx, flow, values)


def open_flow(ctx: Ctx, flow: Flow, values: dict, at: str | None = None) -> None:
    """Put the person in the flow and ask; `at` opens it further on (a copied poll goes to its audience)."""
    state = State(at, dict(values)) if at else opening(flow, values)
    if state.done:
        return complete(ctx, flow, state.values)
    save(ctx, flow, state)
    if at is None and isinstance(flow.intro, str):
        ctx.reply(flow.intro, **placeholders(flow.step(state.step), ctx, state.values))
    elif at is None and flow.intro is not None:
        flow.intro(ctx, state.values)
    else:
        ask(ctx, flow, state.step, state.values)


def answer(ctx: Ctx, flow: Flow) -> None:
    """A message at an open step: read it, then ask the next question, go back, re-ask or finish."""
    state = load(ctx)
    step = flow.step(state.step)
    found = router.match(ctx.text)
    if flow.busy and step.free_text and found and not found.args and found.command not in NAVIGATION:
        # a keyword the engine did not run, because this person may not run it yet
        ctx.reply(flow.busy, question=question(step, ctx, state.values, numbered=not ctx.has_buttons))
        return
    state, problem = advance(flow, state, ctx.text, ctx)
    if problem is not None:
        return refuse(ctx, flow.step(state.step), state.values, problem)
    if state.done:
        return complete(ctx, flow, state.values)
    save(ctx, flow, state)
    ask(ctx, flow, state.step, state.values)


def complete(ctx: Ctx, flow: Flow, values: dict) -> None:
    """End the conversation, then act: `finish` may open another flow or reply whatever it needs."""
    ctx.end_flow()
    flow.finish(ctx, values)


def leave(ctx: Ctx, flow: Flow | None) -> None:
    """End an unfinished flow (expiry, STOP), letting it tidy up first."""
    if isinstance(flow, Flow) and flow.cancel is not None and ctx.conversation is not None:
        flow.cancel(ctx, load(ctx).values)
    ctx.end_flow()


def load(ctx: Ctx) -> State:
    data = ctx.data
    history = data.pop(HISTORY, [])
    return State(ctx.conversation.step, data, history if isinstance(history, list) else [])


def save(ctx: Ctx, flow: Flow, state: State) -> None:
    ctx.start_flow(flow.name, state.step, {**state.values, HISTORY: state.back})
