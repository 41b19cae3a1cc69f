"""KPI by message: the cluster's four headline indicators against the targets of seed 002, and the
facilitator's committed mark (COMMITTED / UNCOMMITTED), the one way of taking part the records cannot show
(a fee paid in cash, a signed commitment)."""

from __future__ import annotations

from babel.numbers import format_percent

from bot import i18n, parse, router
from bot.context import FACILITATOR, Command, Ctx
from bot.i18n import NP_
from bot.parse import ParseError
from storage import kpis as kpi_store
from storage.members import Member, MemberError, clear_committed, find_member, mark_committed


def percent(ctx: Ctx, value: float | None) -> str:
    """A share as the reader's language writes it, kept tight for one SMS: French "50 %" becomes "50%", as
    the translated targets beside it are written."""
    if value is None:
        return "-"
    return format_percent(value, locale=i18n.babel_locale(ctx.lang, ctx.region)).replace("\u00a0", "").replace(
        "\u202f", "")


def kpi(ctx: Ctx) -> None:
    found = kpi_store.by_key(kpi_store.compute(ctx.session, ctx.cluster, ctx.now))
    targets = [found[k] for k in ("committed", "industry", "contact", "joint")]
    committed = found["committed"]
    ctx.reply(NP_("12 months: {committed} of {count} member took part, {percent} (min 80%); firms {firms} "
                  "(>70%), academia {academia}; contacted {contact} (>40%); joint activities {joint} (>30%). "
                  "{met} of 4 met.",
                  "12 months: {committed} of {count} members took part, {percent} (min 80%); firms {firms} "
                  "(>70%), academia {academia}; contacted {contact} (>40%); joint activities {joint} (>30%). "
                  "{met} of 4 met."),
              committed=committed.numerator or 0, count=committed.denominator or 0,
              percent=percent(ctx, committed.value), firms=percent(ctx, found["industry"].value),
              academia=found["industry"].academia or 0, contact=percent(ctx, found["contact"].value),
              joint=percent(ctx, found["joint"].value), met=sum(bool(k.met) for k in targets))


def _member(ctx: Ctx) -> Member | None:
    """The member the whole text after the command names (bot.parse.member_ref), or None after saying why."""
    try:
        ref = parse.member_ref(ctx.args, ctx.region)
    except ParseError:
        ctx.reply("Send {keyword} and a member number or phone, for example: {keyword} {example}",
                  keyword=router.keyword(ctx.command, ctx.lang), example=f"{ctx.cluster.code}-001")
        return None
    member = find_member(ctx.session, ctx.cluster, ref.key)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref.text[:24])
    return member


def commit(ctx: Ctx) -> None:
    member = _member(ctx)
    if member is None:
        return
    try:
        mark_committed(ctx.session, member, ctx.member, ctx.now, via=ctx.channel)
    except MemberError:
        ctx.reply("{number} is not an active member; nothing was saved.", number=member.number)
        return
    until = i18n.local_time(member.committed_at + kpi_store.YEAR, ctx.timezone)
    ctx.reply("{number} {name} is marked committed until {date}. To clear it: {keyword} {number}",
              number=member.number, name=member.name, date=i18n.format_day(until, ctx.lang, ctx.region),
              keyword=router.keyword("UNCOMMITTED", ctx.lang))


def uncommit(ctx: Ctx) -> None:
    member = _member(ctx)
    if member is None:
        return
    if not clear_committed(ctx.session, member, ctx.member, via=ctx.channel):
        ctx.reply("{number} {name} has no committed mark; nothing changed.", number=member.number,
                  name=member.name)
        return
    ctx.session.flush()
    if member.id in kpi_store.committed_ids(ctx.session, ctx.cluster.id, ctx.now):
        ctx.reply("Mark cleared for {number} {name}. They still count as committed: they saved, attended or "
                  "pledged in the last 12 months.", number=member.number, name=member.name)
    else:
        ctx.reply("Mark cleared for {number} {name}. They no longer count as committed.", number=member.number,
                  name=member.name)


COMMANDS = [Command("KPI", kpi, access=FACILITATOR),
            Command("COMMITTED", commit, access=FACILITATOR),
            Command("UNCOMMITTED", uncommit, access=FACILITATOR)]
SAMPLES = {"committed": "12345", "percent": "100%", "firms": "100%", "academia": "123", "contact": "100%",
           "joint": "100%", "met": "4"}
