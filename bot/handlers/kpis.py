"""KPI by message: the cluster's four headline indicators against the targets of seed 002."""

from __future__ import annotations

from babel.numbers import format_percent

from bot import i18n
from bot.context import FACILITATOR, Command, Ctx
from storage import kpis as kpi_store


def percent(ctx: Ctx, value: float | None) -> str:
    if value is None:
        return "-"
    return format_percent(value, locale=i18n.babel_locale(ctx.lang, ctx.region))


def kpi(ctx: Ctx) -> None:
    found = kpi_store.by_key(kpi_store.compute(ctx.session, ctx.cluster, ctx.now))
    targets = [found[k] for k in ("committed", "industry", "contact", "joint")]
    ctx.reply("Committed {committed} (80%), firms {firms} (70%), academia {academia}, contact {contact} (40%), "
              "joint {joint} (30%): {count} of 4 met.", committed=percent(ctx, found["committed"].value),
              firms=percent(ctx, found["industry"].value), academia=found["industry"].academia or 0,
              contact=percent(ctx, found["contact"].value), joint=percent(ctx, found["joint"].value),
              count=sum(bool(k.met) for k in targets))


COMMANDS = [Command("KPI", kpi, access=FACILITATOR)]
SAMPLES = {"committed": "100%", "firms": "100%", "academia": "12", "contact": "100%", "joint": "100%"}
