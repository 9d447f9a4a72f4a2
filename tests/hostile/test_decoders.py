"""Poison documents against a running hub: refused by a decoding limit, the hub unmoved.

The first is issue 9's: one XML element with 200,000 attributes took 211 s to ingest
(lxml's ``attrib.items()`` looks every attribute up by name: quadratic) and froze every
request. Each case asserts the 4xx names the limit, that ``/healthz`` stayed answered
(the fixture checks), that the refusal is counted, and that a normal order is accepted
afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import RunningHub, StartHub

pytestmark = pytest.mark.slow


def _config(folder: Path) -> dict[str, Any]:
    config = demo_config(folder)
    outbox = {"name": "outbox", "type": "file", "options": {"directory": str(folder / "out")}}
    config["routes"]["xml-orders"] = {
        "input": {"format": "xml"},
        "output": {"format": "json"},
        "sinks": [outbox],
    }
    config["routes"]["edi-orders"] = {
        "input": {
            "format": "edifact",
            "options": {"validate": False},
            "limits": {"max_segments": 1000},  # this route's own limit
        },
        "output": {"format": "json"},
        "sinks": [outbox],
    }
    return config


def _refused(hub: RunningHub, route: str, body: bytes, limit: str, status: int) -> None:
    answer = hub.post(f"/ingest/{route}", body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert limit in error["message"], error
    assert f"limits.{limit}" in error["hint"]
    metrics = hub.get("/metrics").text
    assert f'hub_ingest_rejected_total{{reason="limit",route="{route}"}} 1.0' in metrics


def _a_normal_order_is_accepted(hub: RunningHub) -> None:
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    answer = httpx.post(f"{hub.url}/ingest/shop-orders", json=order, timeout=60)
    assert answer.status_code == 202, answer.text
    message = hub.process.wait_status(answer.json()["id"], "delivered")
    assert message["status"] == "delivered"


def test_an_element_with_200000_attributes_is_refused(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    hub = hostile_hub(_config(tmp_path / "hub"))
    attributes = b" ".join(b'attribute%06d="v"' % n for n in range(200_000))
    body = b'<?xml version="1.0"?>\n<order ' + attributes + b"/>\n"
    assert len(body) > 3_000_000
    _refused(hub, "xml-orders", body, "max_attributes", 400)
    assert 'hub_messages_received_total{route="xml-orders"}' not in hub.get("/metrics").text
    _a_normal_order_is_accepted(hub)
    fine = hub.post("/ingest/xml-orders", b'<order number="1"><line sku="A"/></order>')
    assert fine.status_code == 202, fine.text


def test_json_nested_100000_deep_is_refused(hostile_hub: StartHub, tmp_path: Path) -> None:
    hub = hostile_hub(_config(tmp_path / "hub"))
    body = b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    _refused(hub, "shop-orders", body, "max_depth", 400)
    _a_normal_order_is_accepted(hub)


def test_an_interchange_past_the_routes_segment_limit_is_refused(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    hub = hostile_hub(_config(tmp_path / "hub"))
    segments = b"FTX+AAI+++POISON'\n" * 2_000
    body = (
        b"UNA:+.? '\nUNB+UNOC:3+A+B+240101:1200+R1'\nUNH+1+ORDERS:D:96A:UN'\n"
        + segments
        + b"UNT+2002+1'\nUNZ+1+R1'\n"
    )
    _refused(hub, "edi-orders", body, "max_segments", 413)
    _a_normal_order_is_accepted(hub)
