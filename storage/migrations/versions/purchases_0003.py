"""purchases: how to pay holds a till number and a name ("Lipa na M-Pesa till 5123456 Moshi Coffee Coop"),
50 characters instead of 30: as long as the closing notice, which carries it beside the amount, the
quantity and PAID, keeps to one SMS in Amharic (134 UCS-2 characters)

Revision ID: purchases_0003
Revises: purchases_0002
"""

import sqlmodel
from alembic import op

revision = "purchases_0003"
down_revision = "purchases_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.alter_column("pay_to", type_=sqlmodel.sql.sqltypes.AutoString(length=50),
                           existing_type=sqlmodel.sql.sqltypes.AutoString(length=30), existing_nullable=False)


def downgrade() -> None:
    # a longer way to pay would not fit the old column: cut to 30 characters, as creating a purchase did
    op.execute("UPDATE purchases SET pay_to = substr(pay_to, 1, 30)")  # SQLite and PostgreSQL alike
    with op.batch_alter_table("purchases") as batch:
        batch.alter_column("pay_to", type_=sqlmodel.sql.sqltypes.AutoString(length=30),
                           existing_type=sqlmodel.sql.sqltypes.AutoString(length=50), existing_nullable=False)
