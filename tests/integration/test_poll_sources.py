"""Poll sources run by the hub: exactly-once pickup through crashes, one poller per route.

Real ``hub run`` processes poll a real folder. A crash is the process killing itself with
SIGKILL at an exact step (``HUB_FAILPOINT``, see hub/failpoints.py), which is what
``kill -9`` does, aimed between the fetch and the commit, or the commit and the move.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest
from sqlalchemy import create_engine, text

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.processes import HubProcess
from tests.sftp_server import SftpServer, running_sftp
from tests.shop_api import KEY, SECRET, Shop, running_shop
from tests.waiting import wait_for_progress

N = 24
BROKER = os.environ.get("HUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _polled_config(tmp: Path, store_url: str | None = None, **schedule: Any) -> dict[str, Any]:
    config = demo_config(tmp, store_url=store_url)
    route = config["routes"]["shop-orders"]
    route["source"] = {
        "type": "directory",
        "schedule": {"interval_seconds": 0.2, "batch": 5, "lease_seconds": 5, **schedule},
        "options": {"path": str(tmp / "inbox"), "pattern": "*.json", "settle_seconds": 0},
    }
    config["routes"] = {"polled-orders": route}
    return config


def _drop(inbox: Path, count: int, start: int = 0) -> None:
    """Orders with distinct numbers, written under a temporary name then renamed."""
    inbox.mkdir(exist_ok=True)
    order = json.loads(EXAMPLE_ORDER.read_text())
    for n in range(start, start + count):
        order["id"] = 5000 + n
        order["number"] = str(5000 + n)
        part = inbox / f"order-{n}.json.part"
        part.write_text(json.dumps(order))
        then = time.time() - 5
        os.utime(part, (then, then))
        part.rename(inbox / f"order-{n}.json")


def _stored(store_url: str) -> list[tuple[str, str]]:
    """(correlation key, status) of every message the store holds."""
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT correlation_key, status FROM messages")).all()
            return [(str(key), str(status)) for key, status in rows]
    finally:
        engine.dispose()


def _left(inbox: Path) -> list[str]:
    return sorted(p.name for p in inbox.glob("*.json"))


def _wait_all_delivered(store_url: str, inbox: Path, count: int) -> list[tuple[str, str]]:
    def observe() -> tuple[list[tuple[str, str]], list[str]]:
        return sorted(_stored(store_url)), _left(inbox)

    stored, _ = wait_for_progress(
        observe,
        lambda seen: (
            len(seen[0]) >= count and all(s == "delivered" for _, s in seen[0]) and not seen[1]
        ),
        what=f"{count} polled orders to be delivered and the folder emptied",
    )
    return stored


def test_files_in_a_folder_are_delivered_once_and_moved_to_done(tmp_path: Path) -> None:
    config = write_config(tmp_path, _polled_config(tmp_path))
    store_url = f"sqlite:///{tmp_path / 'hub.db'}"
    _drop(tmp_path / "inbox", N)
    hub = HubProcess(config, tmp_path / "hub.log").start()
    try:
        stored = _wait_all_delivered(store_url, tmp_path / "inbox", N)
        assert sorted(k for k, _ in stored) == sorted(str(5000 + n) for n in range(N))
        assert len(list((tmp_path / "outbox").iterdir())) == N
        assert len(list((tmp_path / "inbox" / "done").iterdir())) == N
        sources = httpx.get(f"{hub.url}/sources", timeout=10).json()["sources"]
        assert [s["route"] for s in sources] == ["polled-orders"]
        assert sources[0]["type"] == "directory"
        assert sources[0]["items"] == N
        assert sources[0]["last_success"] is not None
        assert sources[0]["last_error"] is None
        refused = httpx.post(f"{hub.url}/ingest/polled-orders", content=b"{}", timeout=10)
        assert refused.status_code == 404
        assert "polled by the hub's scheduler" in refused.json()["error"]["message"]
        metrics = httpx.get(f"{hub.url}/metrics", timeout=10).text
        assert 'hub_source_items_total{route="polled-orders"} 24.0' in metrics
    finally:
        hub.stop()


@pytest.mark.parametrize("point", ["poll.before_commit", "poll.before_confirm"])
def test_a_crash_between_fetch_commit_and_move_loses_and_repeats_nothing(
    tmp_path: Path, point: str
) -> None:
    config = write_config(tmp_path, _polled_config(tmp_path))
    store_url = f"sqlite:///{tmp_path / 'hub.db'}"
    inbox = tmp_path / "inbox"
    _drop(inbox, N)
    _crash_then_recover(tmp_path, config, point, store_url, N, lambda: len(_left(inbox)))
    # a worker killed mid-write leaves a hidden .partial- file, which no reader takes
    assert len(list((tmp_path / "outbox").glob("[!.]*"))) == N


class _Queue:
    """The orders in a RabbitMQ queue of the test's own, published with message ids."""

    def __init__(self) -> None:
        self.name = f"hub-test-{uuid.uuid4().hex[:12]}"

    def source(self) -> dict[str, Any]:
        return {"type": "amqp", "options": {"url": BROKER, "queue": self.name}}

    def put(self, count: int, start: int = 0) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        try:
            channel = connection.channel()
            channel.queue_declare(queue=self.name, durable=True)
            for n in range(start, start + count):
                channel.basic_publish(
                    "",
                    self.name,
                    json.dumps(_order(n)).encode(),
                    pika.BasicProperties(message_id=f"order-{n}", delivery_mode=2),
                )
        finally:
            connection.close()

    def left(self) -> int:
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        try:
            declared = connection.channel().queue_declare(queue=self.name, passive=True)
            return int(declared.method.message_count)
        finally:
            connection.close()

    def delete(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
        try:
            connection.channel().queue_delete(queue=self.name)
        finally:
            connection.close()


def _order(n: int) -> dict[str, Any]:
    order: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text())
    order["id"] = 5000 + n
    order["number"] = str(5000 + n)
    return order


