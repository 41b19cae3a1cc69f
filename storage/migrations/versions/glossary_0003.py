"""glossary: the seed's aliases in every language reach databases seeded before they were written

A database migrated before this revision holds the seed as glossary_0001 read it then: Amharic members
typing ቁጠባ, Swahili akiba or French épargne found nothing. The shipped glossary's entries (cluster_id
NULL) get every alias the seed file now lists, added after the aliases they already have (an import may
have changed them: nothing is removed). Clusters' own entries are not touched. The global lookup
counter moves so a running process rebuilds its index.

Revision ID: glossary_0003
Revises: glossary_0002
"""

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "glossary_0003"
down_revision = "glossary_0002"
branch_labels = None
depends_on = None

SEED_FILE = Path(__file__).resolve().parents[2] / "glossary_seed.csv"
ALIASES_LIMIT = 300  # the column's length
GLOBAL_SCOPE = 0

terms = sa.table("glossary_terms", sa.column("id", sa.Integer), sa.column("key", sa.String),
                 sa.column("cluster_id", sa.Integer))
entries = sa.table("glossary_entries", sa.column("id", sa.Integer), sa.column("term_id", sa.Integer),
                   sa.column("cluster_id", sa.Integer), sa.column("lang", sa.String),
                   sa.column("name", sa.String), sa.column("aliases", sa.String))
versions = sa.table("glossary_versions", sa.column("scope", sa.Integer), sa.column("generation", sa.Integer))


def merged(current: str, name: str, seeded: str) -> str:
    """The entry's aliases, then the seed's it lacks (not its own name), within the column's length."""
    words = [a.strip() for a in current.split("|") if a.strip()]
    for alias in (a.strip() for a in seeded.split("|")):
        if alias and alias != name and alias not in words and len("|".join([*words, alias])) <= ALIASES_LIMIT:
            words.append(alias)
    return "|".join(words)


def upgrade() -> None:
    bind = op.get_bind()
    with SEED_FILE.open(encoding="utf-8", newline="") as fh:
        seed = {(row["key"], row["lang"]): row["aliases"] for row in csv.DictReader(fh)}
    rows = bind.execute(sa.select(entries.c.id, terms.c.key, entries.c.lang, entries.c.name, entries.c.aliases)
                        .join(terms, terms.c.id == entries.c.term_id)
                        .where(terms.c.cluster_id.is_(None), entries.c.cluster_id.is_(None))).all()
    changed = 0
    for entry_id, key, lang, name, aliases in rows:
        if (key, lang) not in seed:
            continue
        new = merged(aliases, name, seed[(key, lang)])
        if new != aliases:
            bind.execute(entries.update().where(entries.c.id == entry_id).values(aliases=new))
            changed += 1
    if changed:
        bumped = bind.execute(versions.update().where(versions.c.scope == GLOBAL_SCOPE)
                              .values(generation=versions.c.generation + 1))
        if not bumped.rowcount:
            bind.execute(versions.insert().values(scope=GLOBAL_SCOPE, generation=1))


def downgrade() -> None:
    """Aliases stay: they cannot be told from the ones an import added, and they harm nothing."""
