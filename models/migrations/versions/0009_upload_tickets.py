"""upload tickets: the keys POST /uploads issued, with their declared type and size

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('upload_tickets',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('uploader_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('upload_id', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_upload_tickets_workspace_id'), 'upload_tickets', ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_upload_tickets_workspace_id'), table_name='upload_tickets')
    op.drop_table('upload_tickets')
