"""Trading partners: control numbers per partner, interchanges and their acknowledgements.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_numbers",
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner", "direction", "kind", name="pk_control_numbers"),
    )
    op.create_table(
        "interchanges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("standard", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=80), nullable=False),
        sa.Column("recipient", sa.String(length=80), nullable=False),
        sa.Column("control_ref", sa.String(length=32), nullable=False),
        sa.Column("group_ref", sa.String(length=32), nullable=True),
        sa.Column("message_refs", sa.JSON(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("ack_status", sa.String(length=24), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(), nullable=True),
        sa.Column("ack_message_id", sa.String(length=36), nullable=True),
        sa.Column("ack_detail", sa.JSON(), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_interchanges"),
    )
    op.create_index(
        "ix_interchanges_lookup",
        "interchanges",
        ["direction", "sender", "recipient", "control_ref"],
    )
    op.create_index("ix_interchanges_ack", "interchanges", ["ack_status", "ack_due_at"])
    op.create_index("ix_interchanges_message_id", "interchanges", ["message_id"])


def downgrade() -> None:
    op.drop_table("interchanges")
    op.drop_table("control_numbers")
