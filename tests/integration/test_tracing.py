"""Traces of messages, recorded with the OpenTelemetry SDK's in-memory exporter.

One message, its first delivery attempt refused by a real local HTTP peer (503) and the
second accepted: one trace holds its ingest, both turns, the stages of the first (the second
reuses the stored output) and both attempts, each under the span that caused it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from hub.config import load_config
from hub.errors import ConfigError
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.tracing import TRACE_HEADER
from hub.tracing_otel import OtelTracing
from hub.views import message_view
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import Reply, http_peer

SENDER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SENDER_PARENT = f"00-{SENDER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Hub, InMemorySpanExporter, list[Reply]]]:
    with http_peer() as peer:
        peer.replies = [Reply(503), Reply(200)]
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        retry = {"max_attempts": 5, "initial_delay_seconds": 0, "max_delay_seconds": 0}
        config = demo_config(tmp_path, sinks=sinks, retry=retry)
        hub = Hub.from_file(write_config(tmp_path, config))
        exporter = InMemorySpanExporter()
        tracing = OtelTracing.exporting_to("switchboard-test", exporter)
        hub.tracing = hub.ingestor.tracing = hub.worker.tracing = tracing
        try:
            yield hub, exporter, peer.replies
        finally:
            hub.close()


def ingest_and_deliver(hub: Hub, headers: dict[str, str]) -> str:
    result = hub.ingestor.ingest(
        InboundRequest(
            route="shop-orders",
            body=EXAMPLE_ORDER.read_bytes(),
            headers={"content-type": "application/json", **headers},
        )
    )
    assert result.message_id is not None
    while hub.worker.run_once():
        pass
    assert hub.store.get(result.message_id).status is MessageStatus.DELIVERED
    return result.message_id


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start_time or 0)


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_one_trace_holds_ingest_each_turn_each_stage_and_each_attempt(
    traced: tuple[Hub, InMemorySpanExporter, list[Reply]],
) -> None:
    hub, exporter, _ = traced
    message_id = ingest_and_deliver(hub, {"traceparent": SENDER_PARENT})
    spans = exporter.get_finished_spans()
    assert {format(s.context.trace_id, "032x") for s in spans} == {SENDER_TRACE}

    (ingest,) = by_name(spans, "ingest shop-orders")
    assert parent_of(ingest) == 0x00F067AA0BA902B7  # the sender's span
    assert ingest.attributes is not None
    assert ingest.attributes["hub.message_id"] == message_id

    first, second = by_name(spans, "process shop-orders")
    for number, turn in enumerate((first, second), 1):
        assert parent_of(turn) == ingest.context.span_id
        assert turn.attributes is not None
        assert turn.attributes["hub.attempt"] == number
        assert turn.attributes["hub.message_id"] == message_id
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes["hub.status"] == "retrying"
    assert second.attributes["hub.status"] == "delivered"

    stages = [s for s in spans if parent_of(s) == first.context.span_id and "deliver" not in s.name]
    assert [s.name for s in sorted(stages, key=lambda s: s.start_time or 0)] == [
        "decode",
        "validate",
        "map",
        "validate",
        "encode",
    ]
    for stage in stages:
        assert first.start_time is not None
        assert first.end_time is not None
        assert stage.start_time is not None
        assert stage.end_time is not None
        assert first.start_time <= stage.start_time <= stage.end_time <= first.end_time
    # the second turn delivers the stored output: no stage runs again
    assert [s.name for s in spans if parent_of(s) == second.context.span_id] == ["deliver partner"]

    refused, accepted = by_name(spans, "deliver partner")
    assert parent_of(refused) == first.context.span_id
    assert parent_of(accepted) == second.context.span_id
    assert refused.attributes is not None
    assert accepted.attributes is not None
    assert (refused.attributes["hub.outcome"], refused.attributes["hub.attempt"]) == ("retry", 1)
    assert refused.status.status_code is StatusCode.ERROR
    assert (accepted.attributes["hub.outcome"], accepted.attributes["hub.attempt"]) == (
        "delivered",
        2,
    )
    assert accepted.status.status_code is StatusCode.UNSET


def test_the_trace_id_is_stored_with_the_message_and_shown_in_its_history(
    traced: tuple[Hub, InMemorySpanExporter, list[Reply]],
) -> None:
    hub, exporter, _ = traced
    message_id = ingest_and_deliver(hub, {TRACE_HEADER: f"00-{'f' * 32}-{'1' * 16}-01"})
    record = hub.store.get(message_id)
    (ingest,) = by_name(exporter.get_finished_spans(), "ingest shop-orders")
    trace_id = format(ingest.context.trace_id, "032x")
    assert trace_id != "f" * 32  # a sender cannot choose the stored trace
    assert record.message.headers[TRACE_HEADER].split("-")[1] == trace_id
    shown = message_view(record).model_dump(mode="json")
    assert shown["trace_id"] == trace_id


def test_a_failed_translation_ends_its_turn_span_with_the_stage_and_the_error(
    traced: tuple[Hub, InMemorySpanExporter, list[Reply]],
) -> None:
    hub, exporter, _ = traced
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    del order["line_items"]  # the input schema requires them
    result = hub.ingestor.ingest(
        InboundRequest(route="shop-orders", body=json.dumps(order).encode())
    )
    assert result.message_id is not None
    while hub.worker.run_once():
        pass
    assert hub.store.get(result.message_id).status is MessageStatus.FAILED
    (turn,) = by_name(exporter.get_finished_spans(), "process shop-orders")
    assert turn.attributes is not None
    assert (turn.attributes["hub.status"], turn.attributes["hub.failed_stage"]) == (
        "failed",
        "validate",
    )
    assert turn.status.status_code is StatusCode.ERROR
    assert "line_items" in (turn.status.description or "")


SPLIT_MAPPING = """\
name: batch-to-orders
source: {format: json}
target: {format: json}
split: orders
fields:
  order: number
