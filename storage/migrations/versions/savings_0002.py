"""savings: money in 64-bit columns on PostgreSQL, where INTEGER stops at 2,147,483,647 minor units

(TSh 21,474,836.47: less than one large member's savings or one cluster's joint order). SQLite's INTEGER
already holds 64 bits, so only PostgreSQL's columns change.

Revision ID: savings_0002
Revises: savings_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "savings_0002"
down_revision = "savings_0001"
branch_labels = None
depends_on = None

COLUMNS = (  # table, column, nullable
    ("savings_rules", "ceiling_minor", True),
    ("savings_rules", "contribution_minor", False),
    ("savings_rules", "fine_minor", False),
    ("savings_accounts", "balance_minor", False),
    ("savings_loans", "principal_minor", False),
    ("savings_loans", "interest_minor", False),
    ("savings_loans", "outstanding_minor", False),
    ("savings_instalments", "principal_minor", False),
    ("savings_instalments", "interest_minor", False),
    ("savings_requests", "amount_minor", False),
    ("savings_entries", "amount_minor", False),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(),
                        existing_nullable=nullable)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(),
                        existing_nullable=nullable)
