"""licensing and the rights ledger

The ledger tables refuse UPDATE and DELETE through a trigger: entries are only ever appended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 20:57:10.587688
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("rights_ledger", "rights_ledger_checkpoints")


def upgrade() -> None:
    op.create_table('rights_ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('license_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('prev_hash', sa.LargeBinary(), nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_key')
    )
    op.create_index(op.f('ix_rights_ledger_license_id'), 'rights_ledger', ['license_id'], unique=False)
    op.create_table('rights_ledger_checkpoints',
    sa.Column('to_seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('from_seq', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('hash', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('to_seq')
    )
    op.create_table('licenses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=False),
    sa.Column('creator_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('asset_id', sa.Uuid(), nullable=False),
    sa.Column('asset_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('status', sa.Enum('active', 'suspended', 'expired', 'terminated', name='licensestatus', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('channels', sa.ARRAY(sa.String()), nullable=False),
    sa.Column('platforms', sa.ARRAY(sa.String()), nullable=False),
    sa.Column('territories', sa.ARRAY(sa.String()), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exclusivity_category', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('exclusivity_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terms', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], ),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_licenses_asset_id'), 'licenses', ['asset_id'], unique=False)
    op.create_index(op.f('ix_licenses_creator_id'), 'licenses', ['creator_id'], unique=False)
    op.create_index(op.f('ix_licenses_delivery_id'), 'licenses', ['delivery_id'], unique=False)
    op.create_index(op.f('ix_licenses_status'), 'licenses', ['status'], unique=False)
    op.create_index(op.f('ix_licenses_workspace_id'), 'licenses', ['workspace_id'], unique=False)
    op.create_table('asset_publications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('asset_id', sa.Uuid(), nullable=False),
    sa.Column('license_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('territory', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', sa.Enum('live', 'withdrawn', name='publicationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_asset_publications_asset_id'), 'asset_publications', ['asset_id'], unique=False)
    op.create_index(op.f('ix_asset_publications_license_id'), 'asset_publications', ['license_id'], unique=False)
    op.create_index(op.f('ix_asset_publications_workspace_id'), 'asset_publications', ['workspace_id'], unique=False)
    op.execute(
        "CREATE FUNCTION rights_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the rights ledger is append-only'; END $$"
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rights_ledger_append_only()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION rights_ledger_append_only()")
    op.drop_index(op.f('ix_asset_publications_workspace_id'), table_name='asset_publications')
    op.drop_index(op.f('ix_asset_publications_license_id'), table_name='asset_publications')
    op.drop_index(op.f('ix_asset_publications_asset_id'), table_name='asset_publications')
    op.drop_table('asset_publications')
    op.drop_index(op.f('ix_licenses_workspace_id'), table_name='licenses')
    op.drop_index(op.f('ix_licenses_status'), table_name='licenses')
    op.drop_index(op.f('ix_licenses_delivery_id'), table_name='licenses')
    op.drop_index(op.f('ix_licenses_creator_id'), table_name='licenses')
    op.drop_index(op.f('ix_licenses_asset_id'), table_name='licenses')
    op.drop_table('licenses')
    op.drop_table('rights_ledger_checkpoints')
    op.drop_index(op.f('ix_rights_ledger_license_id'), table_name='rights_ledger')
    op.drop_table('rights_ledger')