def _with_source(tmp: Path, source: dict[str, Any], store_url: str | None = None) -> Path:
    config = _polled_config(tmp, store_url=store_url)
    schedule = config["routes"]["polled-orders"]["source"]["schedule"]
    config["routes"]["polled-orders"]["source"] = {**source, "schedule": schedule}
    return write_config(tmp, config)


def _crash_then_recover(
    tmp: Path,
    config: Path,
    point: str,
    store_url: str,
    count: int,
    left: Callable[[], int] | None,
) -> None:
    """Kill the hub at ``point`` (its second pass), restart it, and count: every item stored
    and delivered once, and (``left``: what the peer still holds) nothing unconfirmed."""
    crashing = HubProcess(config, tmp / "crash.log", env={"HUB_FAILPOINT": f"{point}@2"})
    with contextlib.suppress(AssertionError):  # it may die before it answers /healthz
        crashing.start()
    assert crashing.proc is not None
    wait_for_progress(
        lambda: (crashing.proc.poll() if crashing.proc else None, len(_stored(store_url))),
        lambda seen: seen[0] is not None,
        what=f"the hub to die at {point}",
    )
    assert crashing.proc.returncode == -9
    if left is not None:  # the crash left items at the peer: fetched, or stored unconfirmed
        assert left() > 0
    hub = HubProcess(config, tmp / "hub.log").start()
    try:

        def observe() -> tuple[list[tuple[str, str]], int]:
            return sorted(_stored(store_url)), left() if left is not None else 0

        stored, _ = wait_for_progress(
            observe,
            lambda seen: (
                len(seen[0]) >= count and all(s == "delivered" for _, s in seen[0]) and seen[1] == 0
            ),
            what=f"{count} orders delivered and nothing left unconfirmed at the peer",
        )
        keys = [k for k, _ in stored]
        assert sorted(keys) == sorted(str(5000 + n) for n in range(count)), "lost or repeated"
    finally:
        hub.stop()


@pytest.mark.parametrize("point", ["poll.before_commit", "poll.before_confirm"])
def test_a_crash_loses_and_repeats_nothing_from_a_queue(tmp_path: Path, point: str) -> None:
    queue = _Queue()
    try:
        queue.put(N)
        config = _with_source(tmp_path, queue.source())
        store_url = f"sqlite:///{tmp_path / 'hub.db'}"
        _crash_then_recover(tmp_path, config, point, store_url, N, queue.left)
    finally:
        queue.delete()


@pytest.mark.parametrize("point", ["poll.before_commit", "poll.before_confirm"])
def test_a_crash_loses_and_repeats_nothing_from_a_paginated_api(tmp_path: Path, point: str) -> None:
    with running_shop() as shop:
        for n in range(N):
            shop.add(_order(n))
        source = {"type": "http-pull", "options": _woo_options(shop)}
        config = _with_source(tmp_path, source)
        store_url = f"sqlite:///{tmp_path / 'hub.db'}"
        _crash_then_recover(tmp_path, config, point, store_url, N, None)


def _sftp_source(server: SftpServer) -> dict[str, Any]:
    return {
        "type": "sftp",
        "options": server.options(path="/inbox", pattern="*.json", settle_seconds=0),
    }


