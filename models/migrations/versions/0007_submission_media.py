"""where a checked draft's renditions are

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('submissions', sa.Column('media', postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column('submissions', 'media')
