"""The API end to end: a real SQLite file, the real worker thread, a real outbox directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.peers import HttpPeer, Reply, http_peer, serve_app
from tests.waiting import wait_for_progress


def _client(tmp_path: Path, **overrides: Any) -> Iterator[tuple[httpx.Client, Hub]]:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path, **overrides)))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, hub


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, Hub]]:
    yield from _client(tmp_path)


def wait_status(client: httpx.Client, message_id: str, *states: str) -> dict[str, Any]:
    """The message once it is in one of ``states``; waits while it changes."""
    body: dict[str, Any] = wait_for_progress(
        lambda: client.get(f"/messages/{message_id}").json(),
        lambda body: body.get("status") in states,
        what=f"message {message_id} to become {' or '.join(states)}",
    )
    return body


def post_order(client: httpx.Client, order: dict[str, Any] | None = None) -> Any:
    body = json.dumps(order) if order is not None else EXAMPLE_ORDER.read_bytes()
    return client.post(
        "/ingest/shop-orders", content=body, headers={"Content-Type": "application/json"}
    )


def test_order_is_stored_translated_and_written_to_the_outbox(
    api: tuple[httpx.Client, Hub], tmp_path: Path
) -> None:
    client, _ = api
    response = post_order(client)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["correlation_key"] == "727"
    assert response.headers["location"] == f"/messages/{accepted['id']}"

    message = wait_status(client, accepted["id"], "delivered")
    kinds = [e["kind"] for e in message["events"]]
    assert kinds == [
        "received",
        "turn",
        "decoded",
        "validated",
        "mapped",
        "validated",
        "encoded",
        "attempt",
        "delivered",
    ]
    assert message["deliveries"] == [
        {
            "sink": "erp",
            "status": "delivered",
            "attempts": 1,
            "last_error": None,
            "delivered_at": message["deliveries"][0]["delivered_at"],
        }
    ]
    assert message["mapping"]["name"] == "woocommerce-order-to-erp"
    assert len(message["mapping"]["hash"]) == 16

    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == [f"727-{accepted['id']}.json"]
    erp = json.loads(files[0].read_text(encoding="utf-8"))
    assert erp["order_number"] == "727"
    assert erp["customer"]["last_name"] == "Müller"
    assert [line["item"] for line in erp["lines"]] == ["MEHL-R1150-25", "PAP-6040-500", "HEFE-1KG"]
    assert client.get(f"/messages/{accepted['id']}/output").content == files[0].read_bytes()
    assert client.get(f"/messages/{accepted['id']}/body").content == EXAMPLE_ORDER.read_bytes()


def test_malformed_json_is_refused_with_its_position(api: tuple[httpx.Client, Hub]) -> None:
    client, hub = api
    response = client.post("/ingest/shop-orders", content=b'{"id": 1,\n "number": }')
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["where"] == "line 2, column 12"
    assert "not valid json" in error["message"]
    assert hub.store.count_by_status() == {}


def test_unknown_route_is_a_404_listing_the_routes(api: tuple[httpx.Client, Hub]) -> None:
    client, _ = api
    response = client.post("/ingest/shop-ordres", content=b"{}")
    assert response.status_code == 404
    assert "shop-orders" in response.json()["error"]["hint"]


def test_body_over_the_limit_is_a_413(tmp_path: Path) -> None:
    for client, hub in _client(tmp_path, server={"max_body_bytes": 1000}):
        response = post_order(client)
        assert response.status_code == 413
        assert "1000" in response.json()["error"]["message"]
        assert hub.store.count_by_status() == {}


def test_unknown_message_is_a_404(api: tuple[httpx.Client, Hub]) -> None:
    client, _ = api
    response = client.get("/messages/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "message_not_found"


def test_an_invalid_order_is_dead_lettered_with_json_pointers(
    api: tuple[httpx.Client, Hub], tmp_path: Path
) -> None:
    client, _ = api
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["line_items"][1]["quantity"] = 0
    del order["billing"]["email"]
    accepted = post_order(client, order).json()
    message = wait_status(client, accepted["id"], "failed")
    assert message["error"]["stage"] == "validate"
    failed = message["events"][-1]
    assert failed["kind"] == "failed"
    problems = failed["data"]["problems"]
    assert any(
        p.startswith("#/billing:") and "'email' is a required property" in p for p in problems
    )
    assert any(p.startswith("#/line_items/1/quantity:") for p in problems)
    assert not (tmp_path / "outbox").exists()
    assert message["mapping"] is None  # the input failed before the mapping ran


def test_a_message_the_mapping_fails_on_records_the_mapping_version(tmp_path: Path) -> None:
    erp = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "erp.yaml"
    # map stage: a required field with no value; validate stage: a number where the output
    # schema wants text (the static checks look at keys, not at value types)
    mapping.write_text(
        erp.replace("  note: customer_note", "  note: {path: coupon_code, required: true}"),
        encoding="utf-8",
    )
    second = tmp_path / "erp-typed.yaml"
    second.write_text(erp.replace("  note: customer_note", "  note: id"), encoding="utf-8")
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["routes"]["typed"] = {
        **config["routes"]["shop-orders"],
        "mapping": str(second),
    }
    hub = Hub.from_file(write_config(tmp_path, config))
    versions = {}
    for name, route in hub.routes.items():
        assert route.translator.mapping is not None
        versions[name] = route.translator.mapping.content_hash
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        first = wait_status(client, post_order(client).json()["id"], "failed")
        assert first["error"]["stage"] == "map"
        assert first["mapping"] == {
            "name": "woocommerce-order-to-erp",
            "hash": versions["shop-orders"],
        }
        response = client.post(
            "/ingest/typed",
            content=EXAMPLE_ORDER.read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        typed = wait_status(client, response.json()["id"], "failed")
        assert typed["error"]["stage"] == "validate"
        assert "#/note" in typed["events"][-1]["data"]["problems"][0]
        assert typed["mapping"]["hash"] == versions["typed"] != versions["shop-orders"]


def test_health_readiness_and_metrics(api: tuple[httpx.Client, Hub]) -> None:
    client, _ = api
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    accepted = post_order(client).json()
    wait_status(client, accepted["id"], "delivered")
    client.post("/ingest/shop-orders", content=b"nope")
    metrics = client.get("/metrics").text
    assert 'hub_messages_received_total{route="shop-orders"} 1.0' in metrics
    assert 'hub_messages_delivered_total{route="shop-orders"} 1.0' in metrics
    assert 'hub_ingest_rejected_total{reason="malformed",route="shop-orders"} 1.0' in metrics
    assert 'hub_processing_duration_seconds_count{route="shop-orders"}' in metrics
    assert "/ingest/shop-orders" in client.get("/openapi.json").json()["paths"]


def test_woocommerce_ping_is_acknowledged_and_not_stored(api: tuple[httpx.Client, Hub]) -> None:
    client, hub = api
    response = client.post(
        "/ingest/shop-orders",
        content=b"webhook_id=42",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["acknowledged"] is True
    assert hub.store.count_by_status() == {}


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    with http_peer() as peer:
        yield peer


def test_http_sink_down_then_up_is_retried_until_delivered(tmp_path: Path, peer: HttpPeer) -> None:
    peer.replies = [Reply(503), Reply(503, headers={"Retry-After": "0"})]
    sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
    for client, _ in _client(tmp_path, sinks=sinks):
        accepted = post_order(client).json()
        message = wait_status(client, accepted["id"], "delivered")
        attempts = [e for e in message["events"] if e["kind"] == "attempt"]
        assert [a["data"]["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
        assert [a["data"]["attempt"] for a in attempts] == [1, 2, 3]
        assert sum(e["kind"] == "retry_scheduled" for e in message["events"]) == 2
        keys = {r.headers["idempotency-key"] for r in peer.received}
        assert keys == {f"{accepted['id']}:partner"}
        assert json.loads(peer.received[-1].body)["order_number"] == "727"


def test_http_sink_refusal_is_a_dead_letter_after_one_attempt(
    tmp_path: Path, peer: HttpPeer
) -> None:
    peer.default = Reply(400, body=b'{"error": "unknown customer"}')
    sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
    for client, _ in _client(tmp_path, sinks=sinks):
        accepted = post_order(client).json()
        message = wait_status(client, accepted["id"], "failed")
        assert message["error"]["stage"] == "deliver"
        assert "HTTP 400" in message["error"]["message"]
        assert "unknown customer" in message["error"]["message"]
        assert len(peer.received) == 1


def test_two_sinks_retry_only_the_one_that_failed(tmp_path: Path, peer: HttpPeer) -> None:
    peer.replies = [Reply(502)]
    sinks = [
        {"name": "erp", "type": "file", "options": {"directory": str(tmp_path / "outbox")}},
        {"name": "partner", "type": "http", "options": {"url": peer.url}},
    ]
    for client, _ in _client(tmp_path, sinks=sinks):
        accepted = post_order(client).json()
        message = wait_status(client, accepted["id"], "delivered")
        by_sink = {d["sink"]: d["attempts"] for d in message["deliveries"]}
        assert by_sink == {"erp": 1, "partner": 2}
        assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_chunked_body_over_the_limit_is_a_413_too(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b" " * 100

    for client, hub in _client(tmp_path, server={"max_body_bytes": 1000}):
        response = client.post("/ingest/shop-orders", content=chunks())
        assert response.status_code == 413
        assert hub.store.count_by_status() == {}
        metrics = client.get("/metrics").text
        assert 'hub_ingest_rejected_total{reason="too_large",route="shop-orders"} 1.0' in metrics
