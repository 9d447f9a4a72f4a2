"""API keys; encrypted payloads; payloads dropped by retention; no credential headers kept.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

Messages stored before this revision may hold a credential header (a source told to keep
``Authorization``): the upgrade removes every such header from the stored rows.
"""

import sqlalchemy as sa
from alembic import op

from hub.credentials import is_credential_header
from hub.store.tables import UTCDateTime

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("payload_dropped_at", UTCDateTime(), nullable=True))
    _forget_credential_headers()


def _forget_credential_headers() -> None:
    messages = sa.table("messages", sa.column("seq", sa.Integer()), sa.column("headers", sa.JSON()))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.seq, messages.c.headers)
            .where(messages.c.seq > last)
            .order_by(messages.c.seq)
            .limit(1000)
        ).all()
        if not rows:
            return
        for seq, headers in rows:
            if isinstance(headers, dict) and any(is_credential_header(k) for k in headers):
                kept = {k: v for k, v in headers.items() if not is_credential_header(k)}
                connection.execute(
                    sa.update(messages).where(messages.c.seq == seq).values(headers=kept)
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("payload_dropped_at")
        batch.drop_column("sealed")
    op.drop_table("api_keys")
