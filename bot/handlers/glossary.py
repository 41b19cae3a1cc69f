"""The glossary by message: definitions in the member's language, MORE, local words agreed by vote.

Who sees what: anyone (strangers included) may look a term up and gets the global glossary; active
members also see their own cluster's wording, which wins. Active members propose local words and vote;
facilitators open and close votes, add or edit their cluster's definitions and choose the term-of-the-week day.

MORE is generic: a domain that pages a long answer lists `MORE = {flow name: show_next}` in its module,
opens that flow, and MORE calls show_next with the member's ctx (the table reaches it as ctx.table.more).
`start_more(ctx, flow, step, data)` opens such a flow only when it would not push aside another open flow.
"""

from __future__ import annotations

import json

from babel.dates import get_day_names
from sqlmodel import Session, select

from bot import i18n, outbox, router, sms
from bot.context import ACTIVE, ANYONE, FACILITATOR, Command, Ctx, Flow, refusal_for
from bot.i18n import N_
from storage import glossary as store
from storage.clusters import Cluster
from storage.glossary import GlossaryBallot, GlossaryError
from storage.members import Member, admins
from storage.messages import Conversation

TOPICS = [("basics", N_("Basics")), ("people", N_("People")), ("innovation", N_("Innovation")),
          ("together", N_("Together")), ("money", N_("Money")), ("plans", N_("Plans"))]
OPEN_WORDS = {"open", "fungua", "ouvrir", "ክፈት"}
CLOSE_WORDS = {"close", "funga", "fermer", "ዝጋ"}
OFF_WORDS = {"off", "no", "stop", "zima", "hapana", "non", "arret", "አጥፋ", "ጠፍቷል", "አይ"}
DAY_WORDS = [
    {"mon", "monday", "jumatatu", "lundi", "ሰኞ"}, {"tue", "tuesday", "jumanne", "mardi", "ማክሰኞ"},
    {"wed", "wednesday", "jumatano", "mercredi", "ረቡዕ"}, {"thu", "thursday", "alhamisi", "jeudi", "ሐሙስ"},
    {"fri", "friday", "ijumaa", "vendredi", "ዓርብ"}, {"sat", "saturday", "jumamosi", "samedi", "ቅዳሜ"},
    {"sun", "sunday", "jumapili", "dimanche", "እሑድ"},
]
MORE_HINT = N_("(MORE)")
WEEKLY_MESSAGE = N_("Term of the week: {term}. {definition}")
MAX_PAGES = 3
QUERY_LIMIT = 60

SAMPLES = {
    "options": "1 Ushindani-shirikishi, 2 Viunganishi vya biashara, 3 Uwezeshaji wa klasta",
    "definition": "Biashara au mashamba ya eneo moja yanayofanya kazi zinazohusiana, na wasambazaji.",
    "tally": "mshikamano 12, ushirika wa mafundi 12, umoja 3",
    "day": "Wednesday",
}


# --- MORE and the transient flows -----------------------------------------------------------------

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


def more(ctx: Ctx) -> None:
    conv = ctx.conversation
    if conv is None or conv.flow not in ctx.table.more:
        ctx.reply("There is nothing more to show.")
        return
    ctx.table.more[conv.flow](ctx)


def pages(lang: str, text: str) -> list[str]:
    """A long explanation cut into messages that each fit one SMS with the MORE hint after them."""
    hint = " " + i18n.translate(lang, MORE_HINT)
    parts: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if sms.fits(candidate + hint):
            current = candidate
            continue
        if current:
            parts.append(current)
        current = word
    if current:
        parts.append(current)
    return parts


def _more_definition(ctx: Ctx) -> None:
    data = ctx.data
    entry = store.entry_for(ctx.session, data["term"], data["scope"], data["lang"])
    parts = pages(ctx.lang, entry.long) if entry else []
    index = data["next"]
    if index >= len(parts):
        ctx.end_flow()
        ctx.reply("There is nothing more to show.")
        return
    text = parts[index]
    if index + 1 < len(parts):
        text += " " + ctx.t(MORE_HINT)
        ctx.set_step("page", {**data, "next": index + 1})
    else:
        ctx.end_flow()
    ctx.say(text)


