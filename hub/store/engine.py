"""Create SQLAlchemy engines: SQLite tuned for durability, anything else as given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from hub import DISTRIBUTION
from hub.errors import ConfigError
from hub.redact import redact

__all__ = ["make_engine", "resolve_url"]


def resolve_url(url: str, base_dir: Path) -> str:
    """Make a relative SQLite path relative to ``base_dir`` and create its folder."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"store.url is not a database URL: {redact(url)!r}",
            hint="e.g. sqlite:///var/hub.db or postgresql+psycopg://user@host/db",
        ) from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database or "")
    if not path.is_absolute():
        path = base_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return parsed.set(database=str(path)).render_as_string(hide_password=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(url, echo=echo, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(
                f"cannot use store.url {parsed.render_as_string()!r}: {exc}",
                hint=f"for PostgreSQL install the extra: pip install '{DISTRIBUTION}[postgres]'",
            ) from None
    memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)
    _tune_sqlite(engine, wal=not memory)
    return engine


def _tune_sqlite(engine: Engine, *, wal: bool) -> None:
    """WAL for concurrent readers, NORMAL sync with the store's own fsync of the WAL after
    each commit (hub.store.durable: a 202 survives power loss), secure_delete
    so a payload dropped by retention (or re-encrypted) is overwritten in the file, not
    left in a free page, and BEGIN IMMEDIATE so writers queue on the lock instead of
    failing on upgrade."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        # a file database's commits are fsynced by the store, outside its write lock
        cursor.execute("PRAGMA synchronous=NORMAL" if wal else "PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
