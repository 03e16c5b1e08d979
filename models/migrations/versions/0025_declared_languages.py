"""declared languages: the brief's endorsement language, and the languages a creator posts in

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("briefs", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column(
        "creator_profiles",
        sa.Column(
            "languages",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default="[]",
        ),
    )


def downgrade() -> None:
    op.drop_column("creator_profiles", "languages")
    op.drop_column("briefs", "language")
