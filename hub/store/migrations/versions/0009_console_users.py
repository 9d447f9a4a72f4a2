"""Console users: people who sign in to /ui with a name and password, not an API key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from hub.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=12), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("name", name=op.f("uq_console_users_name")),
        sa.UniqueConstraint("user_id", name=op.f("uq_console_users_user_id")),
    )
    with op.batch_alter_table("console_sessions") as batch:
        batch.alter_column("key_id", existing_type=sa.String(length=12), nullable=True)
        batch.add_column(sa.Column("user_id", sa.String(length=12), nullable=True))
        batch.create_index(batch.f("ix_console_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    # a user's sessions cannot outlive the users: they end with the table
    op.execute("DELETE FROM console_sessions WHERE key_id IS NULL")
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_index(batch.f("ix_console_sessions_user_id"))
        batch.drop_column("user_id")
        batch.alter_column("key_id", existing_type=sa.String(length=12), nullable=False)
    op.drop_table("console_users")
