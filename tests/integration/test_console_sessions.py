"""Console sessions in the store, on SQLite and on the real PostgreSQL server: a session
follows its key, ends when signed out or past its time, and migration 0008 goes both ways."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import inspect

from hub.store import Store
from hub.store.apikeys import ApiKeys
from hub.store.consoles import ConsoleSessions
from hub.store.migrate import alembic_config, current_revision, head_revision, upgrade


def test_a_session_follows_its_key(store: Store) -> None:
    keys = ApiKeys(store)
    key, _ = keys.create("ops", ["read"])
    sessions = ConsoleSessions(store)
    cookie = sessions.open(key)
    found = sessions.find(cookie)
    assert found is not None
    assert found.name == "ops"
    assert found.scopes == ("read",)
    assert len(found.csrf) >= 32
    assert found.csrf != cookie
    assert sessions.find(cookie + "x") is None
    assert sessions.find("") is None
    assert sessions.find("x" * 1000) is None

    other = sessions.open(key)
    sessions.close(cookie)  # signing out ends this session, not the other one
    assert sessions.find(cookie) is None
    assert sessions.find(other) is not None
    keys.revoke("ops")
    assert sessions.find(other) is None


def test_a_session_ends_at_its_time_and_is_then_dropped(store: Store) -> None:
    key, _ = ApiKeys(store).create("ops", ["read"])
    ended = ConsoleSessions(store, ttl=timedelta(seconds=-1)).open(key)
    assert ConsoleSessions(store).find(ended) is None
    ConsoleSessions(store).open(key)  # a sign-in drops the sessions past their end
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM console_sessions").scalar()
    assert rows == 1


def test_migration_0008_goes_down_and_up(store: Store) -> None:
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert "console_sessions" not in inspect(store.engine).get_table_names()
    assert current_revision(store.engine) == "0007"
    upgrade(store.engine)
    assert "console_sessions" in inspect(store.engine).get_table_names()
    assert current_revision(store.engine) == head_revision()
