"""Open messages: a partial index so a claim reads only messages still to deliver, and a
marker for a turn that started and has not recorded its end.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OPEN = sa.text("status IN ('received', 'retrying')")
_OPEN_KEYED = sa.text("status IN ('received', 'retrying') AND ordering_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("turn_open", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.create_index(
        "ix_messages_open", "messages", ["seq"], sqlite_where=_OPEN, postgresql_where=_OPEN
    )
    op.create_index(
        "ix_messages_open_ordering",
        "messages",
        ["route", "ordering_key", "seq"],
        sqlite_where=_OPEN_KEYED,
        postgresql_where=_OPEN_KEYED,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_open_ordering", table_name="messages")
    op.drop_index("ix_messages_open", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("turn_open")
