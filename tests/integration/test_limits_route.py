"""Decoding limits on a route: a 4xx at ingest, a dead letter with the same text in the worker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hub.errors import InboundRejected
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config

DOCUMENT = b"<order><line>1</line><line>2</line><line>3</line></order>"


def _config(folder: Path, *, max_nodes: int, worker: bool) -> dict[str, Any]:
    return {
        "version": 1,
        "store": {"url": f"sqlite:///{folder / 'hub.db'}"},
        "worker": {"enabled": worker, "poll_interval_seconds": 0.05, "lease_seconds": 30},
        "limits": {"max_depth": 50},
        "routes": {
            "xml-orders": {
                "input": {"format": "xml", "limits": {"max_nodes": max_nodes}},
                "output": {"format": "json"},
                "sinks": [
                    {"name": "out", "type": "file", "options": {"directory": str(folder / "out")}}
                ],
            }
        },
    }


def _ingest(hub: Hub, body: bytes) -> str | None:
    request = InboundRequest(
        route="xml-orders", body=body, headers={"content-type": "application/xml"}
    )
    return hub.ingestor.ingest(request).message_id


def test_ingest_refuses_with_the_limit_and_counts_it(tmp_path: Path) -> None:
    hub = Hub.from_file(write_config(tmp_path, _config(tmp_path, max_nodes=3, worker=False)))
    try:
        assert hub.routes["xml-orders"].translator.input_codec.limits.max_depth == 50  # type: ignore[attr-defined]
        with pytest.raises(InboundRejected) as caught:
            _ingest(hub, DOCUMENT)
        assert (caught.value.status, caught.value.reason) == (413, "limit")
        assert "max_nodes" in caught.value.message
        assert caught.value.where == "line 1, /order/line"
        assert caught.value.hint is not None
        assert "input.limits.max_nodes" in caught.value.hint
        sample = hub.metrics.rejected.labels("xml-orders", "limit")._value.get()
        assert sample == 1
    finally:
        hub.close()


def test_a_stored_message_over_a_lowered_limit_becomes_a_dead_letter(tmp_path: Path) -> None:
    accepting = Hub.from_file(write_config(tmp_path, _config(tmp_path, max_nodes=10, worker=False)))
    try:
        message_id = _ingest(accepting, DOCUMENT)
    finally:
        accepting.close()
    assert message_id is not None
    # The limit is lowered (a config change) before the worker gets to the message.
    strict = Hub.from_file(write_config(tmp_path, _config(tmp_path, max_nodes=3, worker=True)))
    strict.start()
    try:
        deadline = time.monotonic() + 30
        message = strict.store.get(message_id)
        while message.status != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
            message = strict.store.get(message_id)
        assert message.status == "failed"
        assert message.error is not None
        assert (message.error.stage, message.error.type) == ("decode", "limit_exceeded")
        assert "max_nodes" in message.error.message
        assert "line 1, /order/line" in message.error.message
    finally:
        strict.close()
