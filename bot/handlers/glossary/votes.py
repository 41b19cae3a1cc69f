"""Local words: members propose a word for a term, a facilitator opens a vote, members vote, the rule decides.

VOTE OPEN is a guided flow (the term, then how many days) that `VOTE OPEN term [days]` answers in one
message; a ballot sent to a member opens a one-question flow so a bare digit votes. Refusals of the
storage rules (GlossaryError codes) are worded through the one table in shared.py.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from bot import flow, i18n, outbox, parse, sms
from bot.context import FACILITATOR, Ctx, refusal_for
from bot.flow import Flow, Step, StepError
from bot.handlers.glossary.shared import (
    BALLOT,
    QUERY_LIMIT,
    TERM_ECHO,
    TRANSIENT,
    About,
    name,
    name_for,
    numbered,
    open_with,
    proposed_term,
    refusal,
    refuse,
    start_more,
)
from bot.i18n import N_, NP_
from bot.parse import ParseError
from storage import glossary as store
from storage.clusters import Cluster
from storage.glossary import GlossaryBallot, GlossaryError
from storage.members import Member, admins
from storage.messages import Conversation

OPEN_WORDS = {"open", "fungua", "ouvrir", "ክፈት"}
CLOSE_WORDS = {"close", "funga", "fermer", "ዝጋ"}
MAX_DAYS = 60  # storage.glossary.open_ballot takes a vote of 1 to 60 days
VOTE_USAGE = N_("Send VOTE, the vote number and your digit, for example: VOTE 3 1")
TO_VOTE = N_("To vote, send the digit of your choice, or VOTE {id} and the digit.")
CHOICES = N_("Vote {id}: {options}")
DAYS = N_("Please send a number of days from 1 to {limit}.")


def _digit(text: str) -> int:
    """A choice's number as members write it ("2", "2.", "#2"); 0 and overlong numbers are out of range."""
    try:
        return parse.ident(text.rstrip(" .,!"))
    except ParseError as exc:
        if exc.code in ("zero", "too_large"):
            return 0
        raise


# --- Proposals ------------------------------------------------------------------------------------

def propose(ctx: Ctx) -> None:
    term_text, sep, word = ctx.args.partition("=")
    term_text = parse.clean(term_text)[:QUERY_LIMIT]
    if not sep or not term_text or not word.strip():
        refuse(ctx, "empty", About())
        return
    found = ctx.glossary.find(ctx.session, term_text, ctx.cluster.id)
    if found.term_id is None and found.candidates:
        names = ", ".join(name(ctx, t, ctx.cluster.id) for t in found.candidates)
        ctx.reply("Which term? Did you mean: {options}? Send PROPOSE with the exact term.", options=names)
        return
    term_id = found.term_id or proposed_term(ctx, term_text)
    if term_id is None:
        _request_term(ctx, term_text, word)
        return
    try:
        _proposal, term, count = store.propose(ctx.session, ctx.cluster, ctx.member, term_id, term_text, word,
                                               ctx.lang, ctx.now)
    except GlossaryError as exc:
        refuse(ctx, exc.code, About(term_id=term_id, word=word))
        return
    clean = store.clean_word(word)
    ctx.reply(NP_("Thank you! {word} is proposed for {term} ({count} word so far). A facilitator will open a vote.",
                  "Thank you! {word} is proposed for {term} ({count} words so far). A facilitator will open a "
                  "vote."), word=clean, term=name(ctx, term.id, ctx.cluster.id), count=count)
    for admin in admins(ctx.session, ctx.cluster.id, ("facilitator",)):
        if admin.id != ctx.member.id:
            outbox.notify(ctx.session, admin, "New word proposed for {term}: {word}. Send VOTE OPEN {term} to "
                          "start a vote.", in_cluster=ctx.cluster, word=clean,
                          term=name_for(ctx.session, term.id, ctx.cluster.id, admin.language))


REQUEST_PASSED = N_("{term} is not in the glossary yet. I passed your request, with your word {word}, to the "
                    "facilitators.")
REQUEST_NOTICE = N_("{number} asks for a new term: {term} = {word}. To add it, send DEFSET {term}.")


def _request_term(ctx: Ctx, term_text: str, word: str) -> None:
    """A word for a term the glossary lacks: the facilitators are asked to add the term, the glossary is
    left as it is (a facilitator adds the term with DEFSET; then members propose and vote)."""
    try:
        term, clean = store.request_term(ctx.session, ctx.cluster, ctx.member, term_text, word, ctx.now)
    except GlossaryError as exc:
        refuse(ctx, exc.code, About(word=word))
        return
    echo = term if len(term) <= TERM_ECHO else term[:TERM_ECHO + 1].rsplit(" ", 1)[0][:TERM_ECHO]
    for admin in admins(ctx.session, ctx.cluster.id, ("facilitator",)):
        if admin.id != ctx.member.id:
            outbox.notify(ctx.session, admin, REQUEST_NOTICE, in_cluster=ctx.cluster, number=ctx.member.number,
                          term=echo, word=clean)
    ctx.reply(REQUEST_PASSED, term=echo, word=clean)


