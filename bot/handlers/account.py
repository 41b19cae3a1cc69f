"""A person's own settings: HELP, LANG, PROFILE, STOP and START."""

from __future__ import annotations

from bot import i18n, router, sms
from bot.context import ANYONE, MEMBER, Command, Ctx, refusal_for
from bot.handlers.choices import pick
from bot.handlers.registration import LANG_ALIASES, LANGS, STATUS_LABELS


def help_(ctx: Ctx) -> None:
    """The commands this person may use now, as many as fit one segment, most useful first."""
    from bot.handlers import COMMANDS

    words = [router.keyword(c.name, ctx.lang) for c in COMMANDS.values()
             if c.help and refusal_for(c.access, ctx.member) is None
             and not (c.name == "JOIN" and ctx.member is not None and ctx.member.status != "rejected")]
    text = ctx.t("You can send: {commands}", commands="")
    shown: list[str] = []
    for word in words:
        candidate = text + ", ".join([*shown, word])
        if not sms.fits(candidate) or len(candidate) > 160:
            break
        shown.append(word)
    ctx.say(text + ", ".join(shown))


def lang(ctx: Ctx) -> None:
    choice = pick(ctx.args, LANGS, LANG_ALIASES) if ctx.args else None
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


def profile(ctx: Ctx) -> None:
    m = ctx.member
    ctx.reply("{number} {name}, {business} ({sector}), {location}. Status: {status}.",
              number=m.number, name=m.name, business=m.business, sector=m.sector, location=m.location,
              status=ctx.t(STATUS_LABELS[m.status]))


def stop(ctx: Ctx) -> None:
    if ctx.member is not None:
        ctx.member.opted_out = True
        ctx.session.add(ctx.member)
    ctx.end_flow()
    ctx.reply("You will get no more broadcasts or reminders. Send START to get them again.")


def start(ctx: Ctx) -> None:
    if ctx.member is not None:
        ctx.member.opted_out = False
        ctx.session.add(ctx.member)
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
