"""Idempotency keys on messages; the audit trail of replays and discards.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from hub.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch.create_index(
            "uq_messages_route_idempotency_key", ["route", "idempotency_key"], unique=True
        )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_message_id"), "audit", ["message_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_message_id"), table_name="audit")
    op.drop_table("audit")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("uq_messages_route_idempotency_key")
        batch.drop_column("idempotency_key")
