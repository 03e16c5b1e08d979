"""notification e-mail preferences, the dev mail catcher's messages, delivery conversations

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('email_off', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('caught_emails',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=998), nullable=True),
    sa.Column('mail_from', sqlmodel.sql.sqltypes.AutoString(length=998), nullable=False),
    sa.Column('recipients', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=998), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    op.create_table('delivery_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('sender_user_id', sa.Uuid(), nullable=True),
    sa.Column('sender_api_key_id', sa.Uuid(), nullable=True),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('attachment_key', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
    sa.Column('attachment_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('attachment_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('attachment_bytes', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], ),
    sa.ForeignKeyConstraint(['sender_api_key_id'], ['api_keys.id'], ),
    sa.ForeignKeyConstraint(['sender_user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_delivery_messages_delivery_created', 'delivery_messages', ['delivery_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_delivery_messages_delivery_created', table_name='delivery_messages')
    op.drop_table('delivery_messages')
    op.drop_table('caught_emails')
    op.drop_table('notification_preferences')
