"""provider events keep the id of the object they are about, so that an event stored but not
handled yet (the API stopped in between) can be handled later without its body

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'provider_events',
        sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    # The sweep looks for what is left to handle.
    op.create_index(
        'ix_provider_events_unhandled',
        'provider_events',
        ['received_at'],
        postgresql_where=sa.text('processed_at IS NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_provider_events_unhandled', table_name='provider_events')
    op.drop_column('provider_events', 'object_id')
