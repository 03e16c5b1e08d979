"""marketplace and deliveries

New columns get server defaults so campaigns stored before this revision stay valid.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:54:56.573922
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key', 'user_id')
    )
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'], unique=False)
    op.create_table('applications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('deliverable_id', sa.Uuid(), nullable=False),
    sa.Column('creator_id', sa.Uuid(), nullable=False),
    sa.Column('origin', sa.Enum('application', 'invitation', name='applicationorigin', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'countered', 'accepted', 'rejected', 'declined', 'expired', name='applicationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('pitch', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('counter_price_minor', sa.BigInteger(), nullable=True),
    sa.Column('delivery_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], ),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverables.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'deliverable_id', 'creator_id')
    )
    op.create_index(op.f('ix_applications_campaign_id'), 'applications', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_applications_creator_id'), 'applications', ['creator_id'], unique=False)
    op.create_index(op.f('ix_applications_status'), 'applications', ['status'], unique=False)
    op.create_index(op.f('ix_applications_workspace_id'), 'applications', ['workspace_id'], unique=False)
    op.create_table('deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('deliverable_id', sa.Uuid(), nullable=False),
    sa.Column('creator_id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('stage', sa.Enum('awaiting_brief_acceptance', 'awaiting_product', 'awaiting_script', 'awaiting_draft', 'checking', 'fixing', 'in_review', 'revising', 'awaiting_final', 'completed', 'cancelled', 'reassigned', name='deliverystage', native_enum=False, length=32), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('revisions_used', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handoffs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.ForeignKeyConstraint(['creator_id'], ['creator_profiles.id'], ),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverables.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    op.create_index(op.f('ix_deliveries_campaign_id'), 'deliveries', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_deliveries_creator_id'), 'deliveries', ['creator_id'], unique=False)
    op.create_index(op.f('ix_deliveries_stage'), 'deliveries', ['stage'], unique=False)
    op.create_index(op.f('ix_deliveries_workspace_id'), 'deliveries', ['workspace_id'], unique=False)
    op.create_table('submissions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('media_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('checks_passed', sa.Boolean(), nullable=True),
    sa.Column('findings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('review', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    sa.Column('review_notes', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('delivery_id', 'number')
    )
    op.create_index(op.f('ix_submissions_delivery_id'), 'submissions', ['delivery_id'], unique=False)
    op.add_column('briefs', sa.Column('script_required', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('briefs', sa.Column('review_window_days', sa.Integer(), nullable=False, server_default='3'))
    op.add_column('briefs', sa.Column('target_niches', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default='[]'))
    op.add_column('briefs', sa.Column('target_countries', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default='[]'))
    op.add_column('briefs', sa.Column('usage_rights', postgresql.JSONB(astext_type=sa.Text()), nullable=False, server_default='{}'))
    op.add_column('campaigns', sa.Column('visibility', sa.Enum('open', 'invite_only', name='campaignvisibility', native_enum=False, length=32), nullable=False, server_default='open'))
    op.alter_column('campaigns', 'stage',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Enum('draft', 'published', 'recruiting', 'in_production', 'completed', 'cancelled', name='campaignstage', native_enum=False, length=32),
               existing_nullable=False)
    op.alter_column('deliverables', 'format',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Enum('video_9x16', 'video_16x9', 'video_1x1', 'photo', name='deliverableformat', native_enum=False, length=32),
               existing_nullable=False)
    op.alter_column('memberships', 'role',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Enum('brand_admin', 'brand_member', 'creator', 'ops', 'partner', name='role', native_enum=False, length=32),
               existing_nullable=False)
    op.alter_column('workspaces', 'kind',
               existing_type=sa.VARCHAR(length=20),
               type_=sa.Enum('brand', 'agency', 'creator', 'ops', name='workspacekind', native_enum=False, length=32),
               existing_nullable=False)


def downgrade() -> None:
    op.alter_column('workspaces', 'kind',
               existing_type=sa.Enum('brand', 'agency', 'creator', 'ops', name='workspacekind', native_enum=False, length=32),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
    op.alter_column('memberships', 'role',
               existing_type=sa.Enum('brand_admin', 'brand_member', 'creator', 'ops', 'partner', name='role', native_enum=False, length=32),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
    op.alter_column('deliverables', 'format',
               existing_type=sa.Enum('video_9x16', 'video_16x9', 'video_1x1', 'photo', name='deliverableformat', native_enum=False, length=32),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
    op.alter_column('campaigns', 'stage',
               existing_type=sa.Enum('draft', 'published', 'recruiting', 'in_production', 'completed', 'cancelled', name='campaignstage', native_enum=False, length=32),
               type_=sa.VARCHAR(length=20),
               existing_nullable=False)
    op.drop_column('campaigns', 'visibility')
    op.drop_column('briefs', 'usage_rights')
    op.drop_column('briefs', 'target_countries')
    op.drop_column('briefs', 'target_niches')
    op.drop_column('briefs', 'review_window_days')
    op.drop_column('briefs', 'script_required')
    op.drop_index(op.f('ix_submissions_delivery_id'), table_name='submissions')
    op.drop_table('submissions')
    op.drop_index(op.f('ix_deliveries_workspace_id'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_stage'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_creator_id'), table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_campaign_id'), table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_index(op.f('ix_applications_workspace_id'), table_name='applications')
    op.drop_index(op.f('ix_applications_status'), table_name='applications')
    op.drop_index(op.f('ix_applications_creator_id'), table_name='applications')
    op.drop_index(op.f('ix_applications_campaign_id'), table_name='applications')
    op.drop_table('applications')
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_table('notifications')