# --- VOTE: list, show, cast, open, close ----------------------------------------------------------

def vote(ctx: Ctx) -> None:
    first, rest = parse.first_word(ctx.args)
    word = parse.fold(first)
    if word in OPEN_WORDS or word in CLOSE_WORDS:
        denied = refusal_for(FACILITATOR, ctx.member)
        if denied:
            ctx.reply(denied)
        elif word in OPEN_WORDS:
            _open_vote(ctx, rest)
        else:
            _close_vote(ctx, rest)
        return
    if not first:
        _list_votes(ctx)
        return
    try:
        ballot_id, rest = parse.ident_and_rest(ctx.args)
        choice = parse.first_word(rest)[0]
        digit = _digit(choice) if choice else None
    except ParseError:
        ctx.reply(VOTE_USAGE)
        return
    if digit is None:
        _show_ballot(ctx, ballot_id)
    else:
        _cast(ctx, ballot_id, digit)


def _list_votes(ctx: Ctx) -> None:
    ballots = store.open_ballots(ctx.session, ctx.cluster.id)
    if not ballots:
        ctx.reply("There is no open vote in your cluster.")
        return
    listing = ", ".join(f"{b.id} {name(ctx, b.term_id, ctx.cluster.id)}" for b in ballots[:4])
    ctx.reply("Open votes: {options}. Send VOTE and the number to see the choices.", options=listing)


def _ballot_in_cluster(ctx: Ctx, ballot_id: int) -> GlossaryBallot | None:
    ballot = ctx.session.get(GlossaryBallot, ballot_id)
    if ballot is None or ballot.cluster_id != ctx.cluster.id:
        refuse(ctx, "no_ballot", About(ballot_id=ballot_id))
        return None
    return ballot


def _show_ballot(ctx: Ctx, ballot_id: int) -> None:
    ballot = _ballot_in_cluster(ctx, ballot_id)
    if ballot is None:
        return
    if ballot.status != "open":
        refuse(ctx, "closed", About(ballot=ballot))
        return
    start_more(ctx, BALLOT, "choice", {"ballot": ballot.id})
    ctx.reply(CHOICES, id=ballot.id, options=numbered(ballot.words),
              buttons=[(w, str(i)) for i, w in enumerate(ballot.words, start=1)])


def _cast(ctx: Ctx, ballot_id: int, choice: int) -> None:
    ballot = _ballot_in_cluster(ctx, ballot_id)
    if ballot is None:
        return
    try:
        _vote, changed = store.cast(ctx.session, ballot.id, ctx.member, choice, ctx.now)
    except GlossaryError as exc:
        if exc.code == "closed" and ctx.conversation is not None and ctx.conversation.flow == BALLOT:
            ctx.end_flow()  # nothing left to answer
        refuse(ctx, exc.code, About(ballot=ballot, choice=choice))
        return
    if ctx.conversation is not None and ctx.conversation.flow == BALLOT:
        ctx.end_flow()
    word = ballot.words[choice - 1]
    if changed:
        ctx.reply("Your vote is now {word}; the earlier one no longer counts.", word=word)
    else:
        ctx.reply("Thank you! Your vote for {word} is counted. Send VOTE {id} and another digit to change it.",
                  word=word, id=ballot.id)
    names = term_names(ctx.session, ballot)
    decided = store.decide(ctx.session, ballot.id, ctx.now, final=False)
    if decided is not None:
        announce(ctx.session, decided, names)


def _close_vote(ctx: Ctx, rest: str) -> None:
    try:
        ballot_id = parse.ident(parse.first_word(rest)[0])
    except ParseError:
        ctx.reply("Send VOTE CLOSE and the vote number, for example: VOTE CLOSE 3")
        return
    ballot = _ballot_in_cluster(ctx, ballot_id)
    if ballot is None:
        return
    names = term_names(ctx.session, ballot)
    decided = store.decide(ctx.session, ballot.id, ctx.now, final=True)
    if decided is None:
        refuse(ctx, "closed", About(ballot=ballot))
        return
    announce(ctx.session, decided, names)
    ctx.reply("Vote {id} is closed. The result has been sent to you and the voters.", id=ballot.id)


# --- The ballot as a question: a bare digit votes -------------------------------------------------

