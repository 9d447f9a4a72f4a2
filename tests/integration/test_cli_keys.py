"""``hub keys create|list|revoke`` against a running API, and ``hub run``'s loopback rule."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import demo_config, write_config
from tests.integration.test_cli import hub
from tests.peers import serve_app


def test_a_key_made_on_the_command_line_works_at_once_and_stops_when_revoked(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, demo_config(tmp_path, auth=None))
    made = hub(
        "keys",
        "create",
        "ops",
        "--scope",
        "read",
        "-s",
        "operate",
        "--expires-in",
        "30",
        "-c",
        str(config),
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("hub_")
    assert "\n" not in token  # the token alone on stdout: KEY=$(hub keys create ...)
    assert "shown only now" in made.stderr
    assert "operate, read" in made.stderr

    listed = hub("keys", "list", "-c", str(config))
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["name"], row["scopes"], row["state"]) == ("ops", ["operate", "read"], "active")
    assert row["expires_at"] is not None
    assert token[-43:] not in listed.stdout  # never the token, nor its hash's source
    assert row["key_id"] in token

    running = Hub.from_file(config)
    with serve_app(create_app(running)) as url, httpx.Client(base_url=url, timeout=30) as client:
        key = {"Authorization": f"Bearer {token}"}
        assert client.get("/messages", headers=key).status_code == 200
        assert client.get("/messages").status_code == 401
        revoked = hub("keys", "revoke", "ops", "-c", str(config))
        assert revoked.returncode == 0, revoked.stderr
        assert json.loads(revoked.stdout)["state"] == "revoked"
        refused = client.get("/messages", headers=key)  # the running hub, at once
        assert refused.status_code == 401
        assert "revoked" in refused.json()["error"]["message"]


def test_names_and_scopes_are_checked(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, demo_config(tmp_path, auth=None)))
    assert hub("keys", "create", "ci", "-s", "ingest:shop-orders", "-c", config).returncode == 0
    again = hub("keys", "create", "ci", "-s", "read", "-c", config)
    assert again.returncode == 1
    assert "a key named 'ci' exists" in again.stderr
    for args, said in (
        (["-s", "reed"], "unknown scope 'reed'"),
        ([], "Missing option '--scope'"),
        (["-s", "read", "--expires", "2001-01-01"], "the expiry is in the past"),
    ):
        refused = hub("keys", "create", "other", *args, "-c", config)
        assert refused.returncode != 0
        assert said in refused.stderr, refused.stderr
    assert "Traceback" not in hub("keys", "revoke", "nobody", "-c", config).stderr
    assert "no key named 'nobody'" in hub("keys", "revoke", "nobody", "-c", config).stderr


def test_run_refuses_the_loopback_demo_on_a_public_address(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, demo_config(tmp_path)))  # anonymous read:payload ...
    refused = hub("run", "-c", config, "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 1
    assert "--host: auth.anonymous grants operate, read:payload to anyone" in refused.stderr
    assert "Traceback" not in refused.stderr
