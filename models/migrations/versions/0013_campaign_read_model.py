"""campaign read model: the live state the campaign workflow records

Reads of a campaign come from its row instead of a workflow query. Rows of runs started
before keep live_seq 0: their live state is asked of the workflow until it records it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    op.add_column('campaigns', sa.Column('committed_minor', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('campaigns', sa.Column('owed_minor', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('campaigns', sa.Column('open_slots', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.add_column('campaigns', sa.Column('open_deliveries', sa.Integer(), server_default='0', nullable=False))
    op.add_column('campaigns', sa.Column('live_seq', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    for column in ('live_seq', 'open_deliveries', 'open_slots', 'owed_minor', 'committed_minor', 'cancel_reason'):
        op.drop_column('campaigns', column)
