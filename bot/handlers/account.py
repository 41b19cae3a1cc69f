"""A person's own settings: HELP, LANG, PROFILE, STOP and START."""

from __future__ import annotations

from bot import flow, i18n, parse, router, sms
from bot.context import ADMIN, ANYONE, FACILITATOR, MEMBER, TREASURER, Command, Ctx, Flow, refusal_for
from bot.handlers.glossary import MORE_HINT, start_more
from bot.handlers.glossary.shared import replaceable
from bot.handlers.registration import JOIN, STATUS_LABELS
from bot.i18n import N_
from storage.members import record_start, record_stop

# What each role needs most, first; every other command follows in the order of the command table.
FIRST = {
    "member": ("DEF", "EVENTS", "YES", "BUY", "SAVE", "BAL", "STMT", "LOAN", "REPAY", "PAID", "POLL", "HERE",
               "PROPOSE", "VOTE", "PROFILE", "LANG"),
    "facilitator": ("APPROVE", "BCAST", "KPI", "VISIT", "NEWEVENT", "EVENT", "NEWBUY", "PURCHASE", "NEWPOLL",
                    "RESULTS", "REPORT", "VOTE", "DEFSET"),
    "treasurer": ("CONFIRM", "DECLINE", "DEP", "SACCOS", "PAYOK", "PAYNO", "WITHDRAW", "PAYOUT", "REVERSE"),
}
STRANGER_FIRST = ("JOIN", "DEF", "LANG")
ADMIN_WORDS = frozenset({"admin", "msimamizi", "gestion", "አስተዳዳሪ"})
TOPIC_WORDS = {"glossary": "DEF", "events": "EVENTS", "purchases": "BUY", "savings": "SAVE", "polls": "POLL"}
HIDDEN = frozenset({"HELP", "LINK", "STOP", "START"})
HELP_FLOW = "account.help"  # HELP's pages, turned with MORE


def _usable(ctx: Ctx, name: str) -> bool:
    command = ctx.table.commands[name]
    if name == "JOIN":
        return ctx.member is None or ctx.member.status == "rejected"
    return refusal_for(command.access, ctx.member) is None


def _general(ctx: Ctx) -> list[str]:
    """The commands HELP offers this person, most useful for their role first."""
    if ctx.member is None or ctx.member.status != "active":
        first: tuple[str, ...] = STRANGER_FIRST
    else:
        first = FIRST.get(ctx.member.admin_role, ()) + FIRST["member"]
    helpful = [c.name for c in ctx.table.commands.values() if c.help]
    order = list(dict.fromkeys([*first, *helpful]))
    return [name for name in order if name in ctx.table.commands and name not in HIDDEN and _usable(ctx, name)]


def _topic(ctx: Ctx, word: str) -> list[str] | None:
    """HELP SAVE, HELP BUY, HELP ADMIN...: every command of that domain (or every admin command) this
    person may use, rarer ones included; None when the word names no topic."""
    folded = router.fold(word)
    if folded in ADMIN_WORDS:
        admin = [c.name for c in ctx.table.commands.values() if c.access in (FACILITATOR, TREASURER, ADMIN)]
        first = FIRST.get(ctx.member.admin_role, ()) if ctx.member is not None else ()
        names = list(dict.fromkeys([*first, *admin]))
    else:
        found = router.match(TOPIC_WORDS.get(folded, word))
        if found is None:
            return None
        domain = next(d for d in ctx.table.domains if any(c.name == found.command for c in d))
        names = [c.name for c in domain]
    shown = [name for name in names if name not in HIDDEN and _usable(ctx, name)]
    return shown or None


def help_(ctx: Ctx) -> None:
    """The commands this person may use now, most useful first, in pages of one segment each: a page that
    is not the last ends with (MORE), or with (HELP 2) while another conversation is open and MORE would
    answer it. `HELP ADMIN`, `HELP SAVE`... page through one topic the same way; `HELP 2` names a page."""
    words = parse.words(ctx.args)
    page = int(words.pop()) if words and words[-1].isdigit() and 0 < int(words[-1]) < 100 else 1
    topic = _topic(ctx, words[0]) if words else None
    names = topic or _general(ctx)
    label = [router.keyword("HELP", ctx.lang), *([words[0].upper()] if topic else [])]
    pages = _pages(ctx, [router.keyword(name, ctx.lang) for name in names], label, replaceable(ctx))
    index = min(page, len(pages)) - 1
    if index + 1 < len(pages):
        start_more(ctx, HELP_FLOW, "page", {"pages": pages, "next": index + 1})
    elif ctx.conversation is not None and ctx.conversation.flow == HELP_FLOW:
        ctx.end_flow()
    ctx.say(pages[index])


def more_help(ctx: Ctx) -> None:
    """MORE while HELP's pages are open: the next page, the last one closing the pager."""
    data = ctx.data
    index = data["next"]
    if index + 1 < len(data["pages"]):
        ctx.set_step("page", {**data, "next": index + 1})
    else:
        ctx.end_flow()
    ctx.say(data["pages"][index])


