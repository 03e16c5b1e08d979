"""moderation reviews: the cases held for a person, with their deadline

The moderation records a case when it starts waiting for a person (the caption, the
findings, the checked master to play, by when it must be decided) and closes it with the
decision: the ops review page and the creator's delivery page read it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('moderation_reviews',
    sa.Column('asset_id', sa.Uuid(), nullable=False),
    sa.Column('caption', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('findings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('master_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('captions_vtt_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('reviewer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('asset_id')
    )
    # The ops queue: open cases, the nearest deadline first.
    op.create_index('ix_moderation_reviews_open_due', 'moderation_reviews', ['due_at'], unique=False, postgresql_where=sa.text('decided_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_moderation_reviews_open_due', table_name='moderation_reviews')
    op.drop_table('moderation_reviews')
