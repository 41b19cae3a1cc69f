"""savings: accounts, the append-only ledger, requests, loans, schedules, votes and rules

Revision ID: savings_0001
Revises: 0001_foundation
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "savings_0001"
down_revision = "0001_foundation"
branch_labels = ("savings",)
depends_on = None

SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER savings_entries_no_update BEFORE UPDATE ON savings_entries "
    "BEGIN SELECT RAISE(ABORT, 'savings_entries is append-only'); END",
    "CREATE TRIGGER savings_entries_no_delete BEFORE DELETE ON savings_entries "
    "BEGIN SELECT RAISE(ABORT, 'savings_entries is append-only'); END",
]
POSTGRES_APPEND_ONLY = [
    "CREATE FUNCTION savings_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'savings_entries is append-only'; END $$",
    "CREATE TRIGGER savings_entries_append_only BEFORE UPDATE OR DELETE ON savings_entries "
    "FOR EACH ROW EXECUTE FUNCTION savings_entries_append_only()",
]


def upgrade() -> None:
    op.create_table('savings_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('loan_multiple', sa.Integer(), nullable=False),
    sa.Column('interest_bp', sa.Integer(), nullable=False),
    sa.Column('interest_method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('max_term_months', sa.Integer(), nullable=False),
    sa.Column('ceiling_minor', sa.Integer(), nullable=True),
    sa.Column('contribution_minor', sa.Integer(), nullable=False),
    sa.Column('contribution_day', sa.Integer(), nullable=False),
    sa.Column('remind_days', sa.Integer(), nullable=False),
    sa.Column('fine_minor', sa.Integer(), nullable=False),
    sa.Column('committee_k', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id')
    )
    op.create_table('savings_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('balance_minor', sa.Integer(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id', 'member_id')
    )
    with op.batch_alter_table('savings_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_accounts_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_accounts_member_id'), ['member_id'], unique=False)
    op.create_table('savings_committee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id', 'member_id')
    )
    with op.batch_alter_table('savings_committee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_committee_cluster_id'), ['cluster_id'], unique=False)
    op.create_table('savings_loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('principal_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('interest_bp', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('interest_minor', sa.Integer(), nullable=False),
    sa.Column('outstanding_minor', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('disbursed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('repaid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['savings_accounts.id'], ),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('savings_loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_loans_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_loans_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_loans_status'), ['status'], unique=False)
    op.create_table('savings_instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal_minor', sa.Integer(), nullable=False),
    sa.Column('interest_minor', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['savings_loans.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('loan_id', 'number')
    )
    with op.batch_alter_table('savings_instalments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_instalments_loan_id'), ['loan_id'], unique=False)
    op.create_table('savings_loan_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('approve', sa.Boolean(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['savings_loans.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('loan_id', 'member_id')
    )
    with op.batch_alter_table('savings_loan_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_loan_votes_loan_id'), ['loan_id'], unique=False)
    op.create_table('savings_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['savings_accounts.id'], ),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['loan_id'], ['savings_loans.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('savings_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_requests_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_requests_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_requests_status'), ['status'], unique=False)
    op.create_table('savings_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['savings_accounts.id'], ),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['loan_id'], ['savings_loans.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['savings_requests.id'], ),
    sa.ForeignKeyConstraint(['reverses_id'], ['savings_entries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id'),
    sa.UniqueConstraint('reverses_id')
    )
    with op.batch_alter_table('savings_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_savings_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_entries_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_savings_entries_loan_id'), ['loan_id'], unique=False)
    op.create_table('savings_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['savings_requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id', 'reference')
    )

    _append_only()


def _append_only() -> None:
    """The ledger refuses UPDATE and DELETE in the database itself, whatever code runs against it."""
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_APPEND_ONLY, "postgresql": POSTGRES_APPEND_ONLY}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS savings_entries_append_only ON savings_entries")
        op.execute("DROP FUNCTION IF EXISTS savings_entries_append_only()")
    op.drop_table('savings_references')
    op.drop_table('savings_entries')
    op.drop_table('savings_requests')
    op.drop_table('savings_loan_votes')
    op.drop_table('savings_instalments')
    op.drop_table('savings_loans')
    op.drop_table('savings_committee')
    op.drop_table('savings_accounts')
    op.drop_table('savings_rules')
