"""A repeated submission is the same message: by Idempotency-Key header or a path in the body."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import serve_app


@contextmanager
def running(tmp_path: Path, store_url: str) -> Iterator[tuple[httpx.Client, Hub]]:
    config: dict[str, Any] = demo_config(tmp_path, store_url=store_url)
    config["routes"]["shop-orders"]["idempotency"] = {"path": "id"}  # WooCommerce's order id
    hub = Hub.from_file(write_config(tmp_path, config))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, hub


def post(client: httpx.Client, body: bytes, **headers: str) -> httpx.Response:
    return client.post(
        "/ingest/shop-orders", content=body, headers={"Content-Type": "application/json", **headers}
    )


def test_the_same_order_posted_twice_concurrently_is_one_message(
    tmp_path: Path, store_url: str
) -> None:
    with running(tmp_path, store_url) as (client, hub):
        body = EXAMPLE_ORDER.read_bytes()
        answers: list[httpx.Response] = []
        start = threading.Barrier(8)

        def send() -> None:
            start.wait()
            answers.append(post(client, body))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert len(answers) == 8
        assert len({a.json()["id"] for a in answers}) == 1
        assert sorted(a.status_code for a in answers) == [200] * 7 + [202]
        assert sum(a.json()["duplicate"] for a in answers) == 7
        assert sum(hub.store.count_by_status().values()) == 1
        metrics = client.get("/metrics").text
        assert 'hub_ingest_duplicates_total{route="shop-orders"} 7.0' in metrics
        assert 'hub_messages_received_total{route="shop-orders"} 1.0' in metrics


def test_the_header_wins_over_the_body_path(tmp_path: Path, store_url: str) -> None:
    with running(tmp_path, store_url) as (client, hub):
        body = EXAMPLE_ORDER.read_bytes()
        first = post(client, body, **{"Idempotency-Key": "attempt-A"})
        again = post(client, body, **{"Idempotency-Key": "attempt-A"})
        other = post(client, body, **{"Idempotency-Key": "attempt-B"})
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert other.status_code == 202
        assert other.json()["id"] != first.json()["id"]
        assert hub.store.get(first.json()["id"]).message.idempotency_key == "attempt-A"
        changed = EXAMPLE_ORDER.read_text(encoding="utf-8").replace('"id": 727', '"id": 728')
        assert post(client, changed.encode()).status_code == 202
        assert sum(hub.store.count_by_status().values()) == 3
