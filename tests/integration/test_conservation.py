"""Nothing accepted is lost: thousands of messages, worker processes killed with SIGKILL mid-run.

Afterwards received = delivered + dead-lettered, every message reached the partner at
least once, and every copy it got carries that message's own idempotency key.
HUB_CONSERVATION_N sets the count: 2,000 by default (`make test`), 10,000 in `make soak`.
The tests wait as long as deliveries keep coming, and fail only when nothing has moved for
tests/waiting.py's stall limit: a loaded machine makes them slower, never red.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import demo_config, write_config
from tests.peers import HttpPeer, http_peer
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

pytestmark = [pytest.mark.slow, pytest.mark.soak]

N = int(os.environ.get("HUB_CONSERVATION_N", "2000"))
FINAL = {MessageStatus.DELIVERED, MessageStatus.FAILED}


def config(tmp_path: Path, store_url: str, peer: HttpPeer) -> dict[str, Any]:
    settings = demo_config(
        tmp_path,
        store_url=store_url,
        sinks=[{"name": "partner", "type": "http", "options": {"url": peer.url}}],
        worker={"threads": 2, "batch_size": 50, "poll_interval_seconds": 0.2, "lease_seconds": 3},
    )
    route = settings["routes"]["shop-orders"]
    route.pop("mapping")  # keep the test about delivery, not translation
    route["input"] = {"format": "json"}
    route["output"] = {"format": "json"}
    settings["mappings"] = {"reload_seconds": 0}
    return settings


def ingest_all(path: Path) -> list[str]:
    hub = Hub.from_file(path)  # ingest in this process; its worker never starts
    try:
        ids = []
        for n in range(N):
            body = b'{"order": %d}' % n
            result = hub.ingestor.ingest(InboundRequest(route="shop-orders", body=body))
            assert result.message_id is not None
            ids.append(result.message_id)
        return ids
    finally:
        hub.close()


def wait_until_delivered(peer: HttpPeer, count: int) -> None:
    """Until the partner has had ``count`` requests (first copies or repeats)."""
    wait_for_progress(
        lambda: len(peer.received),
        lambda received: received >= count,
        what=f"{count} deliveries at the partner",
        interval=0.1,
    )


def wait_until_final(path: Path, peer: HttpPeer) -> dict[MessageStatus, int]:
    """Until every message is delivered or dead; a new status count or a new request at
    the partner is progress."""
    hub = Hub.from_file(path)
    try:
        counts, _ = wait_for_progress(
            lambda: (hub.store.count_by_status(), len(peer.received)),
            lambda seen: set(seen[0]) <= FINAL,
            what="every message delivered or dead-lettered",
            interval=0.5,
        )
        return counts
    finally:
        hub.close()


def check_conservation(ids: list[str], counts: dict[MessageStatus, int], peer: HttpPeer) -> None:
    assert sum(counts.values()) == N, counts
    assert set(counts) <= FINAL, f"messages left unfinished: {counts}"
    assert counts.get(MessageStatus.DELIVERED, 0) + counts.get(MessageStatus.FAILED, 0) == N
    copies = Counter()
    for request in peer.received:
        message_id = request.headers["x-hub-message-id"]
        assert request.headers["idempotency-key"] == f"{message_id}:partner"
        copies[message_id] += 1
    delivered = set(copies)
    assert delivered == set(ids), f"{len(set(ids) - delivered)} never reached the partner"


def test_two_workers_on_postgresql_one_killed(tmp_path: Path, postgres_url: str) -> None:
    with http_peer() as peer:
        path = write_config(tmp_path, config(tmp_path, postgres_url, peer))
        ids = ingest_all(path)
        first = HubProcess(path, tmp_path / "w1.log").start(command="worker")
        second = HubProcess(path, tmp_path / "w2.log").start(command="worker")
        try:
            wait_until_delivered(peer, N // 5)
            first.kill()  # SIGKILL mid-run: its leased messages are taken over when leases end
            counts = wait_until_final(path, peer)
        finally:
            first.stop()
            second.stop()
        check_conservation(ids, counts, peer)


def test_one_process_on_sqlite_killed_and_restarted(tmp_path: Path) -> None:
    with http_peer() as peer:
        path = write_config(tmp_path, config(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}", peer))
        ids = ingest_all(path)
        first = HubProcess(path, tmp_path / "w1.log").start(command="worker")
        try:
            wait_until_delivered(peer, N // 5)
            first.kill()
        finally:
            first.stop()
        second = HubProcess(path, tmp_path / "w2.log").start(command="worker")
        try:
            counts = wait_until_final(path, peer)
        finally:
            second.stop()
        check_conservation(ids, counts, peer)
