"""briefs keep their brand-safety sensitivity, so the brief reads back (and edits) as written

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('briefs', sa.Column('brand_safety_sensitivity', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='medium', nullable=False))


def downgrade() -> None:
    op.drop_column('briefs', 'brand_safety_sensitivity')
