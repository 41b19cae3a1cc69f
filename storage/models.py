"""Every table module, imported so SQLModel's metadata (and Alembic's comparison) sees all of them.

DOMAINS lists the modules whose EXPORTS (and other per-domain tables) the rest of the code collects.
"""

from sqlmodel import SQLModel

from storage import (
    audit,
    broadcasts,
    clusters,
    dashboard_auth,
    events,
    exports,
    glossary,
    kpis,
    members,
    messages,
    polls,
    purchases,
    savings,
    schedule,
    ussd,
    visits,
)

DOMAINS = (clusters, members, messages, schedule, audit, glossary, events, purchases, savings, polls, broadcasts,
           visits, dashboard_auth, ussd)

metadata = SQLModel.metadata


def export_registry() -> dict[str, exports.Exporter]:
    """Every export KIND; each domain module may offer its own in an EXPORTS dict."""
    kinds: dict[str, exports.Exporter] = {"members": kpis.members_rows, "messages": exports.messages_rows}
    for module in DOMAINS:
        kinds.update(getattr(module, "EXPORTS", {}))
    return kinds
