"""What the glossary's commands share: names in the reader's language, the error table, and MORE's rule
that a lookup never pushes aside another conversation.

MORE is generic: a domain that pages a long answer lists `MORE = {flow name: show_next}` in its module,
opens that flow, and MORE calls show_next with the member's ctx (the table reaches it as ctx.table.more).
`start_more(ctx, flow, step, data)` opens such a flow only when it would not push aside another open flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from bot import flow, i18n, sms
from bot.context import Ctx
from bot.flow import Flow, StepError
from bot.i18n import N_
from storage import glossary as store
from storage.glossary import GlossaryBallot, GlossaryEntry

QUERY_LIMIT = 60
TERM_ECHO = 30  # a term as typed, repeated in a reply: the budget's longest term
MORE_HINT = N_("(MORE)")
# A word the reader's cluster adopted by vote, beside the name the reader's language gives the term.
LOCAL_WORD = N_("{term} (here: {word})")
WEEKLY_MESSAGE = N_("Term of the week: {term}. {definition}")
# The glossary's pickers and pager: a new lookup may replace them (and a vote may be offered over them).
PAGER, PICKER, BALLOT = "glossary.more", "glossary.pick", "glossary.vote"
TRANSIENT = frozenset({PAGER, PICKER, BALLOT})


def replaceable(ctx: Ctx) -> bool:
    """True when no flow is open, or only a paging or picking one that a new lookup may replace."""
    conv = ctx.conversation
    return conv is None or conv.flow in ctx.table.more or conv.flow in TRANSIENT


def start_more(ctx: Ctx, flow: str, step: str, data: dict) -> bool:
    """Open a MORE flow unless the member is in the middle of another conversation; True if opened."""
    if not replaceable(ctx):
        return False
    ctx.start_flow(flow, step, data)
    return True


def scope(ctx: Ctx) -> int | None:
    """Active members see their cluster's own wording; everyone else the global glossary."""
    if ctx.member is not None and ctx.member.status == "active" and ctx.cluster is not None:
        return ctx.cluster.id
    return None


def name_for(session: Session, term_id: int, cluster_id: int | None, lang: str) -> str:
    entry = store.entry_for(session, term_id, cluster_id, lang)
    return entry.name if entry else "?"


def name(ctx: Ctx, term_id: int, cluster_id: int | None) -> str:
    """The term's name as this reader sees it."""
    return name_for(ctx.session, term_id, cluster_id, ctx.lang)


def heading(session: Session, term_id: int, cluster_id: int | None, lang: str) -> tuple[GlossaryEntry | None, str]:
    """The entry a reader sees and the name to head it with: the language's own name, and beside it the
    word the reader's cluster adopted for the term (in whatever language it was voted), if any."""
    entry = store.entry_for(session, term_id, cluster_id, lang)
    if entry is None:
        return None, "?"
    word = store.adopted_word(session, cluster_id, term_id)
    own = store.own_name(session, entry, word) if word else entry.name
    if not word or store.fold_key(own) == store.fold_key(word):
        return entry, own
    return entry, i18n.translate(lang, LOCAL_WORD, term=own, word=word)


def fitted(render: Callable[[str], str], text: str) -> tuple[str, str]:
    """The longest start of `text`, on a word boundary, that `render` fits in one message with "..." after
    it when cut; and the rest. A definition gives way to the names that head it, not the other way round."""
    if sms.fits(render(text)):
        return text, ""
    words = text.split()
    for end in range(len(words) - 1, 0, -1):
        shown = " ".join(words[:end]).rstrip(" ,;:") + "..."
        if sms.fits(render(shown)):
            return shown, " ".join(words[end:])
    return "", text


def numbered(names: list[str]) -> str:
    return ", ".join(f"{i} {label}" for i, label in enumerate(names, start=1))


def proposed_term(ctx: Ctx, text: str) -> int | None:
    """A term only this cluster has proposed (not yet shown in lookups) named exactly as typed."""
    key = store.slug(text)
    term = ctx.session.exec(select(store.GlossaryTerm).where(store.GlossaryTerm.key == key,
                                                             store.GlossaryTerm.cluster_id == ctx.cluster.id)).first()
    return term.id if term else None


# --- Error codes to words -------------------------------------------------------------------------

@dataclass(frozen=True)
class About:
    """What a refused request was about, for the words that explain the refusal."""

    term_id: int | None = None
    word: str = ""  # the word proposed, or the term as typed when no term was found
    ballot: GlossaryBallot | None = None
    ballot_id: int | None = None
    choice: int = 0


