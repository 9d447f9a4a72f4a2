"""Messages with the same ordering key are delivered in ingest order; others do not wait."""

from __future__ import annotations

import json
import time
from pathlib import Path

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config
from tests.peers import Reply, http_peer


def test_a_retrying_message_holds_back_later_ones_with_its_key(
    tmp_path: Path, store_url: str
) -> None:
    with http_peer() as peer:
        peer.replies = [Reply(503)]  # the first delivery (order 1, update A) fails once
        config = {
            "store": {"url": store_url},
            "routes": {
                "order-updates": {
                    "ordering": "order",
                    "sinks": [{"name": "erp", "type": "http", "options": {"url": peer.url}}],
                    "retry": {"initial_delay_seconds": 0.3, "max_delay_seconds": 0.3, "jitter": 0},
                }
            },
        }
        hub = Hub.from_file(write_config(tmp_path, config))
        try:
            ids = {}
            for name, order in (("A", 1), ("B", 1), ("C", 2)):
                body = json.dumps({"order": order, "update": name}).encode()
                ids[name] = hub.ingestor.ingest(
                    InboundRequest(route="order-updates", body=body)
                ).message_id
            assert hub.worker.run_once() == 2  # A and C; B waits for A
            assert hub.worker.run_once() == 0  # A is retrying: B still waits
            assert hub.store.get(ids["B"]).status is MessageStatus.RECEIVED
            assert hub.store.get(ids["C"]).status is MessageStatus.DELIVERED
            time.sleep(0.4)
            assert hub.worker.run_once() == 1  # A, due again, is delivered
            assert hub.worker.run_once() == 1  # now B
            sent = [json.loads(r.body)["update"] for r in peer.received]
            assert sent == ["A", "C", "A", "B"]
        finally:
            hub.close()
