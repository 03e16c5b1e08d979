"""agency clients: a brand workspace managed by an agency workspace

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("managed_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_workspaces_managed_by", "workspaces", "workspaces", ["managed_by"], ["id"]
    )
    # One name per client of an agency; it also finds an agency's clients.
    op.create_index(
        "uq_workspaces_managed_by_name", "workspaces", ["managed_by", "name"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_workspaces_managed_by_name", table_name="workspaces")
    op.drop_constraint("fk_workspaces_managed_by", "workspaces", type_="foreignkey")
    op.drop_column("workspaces", "managed_by")
