"""Looking a term up: DEF in any language (typos forgiven), the topics, MORE for a long explanation.

Who sees what: anyone (strangers included) may look a term up and gets the global glossary; active
members also see their own cluster's wording, which wins.

The pager (MORE) and the picker (a digit for "Did you mean" or a topic) stay step handlers rather than
flows of bot/flow.py: they are not questions to answer. Any other text while one is open is a new
lookup, not a wrong answer to re-ask, and the picker's choices are the terms the last lookup found.
"""

from __future__ import annotations

from bot import i18n, parse, sms
from bot.context import Ctx
from bot.handlers.glossary.shared import (
    MORE_HINT,
    PAGER,
    PICKER,
    QUERY_LIMIT,
    TRANSIENT,
    fitted,
    heading,
    name,
    numbered,
    scope,
    start_more,
)
from bot.i18n import N_
from bot.parse import ParseError
from storage import glossary as store

TOPICS = [("basics", N_("Basics")), ("people", N_("People")), ("innovation", N_("Innovation")),
          ("together", N_("Together")), ("money", N_("Money")), ("plans", N_("Plans"))]
MAX_PAGES = 3
NOTHING_MORE = N_("There is nothing more to show.")


# --- MORE -----------------------------------------------------------------------------------------

def more(ctx: Ctx) -> None:
    conv = ctx.conversation
    if conv is None or conv.flow not in ctx.table.more:
        ctx.reply(NOTHING_MORE)
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


def more_definition(ctx: Ctx) -> None:
    data = ctx.data
    entry = store.entry_for(ctx.session, data["term"], data["scope"], data["lang"])
    rest = f"{data.get('rest', '')} {entry.long}".strip() if entry else ""  # what the first message left out
    parts = pages(ctx.lang, rest)
    index = data["next"]
    if index >= len(parts):
        ctx.end_flow()
        ctx.reply(NOTHING_MORE)
        return
    text = parts[index]
    if index + 1 < len(parts):
        text += " " + ctx.t(MORE_HINT)
        ctx.set_step("page", {**data, "next": index + 1})
    else:
        ctx.end_flow()
    ctx.say(text)


# --- Looking a term up ----------------------------------------------------------------------------

def define(ctx: Ctx) -> None:
    query = parse.clean(ctx.args)[:QUERY_LIMIT]
    if not query:
        _topics(ctx)
        return
    lookup(ctx, query)


def week_term(ctx: Ctx) -> None:
    """This week's term for the member's cluster (the one the term of the week sends), shown as DEF shows it."""
    term_id = store.weekly_term(ctx.session, ctx.cluster.id, store.week_number(ctx.now, ctx.timezone))
    if term_id is None:
        ctx.reply(N_("The glossary has no terms yet."))
        return
    _show(ctx, term_id, scope(ctx))


def lookup(ctx: Ctx, query: str) -> None:
    here = scope(ctx)
    found = ctx.glossary.find(ctx.session, query, here)
    if ctx.member is None and not ctx.identity.language and ctx.lang == "en" and found.lang:
        ctx.lang = found.lang  # a stranger who writes "DEF ክላስተር" reads Amharic
    if found.term_id is not None:
        _show(ctx, found.term_id, here)
    elif found.candidates:
        _did_you_mean(ctx, found.candidates, here)
    else:
        unknown = N_("I have no definition of {word}. Send DEF for topics, or PROPOSE {word} = your word.")
        word = query[:store.WORD_LIMIT]
        while len(word) > 1 and not sms.fits(ctx.t(unknown, word=word)):
            word = word[:-1]  # a long unknown word in a wide script: shorten the echo, not the advice
        ctx.reply(unknown, word=word)


def _show(ctx: Ctx, term_id: int, here: int | None) -> None:
    """The definition headed by the term's name and the cluster's adopted word; what does not fit one
    message waits for MORE."""
    entry, title = heading(ctx.session, term_id, here, ctx.lang)
    if entry is None or not entry.short:
        ctx.reply("{term} has no definition yet. A facilitator can add one with DEFSET {term}.",
                  term=entry.name if entry else "?")
        return
    hint = " " + ctx.t(MORE_HINT)
    tail = hint if entry.long or not sms.fits(f"{title}: {entry.short}") else ""
    short, rest = fitted(lambda shown: f"{title}: {shown}{tail}", entry.short)
    text = f"{title}: {short}"
    data = {"term": term_id, "scope": here, "lang": entry.lang, "next": 0, "rest": rest}
    if (entry.long or rest) and start_more(ctx, PAGER, "page", data):
        text += hint
    elif ctx.conversation is not None and ctx.conversation.flow in TRANSIENT:
        ctx.end_flow()
    ctx.say(text)


def _did_you_mean(ctx: Ctx, candidates: list[int], here: int | None) -> None:
    names = [name(ctx, t, here) for t in candidates]
    while len(names) > 1 and not sms.fits(ctx.t("Did you mean: {options}? Reply with a digit.",
                                                options=numbered(names))):
        names.pop()
    if start_more(ctx, PICKER, "term", {"terms": candidates[:len(names)], "scope": here}):
        ctx.reply("Did you mean: {options}? Reply with a digit.", options=numbered(names),
                  buttons=[(label, str(i)) for i, label in enumerate(names, start=1)])
    else:
        ctx.reply("Did you mean: {options}? Send DEF and the word.", options=", ".join(names))


def _topics(ctx: Ctx) -> None:
    labels = [ctx.t(label) for _key, label in TOPICS]
    if start_more(ctx, PICKER, "topic", {"scope": scope(ctx)}):
        ctx.reply("Topics: {options}. Reply with a digit, or send DEF and a word.", options=numbered(labels),
                  buttons=[(label, str(i)) for i, (_key, label) in enumerate(TOPICS, start=1)])
    else:
        ctx.reply("Send DEF and a word, for example: DEF {example}", example=name(ctx, _first_term(ctx), None))


def _first_term(ctx: Ctx) -> int:
    return store.topic_terms(ctx.session, "basics", None)[0].id


def _topic_list(ctx: Ctx, topic: str, label: str, here: int | None) -> None:
    names: list[str] = []
    for term in store.topic_terms(ctx.session, topic, here):
        candidate = ctx.t("{title}: {options}. Send DEF and a word.", title=ctx.t(label),
                          options=", ".join([*names, name(ctx, term.id, here)]))
        if not sms.fits(candidate):
            break
        names.append(name(ctx, term.id, here))
    ctx.end_flow()
    ctx.reply("{title}: {options}. Send DEF and a word.", title=ctx.t(label), options=", ".join(names))


def pick_step(ctx: Ctx) -> None:
    """A digit picks a suggested term or a topic; any other text is looked up as a term."""
    data, step = ctx.data, ctx.conversation.step
    count = len(data["terms"]) if step == "term" else len(TOPICS)
    try:
        index = parse.ident(ctx.text.strip(" .,!")) - 1
    except ParseError as exc:
        if exc.code in ("empty", "invalid"):
            ctx.end_flow()
            lookup(ctx, ctx.text[:QUERY_LIMIT])
            return
        index = -1  # 0, or more digits than any list has
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
    lookup(ctx, ctx.text[:QUERY_LIMIT])