def _ballot_fill(ctx: Ctx, values: dict) -> dict:
    ballot = ctx.session.get(GlossaryBallot, values["ballot"])
    return {"id": ballot.id, "options": numbered(ballot.words)}


def _read_choice(ctx: Ctx, text: str, values: dict) -> int:
    ballot = ctx.session.get(GlossaryBallot, values["ballot"])
    try:
        choice = _digit(text)
    except ParseError as exc:
        raise StepError(TO_VOTE, id=ballot.id) from exc
    if not 1 <= choice <= len(ballot.words):
        raise refusal(ctx, "bad_choice", About(ballot=ballot))
    return choice


BALLOT_FLOW = Flow(
    BALLOT,
    steps=[Step("choice", CHOICES, reader=_read_choice, fill=_ballot_fill, hint=TO_VOTE)],
    finish=lambda ctx, values: _cast(ctx, values["ballot"], values["choice"]),
)


# --- VOTE OPEN: the term, then how many days ------------------------------------------------------

def _open_vote(ctx: Ctx, rest: str) -> None:
    """VOTE OPEN alone asks; VOTE OPEN term [days] answers every question at once, or is refused."""
    words = parse.words(rest)
    if not words:
        flow.open_flow(ctx, VOTE_OPEN, {})
        return
    days = None
    if len(words) > 1 and _is_number(words[-1]):
        try:
            days = _read_days(ctx, words.pop(), {})
        except StepError as problem:
            ctx.reply(problem.msgid, **problem.kwargs)
            return
    open_with(ctx, VOTE_OPEN, " ".join(words), {"days": days}, stay=False)


def _is_number(word: str) -> bool:
    try:
        parse.ident(word)
    except ParseError as exc:
        return exc.code in ("zero", "too_large")
    return True


def _read_days(ctx: Ctx, text: str, values: dict) -> int:
    try:
        days = parse.ident(text)
    except ParseError as exc:
        raise StepError(DAYS, limit=MAX_DAYS) from exc
    if days > MAX_DAYS:
        raise StepError(DAYS, limit=MAX_DAYS)
    return days


def _read_vote_term(ctx: Ctx, text: str, values: dict) -> int:
    """A term with proposed words and no open vote; as typed, it may be one only this cluster proposed."""
    term_text = parse.clean(text)[:QUERY_LIMIT]
    found = ctx.glossary.find(ctx.session, term_text, ctx.cluster.id)
    term_id = found.term_id or proposed_term(ctx, term_text)
    if term_id is None:
        raise refusal(ctx, "no_proposals", About(word=term_text))
    if store.open_ballot_for(ctx.session, ctx.cluster.id, term_id) is not None:
        raise refusal(ctx, "already_open", About(term_id=term_id))
    if not store.proposed_words(ctx.session, ctx.cluster.id, term_id):
        raise refusal(ctx, "no_proposals", About(term_id=term_id))
    return term_id


def _days_fill(ctx: Ctx, values: dict) -> dict:
    return {"days": store.settings_for(ctx.session, ctx.cluster.id).vote_days, "limit": MAX_DAYS}


def _options_fit(words: list[str]) -> bool:
    """The choices message must fit one SMS in every language a member may read it in."""
    return all(sms.fits(i18n.translate(lang, CHOICES, id=9999, options=numbered(words))) for lang in i18n.LANGUAGES)


def _start_ballot(ctx: Ctx, values: dict) -> None:
    term = ctx.session.get(store.GlossaryTerm, values["term"])
    try:
        ballot = store.open_ballot(ctx.session, ctx.cluster, term, ctx.member, ctx.now, values["days"],
                                   fits=_options_fit)
    except GlossaryError as exc:
        refuse(ctx, exc.code, About(term_id=term.id))
        return
    sent = _send_ballot(ctx, ballot)
    ctx.reply(NP_("Vote {id} on {term} is open until {when}; sent to {count} member.",
                  "Vote {id} on {term} is open until {when}; sent to {count} members."),
              id=ballot.id, term=name(ctx, term.id, ctx.cluster.id), when=ballot.closes_at, count=sent)


VOTE_OPEN = Flow(
    "glossary.vote_open",
    steps=[
        Step("term", N_("Which term should members vote on? Send its name."), reader=_read_vote_term,
             free_text=True, when=lambda v: "term" not in v),
        Step("days", N_("How many days should the vote stay open? Send 1 to {limit}, or SKIP for the "
               "usual length ({days})."),
             reader=_read_days, fill=_days_fill, optional=True, when=lambda v: "days" not in v),
    ],
    finish=_start_ballot,
    access=FACILITATOR,
)