@pytest.mark.parametrize("point", ["poll.before_commit", "poll.before_confirm"])
def test_a_crash_loses_and_repeats_nothing_from_sftp(tmp_path: Path, point: str) -> None:
    with running_sftp(tmp_path) as server:
        inbox = server.root / "inbox"
        _drop(inbox, N)
        config = _with_source(tmp_path, _sftp_source(server))
        store_url = f"sqlite:///{tmp_path / 'hub.db'}"
        _crash_then_recover(tmp_path, config, point, store_url, N, lambda: len(_left(inbox)))


def test_two_processes_on_postgresql_store_each_sftp_file_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_sftp(tmp_path) as server:
        inbox = server.root / "inbox"
        _drop(inbox, N)
        config = _with_source(tmp_path, _sftp_source(server), store_url=postgres_url)
        first = HubProcess(config, tmp_path / "first.log").start()
        second = HubProcess(config, tmp_path / "second.log").start()
        try:
            _drop(inbox, N, start=N)
            stored = _wait_all_delivered(postgres_url, inbox, 2 * N)
            keys = [k for k, _ in stored]
            assert sorted(keys) == sorted(str(5000 + n) for n in range(2 * N))
            assert len(list((inbox / "done").iterdir())) == 2 * N
        finally:
            first.stop()
            second.stop()


def _woo_options(shop: Shop) -> dict[str, Any]:
    return {
        "url": f"{shop.url}/wp-json/wc/v3/orders",
        "params": {"orderby": "modified", "order": "asc"},
        "username": KEY,
        "password": SECRET,
        "since_param": "modified_after",
        "watermark_path": "date_modified_gmt",
        "page_size": 5,
    }


def test_two_processes_on_postgresql_store_each_api_record_once(
    tmp_path: Path, postgres_url: str
) -> None:
    with running_shop() as shop:
        for n in range(N):
            shop.add(_order(n))
        source = {"type": "http-pull", "options": _woo_options(shop)}
        config = _with_source(tmp_path, source, store_url=postgres_url)
        first = HubProcess(config, tmp_path / "first.log").start()
        second = HubProcess(config, tmp_path / "second.log").start()
        try:
            for n in range(N, 2 * N):
                shop.add(_order(n))

            def observe() -> list[tuple[str, str]]:
                return sorted(_stored(postgres_url))

            stored = wait_for_progress(
                observe,
                lambda seen: len(seen) >= 2 * N and all(s == "delivered" for _, s in seen),
                what=f"{2 * N} API orders delivered",
            )
            keys = [k for k, _ in stored]
            assert sorted(keys) == sorted(str(5000 + n) for n in range(2 * N))
        finally:
            first.stop()
            second.stop()


def test_a_failing_source_is_reported_retried_and_recovers(tmp_path: Path) -> None:
    config = write_config(tmp_path, _polled_config(tmp_path, max_backoff_seconds=1))
    store_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = HubProcess(config, tmp_path / "hub.log").start()  # the inbox does not exist yet
    try:

        def source() -> dict[str, Any]:
            body: dict[str, Any] = httpx.get(f"{hub.url}/sources", timeout=10).json()
            return body["sources"][0]

        failing = wait_for_progress(
            source,
            lambda s: s["failures"] >= 2,
            what="the missing folder to be reported",
        )
        assert "does not exist" in failing["last_error"]["message"]
        assert failing["last_error"]["hint"]
        assert httpx.get(f"{hub.url}/healthz", timeout=10).status_code == 200
        _drop(tmp_path / "inbox", 3)
        _wait_all_delivered(store_url, tmp_path / "inbox", 3)
        recovered = wait_for_progress(
            source, lambda s: s["failures"] == 0, what="the source to recover"
        )
        assert recovered["last_error"] is None
    finally:
        hub.stop()


def test_two_processes_on_postgresql_store_each_file_once(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path, _polled_config(tmp_path, store_url=postgres_url))
    inbox = tmp_path / "inbox"
    _drop(inbox, N)
    first = HubProcess(config, tmp_path / "first.log").start()
    second = HubProcess(config, tmp_path / "second.log").start()
    try:
        _drop(inbox, N, start=N)
        stored = _wait_all_delivered(postgres_url, inbox, 2 * N)
        keys = [k for k, _ in stored]
        assert sorted(keys) == sorted(str(5000 + n) for n in range(2 * N)), "lost or repeated"
        holders = {
            s["poller"] for s in httpx.get(f"{first.url}/sources", timeout=10).json()["sources"]
        }
        assert len(holders) == 1
        standby = [
            line
            for hub in (first, second)
            for line in httpx.get(f"{hub.url}/metrics", timeout=10).text.splitlines()
            if line.startswith("hub_source_polls_total") and 'outcome="standby"' in line
        ]
        assert standby, "neither process ever stood by: both polled the route"
    finally:
        first.stop()
        second.stop()
