"""social sign-in: a sign-in started from the account page links the identity to its account

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The signed-in account that asked to connect the provider (None: an ordinary sign-in).
    op.add_column("social_sign_ins", sa.Column("link_user_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_social_sign_ins_link_user_id_users", "social_sign_ins", "users", ["link_user_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("fk_social_sign_ins_link_user_id_users", "social_sign_ins")
    op.drop_column("social_sign_ins", "link_user_id")
