"""A mapping with `split` turns one message into several, each delivered on its own."""

from __future__ import annotations

import json
from pathlib import Path

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config
from tests.peers import Reply, http_peer

MAPPING = """\
name: batch-to-orders
source: {format: json}
target: {format: json}
split: orders
fields:
  order: number
  batch: $root.batch
  lines: "count(lines)"
"""


def test_each_split_output_is_a_message_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "split.yaml").write_text(MAPPING, encoding="utf-8")
    with http_peer() as peer:
        peer.replies = [Reply(200), Reply(503), Reply(200)]  # the second part needs a retry
        config = {
            "store": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
            "routes": {
                "batches": {
                    "correlation": "batch",
                    "mapping": "split.yaml",
                    "sinks": [
                        {"name": "outbox", "type": "file", "options": {"directory": "out"}},
                        {"name": "partner", "type": "http", "options": {"url": peer.url}},
                    ],
                    "retry": {"initial_delay_seconds": 0, "max_delay_seconds": 0, "jitter": 0},
                }
            },
        }
        hub = Hub.from_file(write_config(tmp_path, config))
        try:
            batch = {
                "batch": "B-7",
                "orders": [{"number": n, "lines": [1] * int(n)} for n in ("1", "2", "3")],
            }
            result = hub.ingestor.ingest(
                InboundRequest(route="batches", body=json.dumps(batch).encode())
            )
            assert result.message_id is not None
            while hub.worker.run_once():
                pass
            parent = hub.store.get(result.message_id)
            assert parent.status is MessageStatus.SPLIT
            assert parent.deliveries == ()
            split = parent.events[-1]
            assert split.kind == "split"
            assert split.detail == "split by batch-to-orders into 3 message(s)"
            assert split.data is not None
            children = [hub.store.get(i) for i in split.data["ids"]]
            assert [c.status for c in children] == [MessageStatus.DELIVERED] * 3
            assert [c.message.correlation_key for c in children] == ["B-7#1", "B-7#2", "B-7#3"]
            assert {c.message.source for c in children} == {f"split:{result.message_id}"}
            assert [json.loads(c.message.body) for c in children] == [
                {"order": n, "batch": "B-7", "lines": int(n)} for n in ("1", "2", "3")
            ]
            assert all(c.mapping_name == "batch-to-orders" for c in children)
            assert [c.attempts for c in children] == [1, 2, 1]
            assert len(list((tmp_path / "out").iterdir())) == 3
            keys = {r.headers["idempotency-key"] for r in peer.received}
            assert keys == {f"{c.message.id}:partner" for c in children}
        finally:
            hub.close()