def _send_ballot(ctx: Ctx, ballot: GlossaryBallot) -> int:
    """Ask every active member; a member with no other open conversation can answer with a bare digit."""
    sent = 0
    buttons = [(w, str(i)) for i, w in enumerate(ballot.words, start=1)]
    members = ctx.session.exec(select(Member).where(Member.cluster_id == ctx.cluster.id,
                                                    Member.status == "active").order_by(Member.id))
    for member in members:
        term = name_for(ctx.session, ballot.term_id, ctx.cluster.id, member.language)
        first = outbox.notify(ctx.session, member, "Vote {id}: which local word should we use for {term}? Reply "
                              "with a digit, or VOTE {id} and the digit, by {when}.", kind="poll",
                              batch=f"glossary-vote-{ballot.id}", in_cluster=ctx.cluster, now=ctx.now,
                              id=ballot.id, term=term, when=ballot.closes_at)
        if first is None:
            continue
        outbox.notify(ctx.session, member, CHOICES, kind="poll", batch=f"glossary-vote-{ballot.id}",
                      in_cluster=ctx.cluster, buttons=buttons, now=ctx.now, id=ballot.id,
                      options=numbered(ballot.words))
        _offer_vote_flow(ctx, member, first.identity_id, ballot.id)
        sent += 1
    return sent


def _offer_vote_flow(ctx: Ctx, member: Member, identity_id: int, ballot_id: int) -> None:
    if identity_id == ctx.identity.id:
        start_more(ctx, BALLOT, "choice", {"ballot": ballot_id})
        return
    conv = ctx.session.exec(select(Conversation).where(Conversation.identity_id == identity_id)).first()
    if conv is not None and conv.flow not in ctx.table.more and conv.flow not in TRANSIENT:
        return
    if conv is None:
        conv = Conversation(identity_id=identity_id, flow=BALLOT, step="choice")
    conv.flow, conv.step, conv.updated_at = BALLOT, "choice", ctx.now
    conv.data = json.dumps({"ballot": ballot_id})
    ctx.session.add(conv)


# --- How a vote ended -----------------------------------------------------------------------------

def term_names(session: Session, ballot: GlossaryBallot) -> dict[str, str]:
    """The term's name in each language before a vote may rename it."""
    return {lang: name_for(session, ballot.term_id, ballot.cluster_id, lang) for lang in i18n.LANGUAGES}


def _tally_text(ballot: GlossaryBallot) -> str:
    return ", ".join(f"{w} {n}" for w, n in zip(ballot.words, json.loads(ballot.tally), strict=True))


ADOPTED = NP_("Vote {id}: {word} is now our word for {term}, with {count} of {total} vote.",
              "Vote {id}: {word} is now our word for {term}, with {count} of {total} votes.")
NO_QUORUM = NP_("Vote {id} on {term} closed with {count} vote; {needed}. Nothing was adopted.",
                "Vote {id} on {term} closed with {count} votes; {needed}. Nothing was adopted.")
NEEDED = NP_("{count} was needed", "{count} were needed")


def announce(session: Session, ballot: GlossaryBallot, names: dict[str, str]) -> int:
    """Tell the facilitators (and, on adoption, the voters) how a vote ended; returns messages queued."""
    cluster = session.get(Cluster, ballot.cluster_id)
    facilitators = admins(session, cluster.id, ("facilitator",))
    tally = json.loads(ballot.tally)
    total = sum(tally)
    queued = 0
    if ballot.status == "adopted":
        readers = {m.id: m for m in [*facilitators, *store.voters(session, ballot)]}
        for member in readers.values():
            queued += bool(outbox.notify(session, member, ADOPTED, in_cluster=cluster, id=ballot.id,
                                         word=ballot.winner, term=names[member.language], count=max(tally),
                                         total=total))
        return queued
    for member in facilitators:
        term = names[member.language]
        if ballot.status == "tie":
            msg = outbox.notify(session, member, "Vote {id} on {term} ended in a tie ({tally}). Nothing was "
                                "adopted; you may open a new vote.", in_cluster=cluster, id=ballot.id, term=term,
                                tally=_tally_text(ballot))
        elif ballot.status == "no_quorum":
            needed = i18n.translate(member.language, NEEDED, count=store.settings_for(session, cluster.id).min_votes)
            msg = outbox.notify(session, member, NO_QUORUM, in_cluster=cluster, id=ballot.id, term=term, count=total,
                                needed=needed)
        else:
            msg = outbox.notify(session, member, "Vote {id} on {term}: no word won more than half ({tally}). "
                                "Nothing was adopted.", in_cluster=cluster, id=ballot.id, term=term,
                                tally=_tally_text(ballot))
        queued += bool(msg)
    return queued