@dataclass(frozen=True)
class Wording:
    msgid: str
    fill: Callable[[Ctx, About], dict]


PROPOSE_USAGE = N_("Send PROPOSE, the term, = and your local word. Example: PROPOSE cluster initiative = umoja")
ALREADY_OPEN = N_("A vote on {term} is already open, so proposals are closed. Send VOTE {id} to see it.")
NO_PROPOSALS = N_("No words have been proposed for {word} yet. Members send PROPOSE {word} = their word.")
CLOSED = N_("Vote {id} is closed; nothing changed.")


def _nothing(_ctx: Ctx, _about: About) -> dict:
    return {}


def _open_ballot(ctx: Ctx, about: About) -> dict:
    ballot = store.open_ballot_for(ctx.session, ctx.cluster.id, about.term_id)
    return {"term": name(ctx, about.term_id, ctx.cluster.id), "id": ballot.id if ballot else "?"}


def _term_or_word(ctx: Ctx, about: About) -> dict:
    word = name(ctx, about.term_id, ctx.cluster.id) if about.term_id else about.word
    return {"word": word[:store.WORD_LIMIT]}


def _ballot_id(_ctx: Ctx, about: About) -> dict:
    return {"id": about.ballot.id if about.ballot else about.ballot_id}


# A GlossaryError's code (storage/glossary.py) -> the reply and how to fill its placeholders.
ERRORS: dict[str, Wording] = {
    "empty": Wording(PROPOSE_USAGE, _nothing),
    "unknown_term": Wording(PROPOSE_USAGE, _nothing),
    "bad_name": Wording(PROPOSE_USAGE, _nothing),
    "too_long": Wording(N_("Your word is too long: at most {limit} characters. Nothing was saved."),
                        lambda _ctx, _a: {"limit": store.WORD_LIMIT}),
    "duplicate": Wording(N_("You already proposed {word} for {term}. Nothing changed."),
                         lambda ctx, a: {"word": a.word.strip()[:store.WORD_LIMIT],
                                         "term": name(ctx, a.term_id, ctx.cluster.id)}),
    "vote_open": Wording(ALREADY_OPEN, _open_ballot),
    "already_open": Wording(ALREADY_OPEN, _open_ballot),
    "no_proposals": Wording(NO_PROPOSALS, _term_or_word),
    "no_ballot": Wording(N_("There is no vote {id} in your cluster."), _ballot_id),
    "closed": Wording(CLOSED, _ballot_id),
    "bad_choice": Wording(N_("Vote {id} has choices 1 to {count}. Send the digit of your choice."),
                          lambda _ctx, a: {"id": a.ballot.id, "count": len(a.ballot.words)}),
    "same": Wording(N_("You already voted for {word}. Nothing changed."),
                    lambda _ctx, a: {"word": a.ballot.words[a.choice - 1]}),
}
FALLBACK = "empty"


def wording(ctx: Ctx, code: str, about: About) -> tuple[str, dict]:
    """The msgid that answers a refusal with `code`, and its placeholders' values."""
    entry = ERRORS.get(code) or ERRORS[FALLBACK]
    return entry.msgid, entry.fill(ctx, about)


def refuse(ctx: Ctx, code: str, about: About) -> None:
    msgid, kwargs = wording(ctx, code, about)
    ctx.reply(msgid, **kwargs)


def refusal(ctx: Ctx, code: str, about: About) -> StepError:
    """The same refusal for a flow's reader to raise: the step waits for another answer."""
    msgid, kwargs = wording(ctx, code, about)
    return StepError(msgid, **kwargs)


# --- A flow's first answer sent with its keyword --------------------------------------------------

def open_with(ctx: Ctx, guided: Flow, text: str, values: dict | None = None, *, stay: bool = True) -> None:
    """Open a flow with the words sent after its keyword as the first answer (DEFSET cluster, VOTE OPEN
    mama lishe): the step's own reader reads them, then the next question is asked, or the flow finishes.
    Refused, the person is asked again at the first step (with `stay`) or no flow is opened."""
    state = flow.opening(guided, values)
    after, problem = flow.advance(guided, state, text, ctx)
    if problem is not None:
        if stay:
            flow.save(ctx, guided, state)
        flow.refuse(ctx, guided.step(state.step), state.values, problem)
    elif after.done:
        flow.complete(ctx, guided, after.values)
    else:
        flow.save(ctx, guided, after)
        flow.ask(ctx, guided, after.step, after.values)
