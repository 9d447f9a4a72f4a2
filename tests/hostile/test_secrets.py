"""Secrets and the browser, tried against a real ``hub run``.

A password in a sink's URL once showed in the dead letter, the event history, a WARNING log
line and ``hub check``; a body posted as ``text/html`` was served back as ``text/html`` on the
hub's own origin (stored XSS).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.hostile.conftest import RunningHub, StartHub
from tests.peers import Reply, http_peer
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

PASSWORD = "s3cr3t-Pa55-w0rd"
JSON = {"Content-Type": "application/json"}


def settled(hub: RunningHub, message_id: str, *states: str) -> dict[str, Any]:
    def observe() -> dict[str, Any]:
        body: dict[str, Any] = hub.get(f"/messages/{message_id}").json()
        return body

    return wait_for_progress(
        observe, lambda m: m["status"] in states, what=f"{message_id} to be {states}"
    )


def test_a_password_in_a_sink_url_appears_nowhere(
    hostile_hub: StartHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERP_PASSWORD", PASSWORD)
    monkeypatch.setenv("HUB_LOG_LEVEL", "DEBUG")  # every line the hub can write, httpx's too
    with http_peer() as peer:
        peer.replies = [Reply(503, body=b"busy"), Reply(400, body=b"no such customer")]
        host, port = peer.server.server_address[:2]  # type: ignore[union-attr]
        config = demo_config(
            tmp_path / "hub",
            sinks=[
                {
                    "name": "erp",
                    "type": "http",
                    "options": {"url": f"http://hub:${{ERP_PASSWORD}}@{host}:{port}/inbox"},
                }
            ],
            retry={"max_attempts": 3, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.2},
        )
        hub = hostile_hub(config)
        answer = hub.post("/ingest/shop-orders", EXAMPLE_ORDER.read_bytes(), headers=JSON)
        message_id = answer.json()["id"]
        message = settled(hub, message_id, "failed")
        sent = peer.wait_for(2)
    # the password was used (HTTP basic auth from the URL) ...
    expected = base64.b64encode(f"hub:{PASSWORD}".encode()).decode()
    assert sent[-1].headers["authorization"] == f"Basic {expected}"
    # ... and is shown nowhere: the dead letter says what happened with the URL redacted
    assert f"HTTP 400 from http://hub:***@{host}:{port}/inbox" in message["error"]["message"]
    answers = [
        json.dumps(message),
        hub.get("/dead-letters").text,
        hub.get("/messages").text,
        hub.get(f"/messages/{message_id}/audit").text,
        hub.get("/metrics").text,
    ]
    for text in answers:
        assert PASSWORD not in text
    stored = sorted((tmp_path / "hub").glob("hub.db*"))  # the database, its WAL (and shm)
    assert stored
    for path in stored:
        assert PASSWORD.encode() not in path.read_bytes(), path
    log = hub.process.log.read_text(encoding="utf-8")
    assert "dead-lettered" in log  # the WARNING line is there, redacted
    assert PASSWORD not in log


def test_hub_check_never_echoes_a_value_from_the_environment(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["sinks"] = [
        {"name": "erp", "type": "http", "options": {"url": "ftp://hub:${ERP_PASSWORD}@erp/x"}}
    ]
    config["server"]["port"] = "${ERP_PASSWORD}"
    path = write_config(tmp_path, config)
    for _ in range(2):  # the file's own problems first, then (once they are fixed) the routes'
        result = subprocess.run(
            [sys.executable, "-m", "hub", "check", "--config", str(path)],
            capture_output=True,
            text=True,
            env={"ERP_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
            timeout=120,
            check=False,
        )
        assert result.returncode == 1
        assert PASSWORD not in result.stdout + result.stderr
        assert "(got '${ERP_PASSWORD}')" in result.stderr or (
            "(got 'ftp://hub:${ERP_PASSWORD}@erp/x')" in result.stderr
        ), result.stderr
        config["server"]["port"] = 8080
        path = write_config(tmp_path, config)


@pytest.mark.parametrize(
    "declared", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/html; charset=utf-8"]
)
def test_a_stored_body_is_never_served_as_an_active_document(
    hostile_hub: StartHub, declared: str
) -> None:
    hub = hostile_hub()
    script = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    script["customer_note"] = "<script>alert(document.cookie)</script><svg onload=alert(1)>"
    answer = hub.post(
        "/ingest/shop-orders", json.dumps(script).encode(), headers={"Content-Type": declared}
    )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["id"]
    body = hub.get(f"/messages/{message_id}/body")
    assert body.status_code == 200
    assert body.content == json.dumps(script).encode()  # the bytes, exactly as received
    assert body.headers["content-type"] == "application/octet-stream"
    assert body.headers["content-disposition"] == f'attachment; filename="{message_id}.bin"'
    assert body.headers["x-content-type-options"] == "nosniff"
    assert body.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_bodies_and_outputs_of_safe_types_keep_their_type_as_downloads(
    hostile_hub: StartHub,
) -> None:
    hub = hostile_hub()
    answer = hub.post("/ingest/shop-orders", EXAMPLE_ORDER.read_bytes(), headers=JSON)
    message_id = answer.json()["id"]
    settled(hub, message_id, "delivered")
    body = hub.get(f"/messages/{message_id}/body")
    assert body.headers["content-type"] == "application/json"
    assert body.headers["content-disposition"] == f'attachment; filename="{message_id}.json"'
    output = hub.get(f"/messages/{message_id}/output")
    assert output.headers["content-type"] == "application/json"
    assert output.headers["content-disposition"] == (
        f'attachment; filename="{message_id}-output.json"'
    )
    for served in (body, output):
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    # every other answer: no sniffing, no framing
    for path in (f"/messages/{message_id}", "/messages", "/healthz", "/nope"):
        other = hub.get(path)
        assert other.headers["x-content-type-options"] == "nosniff", path
        assert other.headers["content-security-policy"] == "frame-ancestors 'none'", path
        assert other.headers["x-frame-options"] == "DENY", path