# --- Looking a term up ----------------------------------------------------------------------------

def _scope(ctx: Ctx) -> int | None:
    """Active members see their cluster's own wording; everyone else the global glossary."""
    if ctx.member is not None and ctx.member.status == "active" and ctx.cluster is not None:
        return ctx.cluster.id
    return None


def _name(ctx: Ctx, term_id: int, scope: int | None) -> str:
    entry = store.entry_for(ctx.session, term_id, scope, ctx.lang)
    return entry.name if entry else "?"


def define(ctx: Ctx) -> None:
    query = ctx.args.strip()[:QUERY_LIMIT]
    if not query:
        _topics(ctx)
        return
    _lookup(ctx, query)


def _lookup(ctx: Ctx, query: str) -> None:
    scope = _scope(ctx)
    found = ctx.glossary.find(ctx.session, query, scope)
    if ctx.member is None and not ctx.identity.language and ctx.lang == "en" and found.lang:
        ctx.lang = found.lang  # a stranger who writes "DEF ክላስተር" reads Amharic
    if found.term_id is not None:
        _show(ctx, found.term_id, scope)
    elif found.candidates:
        _did_you_mean(ctx, found.candidates, scope)
    else:
        unknown = N_("I have no definition of {word}. Send DEF for topics, or PROPOSE {word} = your word.")
        word = query[:store.WORD_LIMIT]
        while len(word) > 1 and not sms.fits(ctx.t(unknown, word=word)):
            word = word[:-1]  # a long unknown word in a wide script: shorten the echo, not the advice
        ctx.reply(unknown, word=word)


def _show(ctx: Ctx, term_id: int, scope: int | None) -> None:
    entry = store.entry_for(ctx.session, term_id, scope, ctx.lang)
    if entry is None or not entry.short:
        ctx.reply("{term} has no definition yet. A facilitator can add one with DEFSET {term}.",
                  term=entry.name if entry else "?")
        return
    text = f"{entry.name}: {entry.short}"
    if entry.long and start_more(ctx, "glossary.more", "page",
                                 {"term": term_id, "scope": scope, "lang": entry.lang, "next": 0}):
        text += " " + ctx.t(MORE_HINT)
    elif ctx.conversation is not None and ctx.conversation.flow in TRANSIENT:
        ctx.end_flow()
    ctx.say(text)


