"""money in the portal: invoice numbers, sealed payout bank details, bank batches, disputes

Bank-transfer fundings get an invoice number from one sequence. Creators' payout bank
details are kept sealed (AES-GCM) with the part shown back in the clear. Manual transfers
carry the creator and their sealed details, the bank batch they were exported in, and why
they were cancelled. Disputes of payouts and fundings are recorded for ops to resolve.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('funding_invoice_numbers')))
    op.add_column('fundings', sa.Column('invoice_number', sa.BigInteger(), nullable=True))
    op.create_unique_constraint('fundings_invoice_number_key', 'fundings', ['invoice_number'])
    op.create_table('payout_bank_details',
    sa.Column('creator_id', sa.Uuid(), nullable=False),
    sa.Column('scheme', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('last4', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], ),
    sa.PrimaryKeyConstraint('creator_id')
    )
    op.create_table('transfer_batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.add_column('manual_transfers', sa.Column('creator_id', sa.Uuid(), nullable=True))
    op.add_column('manual_transfers', sa.Column('payee_sealed', sa.LargeBinary(), nullable=True))
    op.add_column('manual_transfers', sa.Column('batch_id', sa.Uuid(), nullable=True))
    op.add_column('manual_transfers', sa.Column('failure', sqlmodel.sql.sqltypes.AutoString(length=500), server_default='', nullable=False))
    op.create_index(op.f('ix_manual_transfers_creator_id'), 'manual_transfers', ['creator_id'], unique=False)
    op.create_index(op.f('ix_manual_transfers_batch_id'), 'manual_transfers', ['batch_id'], unique=False)
    op.create_foreign_key('manual_transfers_batch_id_fkey', 'manual_transfers', 'transfer_batches', ['batch_id'], ['id'])
    op.create_table('money_disputes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('creator_id', sa.Uuid(), nullable=True),
    sa.Column('raised_by', sa.Uuid(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('resolved_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_money_disputes_workspace_id'), 'money_disputes', ['workspace_id'], unique=False)
    op.create_index(op.f('ix_money_disputes_status'), 'money_disputes', ['status'], unique=False)
    op.create_index('ix_money_disputes_open_subject', 'money_disputes', ['subject', 'subject_id'], unique=True, postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ix_money_disputes_open_subject', table_name='money_disputes', postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_money_disputes_status'), table_name='money_disputes')
    op.drop_index(op.f('ix_money_disputes_workspace_id'), table_name='money_disputes')
    op.drop_table('money_disputes')
    op.drop_constraint('manual_transfers_batch_id_fkey', 'manual_transfers', type_='foreignkey')
    op.drop_index(op.f('ix_manual_transfers_batch_id'), table_name='manual_transfers')
    op.drop_index(op.f('ix_manual_transfers_creator_id'), table_name='manual_transfers')
    for column in ('failure', 'batch_id', 'payee_sealed', 'creator_id'):
        op.drop_column('manual_transfers', column)
    op.drop_table('transfer_batches')
    op.drop_table('payout_bank_details')
    op.drop_constraint('fundings_invoice_number_key', 'fundings', type_='unique')
    op.drop_column('fundings', 'invoice_number')
    op.execute(sa.schema.DropSequence(sa.Sequence('funding_invoice_numbers')))
