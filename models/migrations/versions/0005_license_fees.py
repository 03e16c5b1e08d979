"""license fees: a funding can pay one fee of a license

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 21:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('fundings', sa.Column('license_id', sa.Uuid(), nullable=True))
    op.add_column('fundings', sa.Column('fee_number', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_fundings_license_id'), 'fundings', ['license_id'], unique=False)
    op.create_foreign_key(
        op.f('fundings_license_id_fkey'), 'fundings', 'licenses', ['license_id'], ['id']
    )


def downgrade() -> None:
    op.drop_constraint(op.f('fundings_license_id_fkey'), 'fundings', type_='foreignkey')
    op.drop_index(op.f('ix_fundings_license_id'), table_name='fundings')
    op.drop_column('fundings', 'fee_number')
    op.drop_column('fundings', 'license_id')
