"""kill -9 after a 202 loses nothing: on restart every accepted message is delivered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import HttpPeer, Reply, http_peer
from tests.processes import HubProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    with http_peer() as peer:
        yield peer


def ingest(hub: HubProcess, number: str = "727") -> str:
    body = EXAMPLE_ORDER.read_text(encoding="utf-8").replace(
        '"number": "727"', f'"number": "{number}"'
    )
    response = httpx.post(
        f"{hub.url}/ingest/shop-orders",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def test_kill_right_after_202_then_restart_delivers(tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config(tmp_path))
    first = HubProcess(config, tmp_path / "hub.log").start()
    try:
        message_id = ingest(first)
        first.kill()
    finally:
        first.stop()
    second = HubProcess(config, tmp_path / "hub.log").start()
    try:
        second.wait_status(message_id, "delivered")
        assert len(list((tmp_path / "outbox").iterdir())) == 1
    finally:
        second.stop()


def test_messages_accepted_but_not_yet_processed_survive_a_kill(tmp_path: Path) -> None:
    """The first process never processes anything, so delivery must come from the restart."""
    stopped = demo_config(tmp_path, worker={"enabled": False})
    first = HubProcess(write_config(tmp_path, stopped, "ingest-only.yaml"), tmp_path / "a.log")
    first.start()
    try:
        ids = [ingest(first, number=str(1000 + i)) for i in range(20)]
        first.kill()
    finally:
        first.stop()
    assert not (tmp_path / "outbox").exists()
    second = HubProcess(write_config(tmp_path, demo_config(tmp_path)), tmp_path / "b.log").start()
    try:
        for message_id in ids:
            second.wait_status(message_id, "delivered")
        names = sorted(p.name.split("-")[0] for p in (tmp_path / "outbox").iterdir())
        assert names == [str(1000 + i) for i in range(20)]
    finally:
        second.stop()


def test_kill_during_a_delivery_then_restart_redelivers_with_the_same_key(
    tmp_path: Path, peer: HttpPeer
) -> None:
    peer.replies = [Reply(200, delay=5)]  # the first delivery hangs until the hub is killed
    sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
    worker = {"threads": 1, "poll_interval_seconds": 0.1, "lease_seconds": 1}
    config = write_config(tmp_path, demo_config(tmp_path, sinks=sinks, worker=worker))
    first = HubProcess(config, tmp_path / "hub.log").start()
    try:
        message_id = ingest(first)
        peer.wait_for(1)  # the delivery is in flight now
        first.kill()
    finally:
        first.stop()
    second = HubProcess(config, tmp_path / "hub.log").start()
    try:
        message = second.wait_status(message_id, "delivered")
        received = peer.wait_for(2)
        assert {r.headers["idempotency-key"] for r in received} == {f"{message_id}:partner"}
        assert received[0].body == received[1].body
        events = message["events"]
        assert isinstance(events, list)
        kinds = [e["kind"] for e in events]
        assert kinds.count("attempt") == 1  # the killed turn recorded no outcome...
        turns = [e for e in events if e["kind"] == "turn"]
        assert [t["data"]["turn"] for t in turns] == [1, 2]  # ...but the history shows it began
        holders = [t["data"]["worker"] for t in turns]
        assert holders[0] != holders[1]  # the second turn is the restarted process's
        assert all(t["data"]["sinks"] == ["partner"] for t in turns)
        in_order = [kind for kind in kinds if kind in ("turn", "recovered")]
        assert in_order == ["turn", "recovered", "turn"]  # begun, freed at restart, redone
        assert message["attempts"] == 2
    finally:
        second.stop()
