"""events: when each invitation was queued, so a large segment's invitations go out in batches

Revision ID: events_0002
Revises: events_0001

Invitations recorded before this revision were queued when they were published: they are marked sent.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'events_0002'
down_revision = 'events_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_event_invitations_unsent', ['event_id', 'notified_at'], unique=False)
    op.execute("UPDATE event_invitations SET notified_at = invited_at")


def downgrade() -> None:
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_event_invitations_unsent')
        batch_op.drop_column('notified_at')
