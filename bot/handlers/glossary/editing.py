"""Facilitators' editing: their cluster's definitions (DEFSET, a guided flow) and the term-of-the-week day.

A definition must fit where it is shown: the short one with its name and the MORE hint in one SMS, and in
the term-of-the-week message; the long explanation in MAX_PAGES messages. The CLI's import checks rows
with the same rules (short_fits, long_fits).
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import get_day_names

from bot import i18n, parse, sms
from bot.context import FACILITATOR, Ctx
from bot.flow import Flow, Step, StepError
from bot.handlers.glossary.lookup import MAX_PAGES, pages
from bot.handlers.glossary.shared import MORE_HINT, WEEKLY_MESSAGE, open_with, proposed_term
from bot.i18n import N_
from bot.parse import ParseError
from storage import glossary as store
from storage.db import utcnow

OFF_WORDS = {"off", "no", "stop", "zima", "hapana", "non", "arret", "አጥፋ", "ጠፍቷል", "አይ"}
TOO_LONG = N_("Too long: at most {limit} characters. Send it again, shorter.")


# --- DEFSET ---------------------------------------------------------------------------------------

def short_fits(lang: str, name: str, short: str) -> bool:
    hint = i18n.translate(lang, MORE_HINT)
    weekly = i18n.translate(lang, WEEKLY_MESSAGE, term=name, definition=short)
    return sms.fits(f"{name}: {short} {hint}") and sms.fits(weekly)


def long_fits(lang: str, text: str) -> bool:
    return len(pages(lang, text)) <= MAX_PAGES and len(text) <= store.LONG_LIMIT


def _short_limit(ctx: Ctx, name: str) -> int:
    """How long a short definition may be so that it, the name and the hints fit one message."""
    room = 134 if ctx.lang == "am" else 160
    longest = max(len(f"{name}: ") + len(ctx.t(MORE_HINT)) + 1, len(ctx.t(WEEKLY_MESSAGE, term=name, definition="")))
    return max(20, min(store.SHORT_LIMIT, room - longest))


def _start(ctx: Ctx) -> dict | None:
    """DEFSET alone asks for the term; DEFSET and a term takes it as the first answer."""
    text = ctx.args.strip()
    if not text:
        return {}
    open_with(ctx, EDIT, text)
    return None


def _read_term(ctx: Ctx, text: str, values: dict) -> int | None:
    """The term to define (None: a new one); its name as this facilitator will see it goes in `name`."""
    name = parse.clean(text)
    if not 2 <= len(name) <= store.NAME_LIMIT:
        raise StepError(N_("Please send a term of 2 to {limit} characters."), limit=store.NAME_LIMIT)
    found = ctx.glossary.find(ctx.session, name, ctx.cluster.id)
    term_id = found.term_id or proposed_term(ctx, name)
    if term_id is not None:
        entry = store.entry_for(ctx.session, term_id, ctx.cluster.id, ctx.lang)
        name = entry.name if entry and entry.lang == ctx.lang else name
    values["name"] = name
    return term_id


def _read_short(ctx: Ctx, text: str, values: dict) -> str:
    if not text or len(text) > store.SHORT_LIMIT or not short_fits(ctx.lang, values["name"], text):
        raise StepError(TOO_LONG, limit=_short_limit(ctx, values["name"]))
    return text


def _read_long(ctx: Ctx, text: str, values: dict) -> str:
    long = "" if text == "0" else text
    if not long_fits(ctx.lang, long):
        raise StepError(N_("Too long: the explanation must fit 3 messages. Send it shorter, or 0 to skip."))
    return long


def _term(ctx: Ctx, values: dict) -> dict:
    return {"term": values["name"]}


def _term_and_limit(ctx: Ctx, values: dict) -> dict:
    return {"term": values["name"], "limit": _short_limit(ctx, values["name"])}


def _short(values: dict) -> str:
    return values["short"] if "short" in values else values["new_short"]


def _save(ctx: Ctx, values: dict) -> None:
    if values["confirm"] == "drop":
        ctx.reply("Cancelled; nothing was changed.")
        return
    store.define(ctx.session, ctx.cluster, ctx.member, values["term"], values["name"], ctx.lang, _short(values),
                 values["long"], ctx.now)
    ctx.reply("Saved. Members of your cluster now get your definition of {term}.", term=values["name"])


EDIT = Flow(
    "glossary.edit",
    steps=[
        Step("term", N_("Which term do you want to define? Send its name."), reader=_read_term, free_text=True),
        Step("short", N_("Editing {term}. Send its short definition (at most {limit} characters)."),
             reader=_read_short, fill=_term_and_limit, free_text=True, when=lambda v: v["term"] is not None),
        Step("new_short", N_("New term {term}. Send its short definition (at most {limit} characters)."),
             reader=_read_short, fill=_term_and_limit, free_text=True, when=lambda v: v["term"] is None),
        Step("long", N_("Send a longer explanation (up to 3 messages), or 0 to skip."), reader=_read_long,
             free_text=True, optional=True, default=""),
        Step("confirm", N_("Save the definition of {term}? Reply 1 to save, 2 to cancel."), fill=_term,
             choices=[("save", N_("Save")), ("drop", N_("Do not save"))], listed=True,
             hint=N_("Please reply 1 to save or 2 to cancel.")),
    ],
    finish=_save,
    keyword="DEFSET",
    access=FACILITATOR,
    start=_start,
)


# --- WEEKLY ---------------------------------------------------------------------------------------

def weekly(ctx: Ctx) -> None:
    first, _rest = parse.first_word(ctx.args)
    if parse.fold(first) in OFF_WORDS:
        rule = store.settings_for(ctx.session, ctx.cluster.id)
        rule.weekly_day = None
        ctx.session.add(rule)
        ctx.reply("The term of the week is off.")
        return
    day = weekday_number(first, ctx.lang, tz=ctx.timezone, now=ctx.now)
    if day is None:
        ctx.reply("Send WEEKLY and a day (for example WEEKLY monday), or WEEKLY off.")
        return
    rule = store.settings_for(ctx.session, ctx.cluster.id)
    rule.weekly_day = day
    ctx.session.add(rule)
    store.record(ctx.session, "weekly", cluster_id=ctx.cluster.id, term_id=None, actor=ctx.member, at=ctx.now,
                 day=day)
    ctx.reply("The term of the week will be sent every {day}.", day=day_name(day, ctx.lang))


def weekday_number(text: str, lang: str | None = None, *, tz: str = "UTC", now: datetime | None = None) -> int | None:
    """0 (Monday) to 6 from a day's number (1 to 7) or its name in any language (jumatatu, lundi, ሰኞ, wed),
    read by the shared parser's day names; None for anything else (a date, 8, a month)."""
    word = parse.fold(text)
    try:
        number = parse.ident(word)
    except ParseError:
        number = None
    if number is not None:
        return number - 1 if number <= 7 else None
    if not word or any(ch.isdigit() for ch in word):
        return None
    try:
        return parse.day(word, tz, now or utcnow(), lang).weekday()
    except ParseError:
        return None


def day_name(day: int, lang: str) -> str:
    return get_day_names("wide", locale=i18n.babel_locale(lang))[day]