def _numbered(names: list[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(names, start=1))


def _did_you_mean(ctx: Ctx, candidates: list[int], scope: int | None) -> None:
    names = [_name(ctx, t, scope) for t in candidates]
    while len(names) > 1 and not sms.fits(ctx.t("Did you mean: {options}? Reply with a digit.",
                                                options=_numbered(names))):
        names.pop()
    if start_more(ctx, "glossary.pick", "term", {"terms": candidates[:len(names)], "scope": scope}):
        ctx.reply("Did you mean: {options}? Reply with a digit.", options=_numbered(names),
                  buttons=[(name, str(i)) for i, name in enumerate(names, start=1)])
    else:
        ctx.reply("Did you mean: {options}? Send DEF and the word.", options=", ".join(names))


def _topics(ctx: Ctx) -> None:
    labels = [ctx.t(label) for _key, label in TOPICS]
    if start_more(ctx, "glossary.pick", "topic", {"scope": _scope(ctx)}):
        ctx.reply("Topics: {options}. Reply with a digit, or send DEF and a word.", options=_numbered(labels),
                  buttons=[(label, str(i)) for i, (_key, label) in enumerate(TOPICS, start=1)])
    else:
        ctx.reply("Send DEF and a word, for example: DEF {example}", example=_name(ctx, _first_term(ctx), None))


def _first_term(ctx: Ctx) -> int:
    return store.topic_terms(ctx.session, "basics", None)[0].id


def _topic_list(ctx: Ctx, topic: str, label: str, scope: int | None) -> None:
    names: list[str] = []
    for term in store.topic_terms(ctx.session, topic, scope):
        candidate = ctx.t("{title}: {options}. Send DEF and a word.", title=ctx.t(label),
                          options=", ".join([*names, _name(ctx, term.id, scope)]))
        if not sms.fits(candidate):
            break
        names.append(_name(ctx, term.id, scope))
    ctx.end_flow()
    ctx.reply("{title}: {options}. Send DEF and a word.", title=ctx.t(label), options=", ".join(names))


def pick_step(ctx: Ctx) -> None:
    """A digit picks a suggested term or a topic; any other text is looked up as a term."""
    data, step = ctx.data, ctx.conversation.step
    answer = ctx.text.strip(" .")
    if not answer.isdecimal():
        ctx.end_flow()
        _lookup(ctx, ctx.text[:QUERY_LIMIT])
        return
    count = len(data["terms"]) if step == "term" else len(TOPICS)
    index = int(answer) - 1
    if not 0 <= index < count:
        ctx.reply("Please reply with a number from 1 to {count}, or send DEF and a word.", count=count)
        return
    if step == "term":
        _show(ctx, data["terms"][index], data["scope"])
    else:
        _topic_list(ctx, TOPICS[index][0], TOPICS[index][1], data["scope"])


def more_step(ctx: Ctx) -> None:
    """Text that is no command while paging is taken as the next word to look up."""
    ctx.end_flow()
    _lookup(ctx, ctx.text[:QUERY_LIMIT])


# --- Proposals ------------------------------------------------------------------------------------

def propose(ctx: Ctx) -> None:
    term_text, sep, word = ctx.args.partition("=")
    term_text = term_text.strip()[:QUERY_LIMIT]
    if not sep or not term_text or not word.strip():
        ctx.reply("Send PROPOSE, the term, = and your local word. Example: PROPOSE cluster initiative = umoja")
        return
    found = ctx.glossary.find(ctx.session, term_text, ctx.cluster.id)
    if found.term_id is None and found.candidates:
        names = ", ".join(_name(ctx, t, ctx.cluster.id) for t in found.candidates)
        ctx.reply("Which term? Did you mean: {options}? Send PROPOSE with the exact term.", options=names)
        return
    try:
        _proposal, term, count = store.propose(ctx.session, ctx.cluster, ctx.member, found.term_id, term_text,
                                               word, ctx.lang, ctx.now)
    except GlossaryError as exc:
        _proposal_refused(ctx, exc, found.term_id, word)
        return
    name = _name(ctx, term.id, ctx.cluster.id)
    clean = store.clean_word(word)
    ctx.reply("Thank you! {word} is proposed for {term} ({count} words so far). A facilitator will open a vote.",
              word=clean, term=name, count=count)
    for admin in admins(ctx.session, ctx.cluster.id, ("facilitator",)):
        if admin.id != ctx.member.id:
            outbox.notify(ctx.session, admin, "New word proposed for {term}: {word}. Send VOTE OPEN {term} to "
                          "start a vote.", in_cluster=ctx.cluster, word=clean,
                          term=_name_for(ctx.session, term.id, ctx.cluster.id, admin.language))


def _proposal_refused(ctx: Ctx, exc: GlossaryError, term_id: int | None, word: str) -> None:
    if exc.code == "too_long":
        ctx.reply("Your word is too long: at most {limit} characters. Nothing was saved.", limit=store.WORD_LIMIT)
    elif exc.code == "vote_open":
        ballot = store.open_ballot_for(ctx.session, ctx.cluster.id, term_id)
        ctx.reply("A vote on {term} is already open, so proposals are closed. Send VOTE {id} to see it.",
                  term=_name(ctx, term_id, ctx.cluster.id), id=ballot.id)
    elif exc.code == "duplicate":
        ctx.reply("You already proposed {word} for {term}. Nothing changed.", word=word.strip()[:store.WORD_LIMIT],
                  term=_name(ctx, term_id, ctx.cluster.id))
    else:
        ctx.reply("Send PROPOSE, the term, = and your local word. Example: PROPOSE cluster initiative = umoja")


def _name_for(session: Session, term_id: int, cluster_id: int | None, lang: str) -> str:
    entry = store.entry_for(session, term_id, cluster_id, lang)
    return entry.name if entry else "?"


# --- Votes ----------------------------------------------------------------------------------------

def vote(ctx: Ctx) -> None:
    first, rest = router.split_first(ctx.args)
    word = router.fold(first)
    if word in OPEN_WORDS or word in CLOSE_WORDS:
        refusal = refusal_for(FACILITATOR, ctx.member)
        if refusal:
            ctx.reply(refusal)
        elif word in OPEN_WORDS:
            _open_vote(ctx, rest)
        else:
            _close_vote(ctx, rest)
        return
    if not first:
        _list_votes(ctx)
        return
    if not first.isdecimal():
        ctx.reply("Send VOTE, the vote number and your digit, for example: VOTE 3 1")
        return
    choice = router.split_first(rest)[0]
    if not choice:
        _show_ballot(ctx, int(first))
    elif choice.isdecimal():
        _cast(ctx, int(first), int(choice))
    else:
        ctx.reply("Send VOTE, the vote number and your digit, for example: VOTE 3 1")


def _list_votes(ctx: Ctx) -> None:
    ballots = store.open_ballots(ctx.session, ctx.cluster.id)
    if not ballots:
        ctx.reply("There is no open vote in your cluster.")
        return
    listing = ", ".join(f"{b.id} {_name(ctx, b.term_id, ctx.cluster.id)}" for b in ballots[:4])
    ctx.reply("Open votes: {options}. Send VOTE and the number to see the choices.", options=listing)


def _ballot_in_cluster(ctx: Ctx, ballot_id: int) -> GlossaryBallot | None:
    ballot = ctx.session.get(GlossaryBallot, ballot_id)
    if ballot is None or ballot.cluster_id != ctx.cluster.id:
        ctx.reply("There is no vote {id} in your cluster.", id=ballot_id)
        return None
    return ballot


def _show_ballot(ctx: Ctx, ballot_id: int) -> None:
    ballot = _ballot_in_cluster(ctx, ballot_id)
    if ballot is None:
        return
    if ballot.status != "open":
        ctx.reply("Vote {id} is closed; nothing changed.", id=ballot.id)
        return
    start_more(ctx, "glossary.vote", "choice", {"ballot": ballot.id})
    ctx.reply("Vote {id}: {options}", id=ballot.id, options=_numbered(ballot.words),
              buttons=[(w, str(i)) for i, w in enumerate(ballot.words, start=1)])


def vote_step(ctx: Ctx) -> None:
    ballot_id = ctx.data["ballot"]
    answer = ctx.text.strip(" .")
    if not answer.isdecimal():
        ctx.end_flow()
        ctx.reply("To vote, send the digit of your choice, or VOTE {id} and the digit.", id=ballot_id)
        return
    _cast(ctx, ballot_id, int(answer))


def _cast(ctx: Ctx, ballot_id: int, choice: int) -> None:
    ballot = _ballot_in_cluster(ctx, ballot_id)
    if ballot is None:
        return
    try:
        _vote, changed = store.cast(ctx.session, ballot.id, ctx.member, choice, ctx.now)
    except GlossaryError as exc:
        _vote_refused(ctx, ballot, exc, choice)
        return
    if ctx.conversation is not None and ctx.conversation.flow == "glossary.vote":
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


def _vote_refused(ctx: Ctx, ballot: GlossaryBallot, exc: GlossaryError, choice: int) -> None:
    if exc.code == "closed":
        if ctx.conversation is not None and ctx.conversation.flow == "glossary.vote":
            ctx.end_flow()
        ctx.reply("Vote {id} is closed; nothing changed.", id=ballot.id)
    elif exc.code == "same":
        ctx.reply("You already voted for {word}. Nothing changed.", word=ballot.words[choice - 1])
    else:
        ctx.reply("Vote {id} has choices 1 to {count}. Send the digit of your choice.", id=ballot.id,
                  count=len(ballot.words))


def _options_fit(words: list[str]) -> bool:
    """The choices message must fit one SMS in every language a member may read it in."""
    return all(sms.fits(i18n.translate(lang, "Vote {id}: {options}", id=9999, options=_numbered(words)))
               for lang in i18n.LANGUAGES)


def _open_vote(ctx: Ctx, rest: str) -> None:
    words = rest.split()
    days = int(words.pop()) if len(words) > 1 and words[-1].isdecimal() else None
    term_text = " ".join(words)[:QUERY_LIMIT]
    if not term_text:
        ctx.reply("Send VOTE OPEN and the term, for example: VOTE OPEN cluster initiative")
        return
    found = ctx.glossary.find(ctx.session, term_text, ctx.cluster.id)
    term_id = found.term_id or _proposed_term(ctx, term_text)
    if term_id is None:
        ctx.reply("No words have been proposed for {word} yet. Members send PROPOSE {word} = their word.",
                  word=term_text[:store.WORD_LIMIT])
        return
    term = ctx.session.get(store.GlossaryTerm, term_id)
    try:
        ballot = store.open_ballot(ctx.session, ctx.cluster, term, ctx.member, ctx.now, days, fits=_options_fit)
    except GlossaryError as exc:
        if exc.code == "already_open":
            ctx.reply("A vote on {term} is already open, so proposals are closed. Send VOTE {id} to see it.",
                      term=_name(ctx, term_id, ctx.cluster.id),
                      id=store.open_ballot_for(ctx.session, ctx.cluster.id, term_id).id)
        else:
            ctx.reply("No words have been proposed for {word} yet. Members send PROPOSE {word} = their word.",
                      word=_name(ctx, term_id, ctx.cluster.id))
        return
    sent = _send_ballot(ctx, ballot)
    ctx.reply("Vote {id} on {term} is open until {when}; sent to {count} members.", id=ballot.id,
              term=_name(ctx, term_id, ctx.cluster.id), when=ballot.closes_at, count=sent)


def _proposed_term(ctx: Ctx, text: str) -> int | None:
    """A term only this cluster has proposed (not yet shown in lookups) named exactly as typed."""
    key = store.slug(text)
    term = ctx.session.exec(select(store.GlossaryTerm).where(store.GlossaryTerm.key == key,
                                                             store.GlossaryTerm.cluster_id == ctx.cluster.id)).first()
    return term.id if term else None


def _send_ballot(ctx: Ctx, ballot: GlossaryBallot) -> int:
    """Ask every active member; a member with no other open conversation can answer with a bare digit."""
    sent = 0
    buttons = [(w, str(i)) for i, w in enumerate(ballot.words, start=1)]
    members = ctx.session.exec(select(Member).where(Member.cluster_id == ctx.cluster.id,
                                                    Member.status == "active").order_by(Member.id))
    for member in members:
        term = _name_for(ctx.session, ballot.term_id, ctx.cluster.id, member.language)
        first = outbox.notify(ctx.session, member, "Vote {id}: which local word should we use for {term}? Reply "
                              "with a digit, or VOTE {id} and the digit, by {when}.", kind="poll",
                              batch=f"glossary-vote-{ballot.id}", in_cluster=ctx.cluster, id=ballot.id,
                              term=term, when=ballot.closes_at)
        if first is None:
            continue
        outbox.notify(ctx.session, member, "Vote {id}: {options}", kind="poll", batch=f"glossary-vote-{ballot.id}",
                      in_cluster=ctx.cluster, buttons=buttons, id=ballot.id, options=_numbered(ballot.words))
        _offer_vote_flow(ctx, member, first.identity_id, ballot.id)
        sent += 1
    return sent


def _offer_vote_flow(ctx: Ctx, member: Member, identity_id: int, ballot_id: int) -> None:
    if identity_id == ctx.identity.id:
        start_more(ctx, "glossary.vote", "choice", {"ballot": ballot_id})
        return
    conv = ctx.session.exec(select(Conversation).where(Conversation.identity_id == identity_id)).first()
    if conv is not None and conv.flow not in ctx.table.more and conv.flow not in TRANSIENT:
        return
    if conv is None:
        conv = Conversation(identity_id=identity_id, flow="glossary.vote", step="choice")
    conv.flow, conv.step, conv.updated_at = "glossary.vote", "choice", ctx.now
    conv.data = json.dumps({"ballot": ballot_id})
    ctx.session.add(conv)


def _close_vote(ctx: Ctx, rest: str) -> None:
    ref = router.split_first(rest)[0]
    if not ref.isdecimal():
        ctx.reply("Send VOTE CLOSE and the vote number, for example: VOTE CLOSE 3")
        return
    ballot = _ballot_in_cluster(ctx, int(ref))
    if ballot is None:
        return
    names = term_names(ctx.session, ballot)
    decided = store.decide(ctx.session, ballot.id, ctx.now, final=True)
    if decided is None:
        ctx.reply("Vote {id} is closed; nothing changed.", id=ballot.id)
        return
    announce(ctx.session, decided, names)
    ctx.reply("Vote {id} is closed. The result has been sent to you and the voters.", id=ballot.id)


def term_names(session: Session, ballot: GlossaryBallot) -> dict[str, str]:
    """The term's name in each language before a vote may rename it."""
    return {lang: _name_for(session, ballot.term_id, ballot.cluster_id, lang) for lang in i18n.LANGUAGES}


def _tally_text(ballot: GlossaryBallot) -> str:
    return ", ".join(f"{w} {n}" for w, n in zip(ballot.words, json.loads(ballot.tally), strict=True))


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
            queued += bool(outbox.notify(
                session, member, "Vote {id}: {word} is now our word for {term}, with {count} of {total} votes.",
                in_cluster=cluster, id=ballot.id, word=ballot.winner, term=names[member.language],
                count=max(tally), total=total))
        return queued
    for member in facilitators:
        term = names[member.language]
        if ballot.status == "tie":
            msg = outbox.notify(session, member, "Vote {id} on {term} ended in a tie ({tally}). Nothing was "
                                "adopted; you may open a new vote.", in_cluster=cluster, id=ballot.id, term=term,
                                tally=_tally_text(ballot))
        elif ballot.status == "no_quorum":
            msg = outbox.notify(session, member, "Vote {id} on {term} closed with {count} votes; {limit} were "
                                "needed. Nothing was adopted.", in_cluster=cluster, id=ballot.id, term=term,
                                count=total, limit=store.settings_for(session, cluster.id).min_votes)
        else:
            msg = outbox.notify(session, member, "Vote {id} on {term}: no word won more than half ({tally}). "
                                "Nothing was adopted.", in_cluster=cluster, id=ballot.id, term=term,
                                tally=_tally_text(ballot))
        queued += bool(msg)
    return queued


# --- Facilitators: definitions and the term of the week -------------------------------------------

def defset(ctx: Ctx) -> None:
    text = ctx.args.strip()
    ctx.start_flow("glossary.edit", "term", {})
    if not text:
        ctx.reply("Which term do you want to define? Send its name.")
        return
    _edit_term(ctx, text)


def _edit_term(ctx: Ctx, text: str) -> None:
    name = " ".join(text.split())
    if not 2 <= len(name) <= store.NAME_LIMIT:
        ctx.reply("Please send a term of 2 to {limit} characters.", limit=store.NAME_LIMIT)
        return
    found = ctx.glossary.find(ctx.session, name, ctx.cluster.id)
    term_id = found.term_id or _proposed_term(ctx, name)
    if term_id is not None:
        entry = store.entry_for(ctx.session, term_id, ctx.cluster.id, ctx.lang)
        name = entry.name if entry and entry.lang == ctx.lang else name
    limit = _short_limit(ctx, name)
    ctx.set_step("short", {"term": term_id, "name": name})
    if term_id is None:
        ctx.reply("New term {term}. Send its short definition (at most {limit} characters).", term=name, limit=limit)
    else:
        ctx.reply("Editing {term}. Send its short definition (at most {limit} characters).", term=name, limit=limit)


def _short_limit(ctx: Ctx, name: str) -> int:
    """How long a short definition may be so that it, the name and the hints fit one message."""
    room = 134 if ctx.lang == "am" else 160
    longest = max(len(f"{name}: ") + len(ctx.t(MORE_HINT)) + 1, len(ctx.t(WEEKLY_MESSAGE, term=name, definition="")))
    return max(20, room - longest)


def short_fits(lang: str, name: str, short: str) -> bool:
    hint = i18n.translate(lang, MORE_HINT)
    weekly = i18n.translate(lang, WEEKLY_MESSAGE, term=name, definition=short)
    return sms.fits(f"{name}: {short} {hint}") and sms.fits(weekly)


def long_fits(lang: str, text: str) -> bool:
    return len(pages(lang, text)) <= MAX_PAGES and len(text) <= store.LONG_LIMIT


def edit_step(ctx: Ctx) -> None:
    step, data = ctx.conversation.step, ctx.data
    text = ctx.text.strip()
    if step == "term":
        _edit_term(ctx, text)
    elif step == "short":
        if not text or not short_fits(ctx.lang, data["name"], text):
            ctx.reply("Too long: at most {limit} characters. Send it again, shorter.",
                      limit=_short_limit(ctx, data["name"]))
            return
        ctx.set_step("long", {**data, "short": text})
        ctx.reply("Send a longer explanation (up to 3 messages), or 0 to skip.")
    elif step == "long":
        long = "" if text == "0" else text
        if not long_fits(ctx.lang, long):
            ctx.reply("Too long: the explanation must fit 3 messages. Send it shorter, or 0 to skip.")
            return
        ctx.set_step("confirm", {**data, "long": long})
        ctx.reply("Save the definition of {term}? Reply 1 to save, 2 to cancel.", term=data["name"])
    else:
        _confirm(ctx, data, text)


def _confirm(ctx: Ctx, data: dict, answer: str) -> None:
    if answer not in ("1", "2"):
        ctx.reply("Please reply 1 to save or 2 to cancel.")
        return
    ctx.end_flow()
    if answer == "2":
        ctx.reply("Cancelled; nothing was changed.")
        return
    store.define(ctx.session, ctx.cluster, ctx.member, data["term"], data["name"], ctx.lang, data["short"],
                 data["long"], ctx.now)
    ctx.reply("Saved. Members of your cluster now get your definition of {term}.", term=data["name"])


def weekly(ctx: Ctx) -> None:
    word = router.fold(router.split_first(ctx.args)[0])
    if word in OFF_WORDS:
        rule = store.settings_for(ctx.session, ctx.cluster.id)
        rule.weekly_day = None
        ctx.session.add(rule)
        ctx.reply("The term of the week is off.")
        return
    day = weekday_number(word)
    if day is None:
        ctx.reply("Send WEEKLY and a day (for example WEEKLY monday), or WEEKLY off.")
        return
    rule = store.settings_for(ctx.session, ctx.cluster.id)
    rule.weekly_day = day
    ctx.session.add(rule)
    store.record(ctx.session, "weekly", cluster_id=ctx.cluster.id, term_id=None, actor=ctx.member, at=ctx.now,
                 day=day)
    ctx.reply("The term of the week will be sent every {day}.", day=day_name(day, ctx.lang))


def weekday_number(word: str) -> int | None:
    if word.isdecimal() and 1 <= int(word) <= 7:
        return int(word) - 1
    return next((i for i, names in enumerate(DAY_WORDS) if word in names), None)


def day_name(day: int, lang: str) -> str:
    return get_day_names("wide", locale=i18n.babel_locale(lang))[day]


TRANSIENT = frozenset({"glossary.more", "glossary.pick", "glossary.vote"})

COMMANDS = [
    Command("DEF", define, access=ANYONE),
    Command("MORE", more, access=ANYONE, help=False),
    Command("PROPOSE", propose, access=ACTIVE),
    Command("VOTE", vote, access=ACTIVE),
    Command("DEFSET", defset, access=FACILITATOR),
    Command("WEEKLY", weekly, access=FACILITATOR),
]
FLOWS = {
    "glossary.more": Flow(more_step),
    "glossary.pick": Flow(pick_step),
    "glossary.vote": Flow(vote_step),
    "glossary.edit": Flow(edit_step, free_text=frozenset({"term", "short", "long"})),
}
MORE = {"glossary.more": _more_definition}