def help_step(ctx: Ctx) -> None:
    """Words that are no command while HELP's pages are open: close them and answer as without them."""
    ctx.end_flow()
    if ctx.member is None:
        ctx.reply("Welcome! To register with your cluster send JOIN, or HELP for more.")
    else:
        ctx.reply("Sorry, I did not understand that. Send HELP to see what you can send.")


def _pages(ctx: Ctx, words: list[str], label: list[str], more: bool) -> list[str]:
    """Every word, in order, on as many pages as it takes; each page one segment, the prefix and (when
    another page follows) the hint included, so no page ends in a fragment and none is left out."""
    prefix = ctx.t("You can send: {commands}", commands="")
    pages: list[str] = []
    rest = list(words)
    while rest:
        hint = ctx.t(MORE_HINT) if more else "(" + " ".join([*label, str(len(pages) + 2)]) + ")"
        shown = _fill(prefix, rest)
        if len(shown) < len(rest):
            shown = _fill(prefix, rest, tail=" " + hint) or rest[:1]
        text = prefix + ", ".join(shown)
        rest = rest[len(shown):]
        pages.append(f"{text} {hint}" if rest else text)
    return pages or [prefix.rstrip(" :፦")]


def _fill(prefix: str, words: list[str], tail: str = "") -> list[str]:
    """As many words as fit one SMS after the prefix (and before the tail, when there is one)."""
    shown: list[str] = []
    for word in words:
        candidate = prefix + ", ".join([*shown, word]) + tail
        if not sms.fits(candidate) or len(candidate) > 160:
            break
        shown.append(word)
    return shown


def lang(ctx: Ctx) -> None:
    choice = flow.pick(ctx.args, JOIN.step("language")) if ctx.args else None  # as JOIN reads it
    if choice is None:
        ctx.reply("Send LANG and a language: en English, sw Kiswahili, fr Français, am Amharic.")
        return
    ctx.lang = choice
    ctx.identity.language = choice
    ctx.session.add(ctx.identity)
    if ctx.member is not None:
        ctx.member.language = choice
        ctx.session.add(ctx.member)
    ctx.reply("Your language is now {language}.", language=i18n.LANGUAGE_NAMES[choice])


# PROFILE by which of business, sector and location the bot holds: a facilitator added by the CLI, or a
# member imported from a short list, has none of them, and an empty field must leave no stray punctuation.
PROFILES = {
    (True, True, True): N_("{member}, {business} ({sector}), {location}. Status: {status}."),
    (True, True, False): N_("{member}, {business} ({sector}). Status: {status}."),
    (True, False, True): N_("{member}, {business}, {location}. Status: {status}."),
    (True, False, False): N_("{member}, {business}. Status: {status}."),
    (False, True, True): N_("{member}, {sector}, {location}. Status: {status}."),
    (False, True, False): N_("{member}, {sector}. Status: {status}."),
    (False, False, True): N_("{member}, {location}. Status: {status}."),
    (False, False, False): N_("{member}. Status: {status}."),
}
SAMPLES = {"member": "MOSHI-0123 Mwanaisha Abdallah Kilimanjaro"}  # the number and the longest name


def profile(ctx: Ctx) -> None:
    m = ctx.member
    fields = {k: (getattr(m, k) or "").strip() for k in ("name", "business", "sector", "location")}
    member = " ".join(part for part in (m.number, fields["name"]) if part)
    ctx.reply(PROFILES[bool(fields["business"]), bool(fields["sector"]), bool(fields["location"])],
              member=member, business=fields["business"],
              sector=fields["sector"], location=fields["location"], status=ctx.t(STATUS_LABELS[m.status]))


def stop(ctx: Ctx) -> None:
    """Recorded on this address at once, member or not (a STOP mid-registration stays in force)."""
    record_stop(ctx.session, ctx.identity, ctx.member)
    if ctx.conversation is not None:
        flow.leave(ctx, ctx.table.flows.get(ctx.conversation.flow))  # the flow tidies up what it holds
    ctx.reply("You will get no more broadcasts or reminders. Send START to get them again.")


def start(ctx: Ctx) -> None:
    record_start(ctx.session, ctx.identity, ctx.member)
    if ctx.member is None:
        ctx.reply("Welcome! To register with your cluster send JOIN, or HELP for more.")
        return
    ctx.reply("Welcome back! You will get broadcasts and reminders again.")


COMMANDS = [
    Command("HELP", help_, access=ANYONE),
    Command("LANG", lang, access=ANYONE),
    Command("PROFILE", profile, access=MEMBER),
    Command("STOP", stop, access=ANYONE, help=False),
    Command("START", start, access=ANYONE, help=False),
]
FLOWS = {HELP_FLOW: Flow(help_step)}
MORE = {HELP_FLOW: more_help}
