"""A batch cut short (the worker stopping, or its thread given up on) decides only the
messages every pending sink was tried for: none is recorded as delivered without its
delivery, and what no sink was tried for can be given back unbegun."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import Claimed
from tests.configs import write_config


def test_a_batch_stopped_before_its_deliveries_decides_nothing(tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    config = {
        "store": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
        "routes": {
            "r": {"sinks": [{"name": "out", "type": "file", "options": {"directory": str(outbox)}}]}
        },
    }
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        ids = [
            hub.ingestor.ingest(InboundRequest(route="r", body=b'{"n": %d}' % n)).message_id
            for n in range(3)
        ]
        worker = hub.worker
        processor = worker._processor(None, "w")
        batch = hub.store.claim("w", lease_seconds=60, limit=10)
        steps: list[str] = []

        @contextmanager
        def guard(claimed: Claimed) -> Iterator[bool]:
            steps.append(claimed.message.id)
            yield len(steps) <= len(batch)  # each translation runs; the delivery does not

        untouched: list[Claimed] = []
        outcomes = processor.run_batch(batch, guard, untouched)
        assert outcomes == []  # nothing decided: in particular nothing "delivered"
        assert [c.message.id for c in untouched] == ids
        assert not outbox.exists() or not list(outbox.iterdir())
        assert hub.store.release("w", ids) == 3
        for message_id in ids:
            record = hub.store.get(message_id)
            assert (record.status, record.attempts) == (MessageStatus.RECEIVED, 0)
            assert record.events[-1].kind == "released"
        again = hub.store.claim("w2", lease_seconds=60, limit=10)
        assert [c.message.id for c in again] == ids  # a batch again: none of them is suspect
        second = worker._processor(None, "w2")
        second.record(second.run_batch(again))
        assert {hub.store.get(m).status for m in ids} == {MessageStatus.DELIVERED}
    finally:
        hub.close()
