"""Three example connectors: a token-checked webhook source, a sink that upserts into a
SQLite table, and a poll source that reads new rows of a SQLite table by their id."""

from __future__ import annotations

import hmac
import sqlite3
from contextlib import closing
from pathlib import Path

from pydantic import Field, SecretStr

from hub.sdk import (
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    FatalDeliveryError,
    Inbound,
    InboundRejected,
    InboundRequest,
    Poll,
    Polled,
    PollSource,
    PushSource,
    Receipt,
    RetriableDeliveryError,
    RetriableSourceError,
    Sink,
    SourceError,
)


class TokenSourceOptions(ConnectorOptions):
    header: str = "x-api-token"
    token: SecretStr  # never shown in logs or reprs


class TokenSource(PushSource[TokenSourceOptions]):
    options_model = TokenSourceOptions

    def accept(self, request: InboundRequest) -> Inbound | None:
        given = request.headers.get(self.options.header.lower(), "")
        expected = self.options.token.get_secret_value()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InboundRejected(
                f"wrong or missing {self.options.header}", status=401, reason="unauthorized"
            )
        return Inbound(body=request.body, content_type=request.content_type)


class OutboxOptions(ConnectorOptions):
    database: Path  # a relative path starts at the config file's folder
    table: str = Field("outbox", pattern=r"^[a-z_]+$")


class OutboxSink(Sink[OutboxOptions]):
    options_model = OutboxOptions

    @property
    def database(self) -> Path:
        return self.context.resolve(self.options.database)

    def deliver(self, delivery: Delivery) -> Receipt:
        table = self.options.table
        try:
            # One connection per call: the worker may call deliver() from several threads.
            with closing(sqlite3.connect(self.database, timeout=10)) as db, db:
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, body BLOB)")
                db.execute(  # the idempotency key makes a redelivery overwrite, not duplicate
                    f"INSERT INTO {table} VALUES (?, ?) "  # noqa: S608 (table: [a-z_]+, checked)
                    "ON CONFLICT (key) DO UPDATE SET body = excluded.body",
                    (delivery.idempotency_key, delivery.body),
                )
        except sqlite3.OperationalError as exc:  # cannot open, locked, disk full
            raise RetriableDeliveryError(f"{self.database}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # not a database, corrupt
            raise FatalDeliveryError(f"{self.database}: {exc}") from None
        return Receipt(f"stored {len(delivery.body)} bytes in {table}")


class InboxOptions(ConnectorOptions):
    database: Path
    table: str = Field("inbox", pattern=r"^[a-z_]+$")


class InboxSource(PollSource[InboxOptions]):
    """Reads rows ``(id INTEGER PRIMARY KEY, body BLOB)`` in id order.

    The cursor is the last id stored; the hub keeps it with the rows it stored, so a
    restart goes on after it. Nothing is confirmed to the table: the cursor is the progress.
    """

    options_model = InboxOptions

    @property
    def database(self) -> Path:
        return self.context.resolve(self.options.database)

    def poll(self, cursor: str | None, limit: int) -> Poll:
        after = int(cursor) if cursor else 0
        if not self.database.exists():
            raise RetriableSourceError(f"{self.database} does not exist (yet)")
        try:
            with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    f"SELECT id, body FROM {self.options.table} "  # noqa: S608 (checked: [a-z_]+)
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    (after, limit + 1),
                ).fetchall()
        except sqlite3.OperationalError as exc:  # locked, no such table
            raise RetriableSourceError(f"{self.database}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # not a database
            raise SourceError(f"{self.database}: {exc}") from None
        items = [Polled(Inbound(body=bytes(body)), key=str(rid)) for rid, body in rows[:limit]]
        last = rows[:limit][-1][0] if rows else after
        return Poll(items, cursor=str(last), more=len(rows) > limit)


plugin = ConnectorPlugin(
    name="sqlite-outbox",
    description="Token-checked webhooks in; rows in a SQLite table out.",
    source=TokenSource,
    sink=OutboxSink,
)

inbox = ConnectorPlugin(
    name="sqlite-inbox",
    description="New rows of a SQLite table in, by id.",
    source=InboxSource,
)
