"""Every table module, imported so SQLModel's metadata (and Alembic's comparison) sees all of them.

DOMAINS lists the modules whose EXPORTS (and other per-domain tables) the rest of the code collects.
"""

from sqlmodel import SQLModel

from storage import audit, clusters, members, messages, schedule

DOMAINS = (clusters, members, messages, schedule, audit)

metadata = SQLModel.metadata
