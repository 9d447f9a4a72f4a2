"""Keys at ingest: never cut (two orders stay two), and what the store cannot hold is a 400.

On SQLite and on PostgreSQL: PostgreSQL refuses a NUL in text, and neither can encode a lone
surrogate; both used to answer 500 or 503 (with Retry-After, so the sender tried forever).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from hub.api import create_app
from hub.errors import InboundRejected
from hub.keys import KEY_LIMIT
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import serve_app

ORDER: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))


@contextmanager
def running(
    tmp_path: Path, store_url: str, idempotency: dict[str, Any] | None = None
) -> Iterator[tuple[httpx.Client, Hub]]:
    config: dict[str, Any] = demo_config(tmp_path, store_url=store_url, worker={"enabled": False})
    route = config["routes"]["shop-orders"]
    route["idempotency"] = idempotency or {"path": "order_key"}
    route["ordering"] = "customer_note"
    hub = Hub.from_file(write_config(tmp_path, config))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, hub


def post(client: httpx.Client, order: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post(
        "/ingest/shop-orders",
        content=json.dumps(order).encode(),  # ensure_ascii: "\ud800" stays an escape
        headers={"Content-Type": "application/json", **headers},
    )


def stored(hub: Hub) -> int:
    return sum(hub.store.count_by_status().values())


def test_long_header_keys_sharing_a_prefix_are_two_orders(tmp_path: Path, store_url: str) -> None:
    with running(tmp_path, store_url) as (client, hub):
        first = post(client, ORDER, **{"Idempotency-Key": "k" * 200 + "A"})
        second = post(client, ORDER, **{"Idempotency-Key": "k" * 200 + "B"})
        again = post(client, ORDER, **{"Idempotency-Key": "k" * 200 + "B"})
        assert (first.status_code, second.status_code, again.status_code) == (202, 202, 200)
        assert second.json()["id"] != first.json()["id"]
        assert again.json() == {**second.json(), "duplicate": True}
        assert stored(hub) == 2


def test_long_document_keys_are_fitted_not_cut(tmp_path: Path, store_url: str) -> None:
    with running(tmp_path, store_url) as (client, hub):
        prefix = "wc_order_" + "x" * 300
        first = post(client, {**ORDER, "order_key": prefix + "1", "number": "n" * 400 + "1"})
        second = post(client, {**ORDER, "order_key": prefix + "2", "number": "n" * 400 + "2"})
        assert (first.status_code, second.status_code) == (202, 202), second.text
        assert stored(hub) == 2
        one = hub.store.get(first.json()["id"]).message
        two = hub.store.get(second.json()["id"]).message
        assert one.idempotency_key != two.idempotency_key
        assert one.correlation_key != two.correlation_key
        for key in (one.idempotency_key, one.correlation_key, two.correlation_key):
            assert key is not None
            assert len(key) == KEY_LIMIT
            assert "\u2026sha256:" in key
        # the whole key finds the message, as the answer to the sender showed it
        assert first.json()["correlation_key"] == one.correlation_key
        for key in ("n" * 400 + "1", one.correlation_key):  # the whole key, or as shown
            found = client.get("/messages", params={"correlation_key": key}).json()
            assert [m["id"] for m in found["messages"]] == [first.json()["id"]]
        assert post(client, {**ORDER, "order_key": prefix + "2"}).json()["duplicate"] is True


def test_a_long_ordering_key_keeps_orders_apart(tmp_path: Path, store_url: str) -> None:
    with running(tmp_path, store_url) as (client, hub):
        note = "n" * 300
        answers = [
            post(client, {**ORDER, "order_key": suffix, "customer_note": note + suffix})
            for suffix in ("A", "B")
        ]
        keys = [hub.store.get(a.json()["id"]).message.ordering_key for a in answers]
        assert keys[0] != keys[1]
        assert all(key is not None and key.startswith("n" * 100) for key in keys)


BAD_KEYS = [
    pytest.param("a\x00b", "contains a NUL character at character 2", id="nul"),
    pytest.param("\ud800", "contains a lone surrogate U+D800", id="surrogate"),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_KEYS)
@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("number", "correlation key"),
        ("order_key", "idempotency key"),
        ("customer_note", "ordering key"),
    ],
)
def test_a_key_the_store_cannot_hold_is_a_400_that_names_it(
    tmp_path: Path, store_url: str, bad: str, problem: str, field: str, kind: str
) -> None:
    with running(tmp_path, store_url) as (client, hub):
        answer = post(client, {**ORDER, field: bad})
        assert answer.status_code == 400, answer.text
        assert "retry-after" not in answer.headers
        error = answer.json()["error"]
        assert error["message"].startswith(f"the {kind} at `{field}` {problem}")
        assert error["where"] == field
        assert stored(hub) == 0
        assert post(client, ORDER).status_code == 202  # the hub carries on


@pytest.mark.parametrize(("bad", "problem"), BAD_KEYS)
def test_a_header_key_the_store_cannot_hold_is_refused(
    tmp_path: Path, store_url: str, bad: str, problem: str
) -> None:
    # HTTP cannot carry these in a header (the server refuses the request); another source
    # can hand the ingestor any text, so the ingestor checks the key itself.
    with running(tmp_path, store_url) as (_client, hub):
        request = InboundRequest(
            route="shop-orders",
            body=EXAMPLE_ORDER.read_bytes(),
            headers={"content-type": "application/json", "idempotency-key": bad},
        )
        with pytest.raises(InboundRejected) as refused:
            hub.ingestor.ingest(request)
        assert refused.value.status == 400
        assert refused.value.message.startswith(f"the Idempotency-Key header {problem}")
        assert stored(hub) == 0


def test_a_nul_in_a_header_never_reaches_the_store(tmp_path: Path, store_url: str) -> None:
    with running(tmp_path, store_url) as (client, hub):
        body = EXAMPLE_ORDER.read_bytes()
        address = urlsplit(str(client.base_url))
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            sock.sendall(
                b"POST /ingest/shop-orders HTTP/1.1\r\nHost: hub\r\n"
                b"Content-Type: application/json\r\nIdempotency-Key: a\x00b\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert stored(hub) == 0


@pytest.mark.parametrize("name", ["correlation_key", "error_type"])
@pytest.mark.parametrize("path", ["/messages", "/dead-letters"])
def test_a_search_for_a_nul_is_a_400_not_a_store_error(
    tmp_path: Path, store_url: str, name: str, path: str
) -> None:
    with running(tmp_path, store_url) as (client, _hub):
        answer = client.get(path, params={name: "a\x00b"})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["where"] == name
        assert "NUL" in error["message"]


@pytest.mark.parametrize("path", ["/messages", "/dead-letters"])
def test_a_date_without_a_time_is_a_filter_not_a_store_error(
    tmp_path: Path, store_url: str, path: str
) -> None:
    with running(tmp_path, store_url) as (client, _hub):
        post(client, ORDER)
        answer = client.get(path, params={"since": "2020-01-01"})
        assert answer.status_code == 200, answer.text
        assert "SELECT" not in answer.text


def test_woocommerce_replays_are_one_message_and_updates_are_new(
    tmp_path: Path, store_url: str
) -> None:
    with running(tmp_path, store_url, {"path": ["id", "date_modified_gmt"]}) as (client, hub):
        first = post(client, ORDER)
        replay = post(client, ORDER)
        updated = post(client, {**ORDER, "date_modified_gmt": "2026-11-21T08:00:00"})
        other = post(client, {**ORDER, "id": 728})
        assert [a.status_code for a in (first, replay, updated, other)] == [202, 200, 202, 202]
        assert replay.json()["id"] == first.json()["id"]
        assert replay.json()["duplicate"] is True
        key = hub.store.get(first.json()["id"]).message.idempotency_key
        assert key == "727/2026-11-20T13:06:03"
        no_time = {k: v for k, v in ORDER.items() if k != "date_modified_gmt"}
        assert post(client, no_time).status_code == 202  # no key: stored, never merged
        assert post(client, no_time).status_code == 202
        assert stored(hub) == 5


def test_a_store_refusal_is_a_503_without_sql_and_without_retry_after(
    tmp_path: Path, store_url: str
) -> None:
    with running(tmp_path, store_url) as (client, hub):
        with hub.store.engine.begin() as conn:  # a store that has lost a table
            conn.exec_driver_sql("DROP TABLE events")
        answer = post(client, ORDER)
        assert answer.status_code == 503, answer.text
        assert "retry-after" not in answer.headers  # it would fail the same way again
        error = answer.json()["error"]
        assert error["type"] == "store_error"
        assert "events" in error["message"]
        for sql in ("INSERT", "SELECT", "[SQL", "Traceback"):
            assert sql not in answer.text
