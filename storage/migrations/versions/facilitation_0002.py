"""facilitation: dashboard login limits by requester and by number, known devices

Revision ID: facilitation_0002
Revises: facilitation_0001

A stranger's requests for a facilitator's number used up its codes an hour and locked the facilitator out.
Requests and wrong guesses are now counted per requester (a hashed client address), and a browser an
officer logged in from is remembered (a hashed device cookie) and exempt from those limits.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'facilitation_0002'
down_revision = 'facilitation_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('dashboard_devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_devices_member_id'), ['member_id'], unique=False)

    op.create_table('dashboard_login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dashboard_login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_login_attempts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dashboard_login_attempts_requester'), ['requester'], unique=False)

    with op.batch_alter_table('dashboard_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_dashboard_codes_device_id', 'dashboard_devices', ['device_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('dashboard_codes', schema=None) as batch_op:
        batch_op.drop_constraint('fk_dashboard_codes_device_id', type_='foreignkey')
        batch_op.drop_column('device_id')
    with op.batch_alter_table('dashboard_login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_login_attempts_requester'))
        batch_op.drop_index(batch_op.f('ix_dashboard_login_attempts_created_at'))
    op.drop_table('dashboard_login_attempts')
    with op.batch_alter_table('dashboard_devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_devices_member_id'))
    op.drop_table('dashboard_devices')