"""


def test_the_parts_of_a_split_message_stay_in_its_trace(tmp_path: Path) -> None:
    (tmp_path / "split.yaml").write_text(SPLIT_MAPPING, encoding="utf-8")
    config = {
        "store": {"url": f"sqlite:///{tmp_path / 'hub.db'}"},
        "routes": {
            "batches": {
                "mapping": "split.yaml",
                "sinks": [{"name": "outbox", "type": "file", "options": {"directory": "out"}}],
            }
        },
    }
    hub = Hub.from_file(write_config(tmp_path, config))
    exporter = InMemorySpanExporter()
    hub.ingestor.tracing = hub.worker.tracing = OtelTracing.exporting_to("test", exporter)
    try:
        batch = {"orders": [{"number": n} for n in ("1", "2", "3")]}
        result = hub.ingestor.ingest(
            InboundRequest(route="batches", body=json.dumps(batch).encode())
        )
        assert result.message_id is not None
        while hub.worker.run_once():
            pass
        spans = exporter.get_finished_spans()
        (ingest,) = by_name(spans, "ingest batches")
        turns = by_name(spans, "process batches")
        assert len(turns) == 4  # the batch's turn, then one per part
        assert {t.context.trace_id for t in turns} == {ingest.context.trace_id}
        assert {parent_of(t) for t in turns} == {ingest.context.span_id}
    finally:
        hub.close()


def test_a_malformed_traceparent_from_a_sender_starts_a_new_trace(
    traced: tuple[Hub, InMemorySpanExporter, list[Reply]],
) -> None:
    hub, exporter, _ = traced
    message_id = ingest_and_deliver(hub, {"traceparent": "00-not-a-trace-01"})
    (ingest,) = by_name(exporter.get_finished_spans(), "ingest shop-orders")
    assert ingest.parent is None
    shown = message_view(hub.store.get(message_id))
    assert shown.trace_id == format(ingest.context.trace_id, "032x")


def test_without_tracing_nothing_is_stored_and_no_trace_is_shown(tmp_path: Path) -> None:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    try:
        result = hub.ingestor.ingest(
            InboundRequest(
                route="shop-orders",
                body=EXAMPLE_ORDER.read_bytes(),
                headers={"traceparent": SENDER_PARENT},
            )
        )
        assert result.message_id is not None
        record = hub.store.get(result.message_id)
        assert TRACE_HEADER not in record.message.headers
        assert message_view(record).trace_id is None
    finally:
        hub.close()


def test_tracing_on_without_opentelemetry_installed_is_a_located_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = demo_config(tmp_path)
    config["tracing"] = {"enabled": True}
    path = write_config(tmp_path, config)
    monkeypatch.setitem(sys.modules, "hub.tracing_otel", None)  # as if not installed
    with pytest.raises(ConfigError) as caught:
        Hub(load_config(path))
    assert "tracing.enabled needs OpenTelemetry" in caught.value.message
    assert caught.value.where is not None
    assert caught.value.where.startswith(f"{path}:")
    assert caught.value.hint is not None
    assert "switchboard-hub[otel]" in caught.value.hint
