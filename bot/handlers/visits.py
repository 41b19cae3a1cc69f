"""VISIT (or CALL): a facilitator logs a contact with a member and sees the cluster's reach in 12 months."""

from __future__ import annotations

from bot import parse, router
from bot.context import FACILITATOR, Command, Ctx
from bot.handlers.kpis import percent
from bot.i18n import NP_
from bot.parse import ParseError
from storage import kpis as kpi_store
from storage import visits
from storage.members import find_member

CALL_WORDS = frozenset({"call", "appel", "simu", "piga"})


def visit(ctx: Ctx) -> None:
    if not parse.words(ctx.args):
        ctx.reply("Send {keyword}, a member number or phone, and a note, for example: {keyword} {example} "
                  "talked about loans", keyword=router.keyword("VISIT", ctx.lang), example=f"{ctx.cluster.code}-001")
        return
    try:
        ref, note = parse.member_and_rest(ctx.args, ctx.region)
    except ParseError:
        ctx.reply("No member {ref} in your cluster.", ref=parse.first_word(ctx.args)[0][:24])
        return
    member = find_member(ctx.session, ctx.cluster, ref.key)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref.text[:24])
        return
    if len(note) > visits.MAX_NOTE:
        ctx.reply("Keep the note under {limit} characters. Nothing was saved.", limit=visits.MAX_NOTE)
        return
    kind = "call" if router.fold(router.split_first(ctx.text)[0]).lstrip("/") in CALL_WORDS else "visit"
    try:
        visits.log_visit(ctx.session, member, ctx.member, kind=kind, note=note, at=ctx.now)
    except visits.VisitError:
        ctx.reply("{number} is not an active member; nothing was saved.", number=member.number)
        return
    ctx.session.flush()
    found = kpi_store.contact(ctx.session, ctx.cluster, kpi_store.participants(ctx.session, ctx.cluster, ctx.now), ctx.now)
    ctx.reply(NP_("Contact with {number} {name} saved. In 12 months you reached {reached} of {count} member "
                  "({percent}).",
                  "Contact with {number} {name} saved. In 12 months you reached {reached} of {count} members "
                  "({percent})."), number=member.number, name=member.name, reached=found.numerator,
              count=found.denominator, percent=percent(ctx, found.value))


COMMANDS = [Command("VISIT", visit, access=FACILITATOR)]
SAMPLES = {"percent": "100%", "reached": "12345"}
