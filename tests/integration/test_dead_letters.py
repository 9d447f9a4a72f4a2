"""A partner refuses (400): dead letter after one attempt; fixed, a replay delivers it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from hub.api import create_app
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import Reply, http_peer, serve_app
from tests.waiting import wait_for_progress


def wait(client: httpx.Client, message_id: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = wait_for_progress(
        lambda: client.get(f"/messages/{message_id}").json(),
        lambda body: body["status"] == status,
        what=f"message {message_id} to become {status}",
    )
    return body


def test_refused_then_replayed_and_discarded(tmp_path: Path) -> None:
    with http_peer() as peer:
        peer.default = Reply(400, body=b'{"error": "unknown customer 26"}')
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path, sinks=sinks)))
        # the audit's "who" is the key's name; the X-Hub-Actor a client sends is ignored
        alice = {"Authorization": f"Bearer {hub.keys.create('alice', ['operate'])[1]}"}
        bob = {"X-API-Key": hub.keys.create("bob", ["operate"])[1]}
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
            order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
            first = client.post("/ingest/shop-orders", json=order).json()["id"]
            order["id"], order["number"] = 728, "728"
            second = client.post("/ingest/shop-orders", json=order).json()["id"]
            wait(client, first, "failed")
            wait(client, second, "failed")
            assert len(peer.received) == 2  # one attempt each: a 400 is not retried

            listed = client.get("/dead-letters", params={"route": "shop-orders"}).json()
            assert [m["id"] for m in listed] == [second, first]
            assert listed[0]["error"]["type"] == "delivery_fatal"
            assert "unknown customer 26" in listed[0]["error"]["message"]
            only = client.get("/dead-letters", params={"correlation_key": "727"}).json()
            assert [m["id"] for m in only] == [first]

            peer.default = Reply(201)  # the partner fixed its customer table
            replay = client.post(
                f"/messages/{first}/replay",
                json={"mode": "original", "reason": "customer created"},
                headers={**alice, "X-Hub-Actor": "admin@victim.example"},
            )
            assert replay.status_code == 200, replay.text
            delivered = wait(client, first, "delivered")
            kinds = [e["kind"] for e in delivered["events"]]
            assert kinds[-4:] == ["replay", "turn", "attempt", "delivered"]
            assert "encoded" not in kinds[kinds.index("replay") :]  # original output resent
            assert peer.received[-1].headers["idempotency-key"] == f"{first}:partner"

            again = client.post(f"/messages/{first}/replay", json={})
            assert again.status_code == 409
            assert "not failed" in again.json()["error"]["message"]

            assert (
                client.post(f"/messages/{second}/discard", json={"reason": ""}).status_code == 422
            )
            dropped = client.post(
                f"/messages/{second}/discard",
                json={"reason": "order cancelled by phone"},
                headers=bob,
            )
            assert dropped.status_code == 200
            assert client.get(f"/messages/{second}").json()["status"] == "discarded"
            assert client.get("/dead-letters").json() == []

            trail = client.get(f"/messages/{first}/audit").json()
            assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
                ("alice", "replay", "customer created")
            ]
            assert client.get(f"/messages/{second}/audit").json()[0]["actor"] == "bob"
            assert client.post("/messages/nope/replay", json={}).status_code == 404
            assert client.post("/messages/nope/discard", json={"reason": "x"}).status_code == 404
            bulk = client.post("/dead-letters/replay", json={"ids": [first, "nope"]}).json()
            assert bulk["results"][first].startswith("state_conflict: ")
            assert bulk["results"]["nope"] == "message_not_found: no message with id 'nope'"


def test_replay_with_the_current_mapping_translates_again(tmp_path: Path) -> None:
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["currency"] = "euro"  # the input schema wants ISO 4217: a dead letter at `validate`
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        message_id = client.post("/ingest/shop-orders", json=order).json()["id"]
        failed = wait(client, message_id, "failed")
        assert failed["error"]["stage"] == "validate"
        # An admin relaxes the route (here: drops the input schema) and replays.
        route = hub.routes["shop-orders"]
        route.translator = route.translator.__class__(
            **{**route.translator.__dict__, "input_schema": None, "output_schema": None}
        )
        client.post(f"/messages/{message_id}/replay", json={"mode": "current"})
        done = wait(client, message_id, "delivered")
        assert "mapped" in [e["kind"] for e in done["events"]]
        output = client.get(f"/messages/{message_id}/output").json()
        assert output["currency"] == "euro"


def test_the_cli_lists_replays_and_discards(tmp_path: Path) -> None:
    from tests.integration.test_cli import hub as cli

    with http_peer() as peer:
        peer.default = Reply(422, body=b"bad")
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        config = write_config(tmp_path, demo_config(tmp_path, sinks=sinks))
        running = Hub.from_file(config)
        try:
            ids = []
            for number in ("1", "2"):
                order = EXAMPLE_ORDER.read_text(encoding="utf-8")
                body = order.replace('"number": "727"', f'"number": "{number}"').encode()
                result = running.ingestor.ingest(InboundRequest(route="shop-orders", body=body))
                ids.append(result.message_id)
            while running.worker.run_once():
                pass
        finally:
            running.close()
        listed = cli("dead-letters", "list", "--config", str(config))
        assert listed.returncode == 0, listed.stderr
        lines = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [line["correlation_key"] for line in lines] == ["2", "1"]
        assert lines[0]["error"].startswith("deliver/delivery_fatal: partner: HTTP 422")
        done = cli("dead-letters", "replay", ids[0], "--config", str(config), "--reason", "fixed")
        assert done.returncode == 0, done.stderr
        missing = cli("dead-letters", "discard", ids[1], "--config", str(config))
        assert missing.returncode == 2  # --reason is required
        gone = cli("dead-letters", "discard", ids[1], "--reason", "dup", "--config", str(config))
        assert gone.returncode == 0, gone.stderr
        twice = cli("dead-letters", "discard", ids[1], "--reason", "dup", "--config", str(config))
        assert twice.returncode == 1
        assert "is discarded, not failed" in twice.stderr
        left = cli("dead-letters", "list", "--config", str(config), "--status", "received")
        assert [json.loads(line)["id"] for line in left.stdout.splitlines()] == [ids[0]]


def test_the_audit_of_a_message_that_does_not_exist_is_a_404(tmp_path: Path) -> None:
    """Like the message itself, its body and its replay: was `200 []`."""
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        accepted = client.post("/ingest/shop-orders", content=EXAMPLE_ORDER.read_bytes())
        assert client.get(f"/messages/{accepted.json()['id']}/audit").json() == []
        missing = client.get("/messages/0b6f8d0e-6f6a-4c8e-9b6e-3f1d2c4b5a69/audit")
        assert missing.status_code == 404, missing.text
        assert missing.json()["error"]["type"] == "message_not_found"


def test_a_discard_reason_of_spaces_and_a_misspelt_field_are_named(tmp_path: Path) -> None:
    """Both are refused before the store: the reason was a 400 after validation had passed
    it. (An actor header is no longer read: the actor is the caller's key.)"""
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        spaces = client.post("/messages/nope/discard", json={"reason": " \t "})
        assert spaces.status_code == 422, spaces.text
        assert spaces.json()["error"]["problems"][0]["where"] == "body/reason"
        unknown = client.post("/messages/nope/replay", json={"mode": "current", "resaon": "x"})
        assert unknown.status_code == 422, unknown.text  # a misspelt field is not ignored
        latin1 = client.post(
            "/messages/nope/discard",
            content='{"reason": "bestätigt"}'.encode("latin-1"),
            headers={"Content-Type": "application/json"},
        )
        assert latin1.status_code == 400, latin1.text  # as documented, with what to do
        assert latin1.json()["error"]["hint"] == "send the body as JSON in UTF-8"
