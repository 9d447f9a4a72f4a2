"""Console users: people who sign in to /ui with a name and password instead of an API key.
In the store (SQLite and the real PostgreSQL server): scrypt hashes, one namespace with
keys, revocation and a new password ending sessions, migration 0009 both ways. On the
command line (``hub users``) and over HTTP: sign-in, scopes, and the audit's actor."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect

from hub.api import create_app
from hub.errors import HubError, StateConflict
from hub.runtime import Hub
from hub.store import Store
from hub.store.apikeys import ApiKeys
from hub.store.consoles import ConsoleSessions
from hub.store.migrate import alembic_config, current_revision, head_revision, upgrade
from hub.store.users import ConsoleUsers
from tests.console import csrf_of, order, refusing_partner
from tests.integration.test_cli import hub as hub_cli
from tests.peers import serve_app
from tests.waiting import wait_for_progress

SECRET = "correct horse battery staple"


def test_a_user_signs_in_by_password_and_is_ended_by_revocation(store: Store) -> None:
    users = ConsoleUsers(store)
    made = users.create("dana", SECRET, ["read", "operate"])
    assert made.scopes == ("operate", "read")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM console_users").scalar()
    assert isinstance(stored, str)
    assert stored.startswith("scrypt$32768$8$1$")
    assert SECRET not in stored

    assert users.check("dana", SECRET).reason == "ok"
    assert users.check("dana", SECRET + "!").reason == "unknown"
    assert users.check("nobody", SECRET).reason == "unknown"  # the same answer as a wrong one
    assert users.check("", SECRET).reason == "malformed"

    with pytest.raises(HubError, match="at least 12 characters"):
        users.create("short", "too short", ["read"])
    with pytest.raises(HubError, match="unknown scope"):
        users.create("eve", SECRET, ["root"])
    with pytest.raises(StateConflict):
        users.create("dana", SECRET, ["read"])
    # one namespace with keys: the audit's actor names exactly one of them
    ApiKeys(store).create("ci", ["read"])
    with pytest.raises(StateConflict, match="key named 'ci'"):
        users.create("ci", SECRET, ["read"])
    with pytest.raises(StateConflict, match="console user is named 'dana'"):
        ApiKeys(store).create("dana", ["read"])

    sessions = ConsoleSessions(store)
    cookie = sessions.open(made)
    found = sessions.find(cookie)
    assert found is not None
    assert (found.name, found.scopes, found.key_id) == ("dana", ("operate", "read"), None)

    # a new password ends the sessions opened with the old one
    users.set_password("dana", SECRET + " two")
    assert sessions.find(cookie) is None
    assert users.check("dana", SECRET).reason == "unknown"
    verdict = users.check("dana", SECRET + " two")
    assert verdict.user is not None
    again = sessions.open(verdict.user)
    assert sessions.find(again) is not None
    assert users.revoke("dana").revoked_at is not None
    assert sessions.find(again) is None
    assert users.check("dana", SECRET + " two").reason == "revoked"
    assert [u.name for u in users.list()] == ["dana"]


def test_migration_0009_goes_down_and_up(store: Store) -> None:
    user = ConsoleUsers(store).create("dana", SECRET, ["read"])
    key, _ = ApiKeys(store).create("ops", ["read"])
    sessions = ConsoleSessions(store)
    sessions.open(user)
    by_key = sessions.open(key)
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    assert "console_users" not in inspect(store.engine).get_table_names()
    assert current_revision(store.engine) == "0008"
    with store.engine.connect() as conn:  # the user's session went with the users
        assert conn.exec_driver_sql("SELECT count(*) FROM console_sessions").scalar() == 1
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision() == "0009"
    assert ConsoleSessions(store).find(by_key) is not None


def test_a_user_from_the_command_line_signs_in_and_is_the_audits_actor(tmp_path: Path) -> None:
    with refusing_partner(tmp_path) as (_, config):
        made = hub_cli(
            "users", "create", "dana", "-s", "read", "-s", "operate", "--password-stdin",
            "-c", str(config), stdin=SECRET + "\n",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["scopes"] == ["operate", "read"]
        assert SECRET not in made.stdout + made.stderr
        short = hub_cli(
            "users", "create", "eve", "-s", "read", "--password-stdin", "-c", str(config),
            stdin="short\n",
        )  # fmt: skip
        assert short.returncode != 0
        assert "at least 12 characters" in short.stderr

        running = Hub.from_file(config)
        with (
            serve_app(create_app(running)) as url,
            httpx.Client(base_url=url, timeout=10) as api,
        ):
            letter = api.post("/ingest/shop-orders", json=order(1)).json()["id"]
            wrong = api.post("/ui/login", data={"user": "dana", "password": "guess guess guess"})
            assert wrong.status_code == 401
            assert "do not match an active user" in wrong.text
            failures = running.metrics.registry.get_sample_value(
                "hub_auth_failures_total", {"reason": "unknown"}
            )
            assert failures == 1
            login = api.get("/ui/login").text
            assert '<label for="user">User name</label>' in login
            assert '<label for="password">Password</label>' in login

            with closing(httpx.Client(base_url=url, timeout=10)) as ui:
                signed = ui.post("/ui/login", data={"user": "dana", "password": SECRET})
                assert signed.status_code == 303, signed.text
                assert "httponly" in signed.headers["set-cookie"].lower()
                wait_for_progress(
                    lambda: ui.get(f"/ui/messages/{letter}").text,
                    lambda shown: 'Message 1 <span class="status failed">failed' in shown,
                    what="a dead letter",
                )
                listed = ui.get("/ui/dead-letters").text
                assert "Signed in as <strong>dana</strong>" in listed
                token = csrf_of(listed)
                done = ui.post(
                    f"/ui/dead-letters/{letter}/discard",
                    data={"reason": "a test order", "csrf": token},
                )
                assert done.status_code == 303
                trail = running.dead_letters.audit(letter)
                assert [(a["actor"], a["action"]) for a in trail] == [("dana", "discard")]
                # no read:payload: no body
                assert 'id="no-payload"' in ui.get(f"/ui/messages/{letter}").text

                revoked = hub_cli("users", "revoke", "dana", "-c", str(config))
                assert revoked.returncode == 0, revoked.stderr
                assert json.loads(revoked.stdout)["state"] == "revoked"
                assert ui.get("/ui/messages").headers["location"] == "/ui/login"
            listed_users = hub_cli("users", "list", "-c", str(config))
            assert [json.loads(line)["name"] for line in listed_users.stdout.splitlines()] == [
                "dana"
            ]
