"""Ordering keys: messages with the same key on a route are delivered in ingest order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("ordering_key", sa.String(length=255), nullable=True))
        batch.create_index("ix_messages_ordering", ["route", "ordering_key", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_ordering")
        batch.drop_column("ordering_key")
