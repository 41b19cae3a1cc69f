"""VISIT (or CALL): a facilitator logs a contact with a member and sees the cluster's reach in 12 months."""

from __future__ import annotations

from bot import router
from bot.context import FACILITATOR, Command, Ctx
from bot.handlers.kpis import percent
from storage import kpis as kpi_store
from storage import visits
from storage.members import find_member

CALL_WORDS = frozenset({"call", "appel", "simu", "piga"})


def visit(ctx: Ctx) -> None:
    ref, note = router.split_first(ctx.args)
    if not ref:
        ctx.reply("Send {keyword}, a member number or phone, and a note, for example: {keyword} {example} "
                  "talked about loans", keyword=router.keyword("VISIT", ctx.lang), example=f"{ctx.cluster.code}-001")
        return
    member = find_member(ctx.session, ctx.cluster, ref)
    if member is None:
        ctx.reply("No member {ref} in your cluster.", ref=ref[:24])
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
    found = kpi_store.contact(ctx.session, ctx.cluster, kpi_store.participants(ctx.session, ctx.cluster), ctx.now)
    ctx.reply("Contact with {number} {name} saved. In 12 months you reached {count} of {members} members "
              "({percent}).", number=member.number, name=member.name, count=found.numerator,
              members=found.denominator, percent=percent(ctx, found.value))


COMMANDS = [Command("VISIT", visit, access=FACILITATOR)]
SAMPLES = {"members": "12345", "percent": "100%"}
