"""Traces over OTLP/HTTP from two processes: `hub run` ingests, `hub worker` delivers.

A real OTLP/HTTP receiver on loopback (an HTTP server decoding the protobuf requests the
exporter sends to /v1/traces) collects what both processes export. The message's trace id,
as its history shows it, names one trace that holds the API's ingest span and the worker's
turn, stages and delivery attempt, the ingest span being the parent of the turn.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    pid: int
    service: str


class OtlpReceiver:
    """Spans received on ``url`` + /v1/traces, with the pid of the process that sent each."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.add(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value for a in resource_spans.resource.attributes}
                pid = resource["process.pid"].int_value
                service = resource["service.name"].string_value
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append(
                            ReceivedSpan(
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                pid=pid,
                                service=service,
                            )
                        )

    def received(self) -> list[ReceivedSpan]:
        with self.lock:
            return list(self.spans)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


def test_the_api_and_the_worker_export_one_trace_per_message(
    tmp_path: Path, postgres_url: str, receiver: OtlpReceiver
) -> None:
    tracing = {"enabled": True, "service_name": "switchboard", "otlp_endpoint": receiver.url}
    api_config = demo_config(tmp_path, store_url=postgres_url, worker={"enabled": False})
    worker_config = demo_config(tmp_path, store_url=postgres_url)
    api_config["tracing"] = worker_config["tracing"] = tracing
    env = {"OTEL_BSP_SCHEDULE_DELAY": "200"}  # export every 0.2 s rather than 5 s
    api = HubProcess(write_config(tmp_path, api_config, "api.yaml"), tmp_path / "api.log", env)
    worker = HubProcess(
        write_config(tmp_path, worker_config, "worker.yaml"), tmp_path / "worker.log", env
    )
    api.start()
    worker.start(command="worker")
    try:
        answer = httpx.post(
            f"{api.url}/ingest/shop-orders",
            content=EXAMPLE_ORDER.read_bytes(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        shown = api.wait_status(answer.json()["id"], "delivered")
        trace_id = shown["trace_id"]
        assert isinstance(trace_id, str)
        assert len(trace_id) == 32

        def of_trace() -> list[ReceivedSpan]:
            return [s for s in receiver.received() if s.trace_id == trace_id]

        wanted = {"ingest shop-orders", "process shop-orders", "deliver erp", "encode"}
        spans = wait_for_progress(
            of_trace,
            lambda seen: wanted <= {s.name for s in seen},
            what="the message's spans to reach the OTLP receiver",
        )
        assert api.proc is not None
        assert worker.proc is not None
        (ingest,) = [s for s in spans if s.name == "ingest shop-orders"]
        (turn,) = [s for s in spans if s.name == "process shop-orders"]
        assert ingest.pid == api.proc.pid  # exported by the API process
        assert ingest.parent_span_id == ""  # the sender sent no traceparent: a new trace
        assert turn.pid == worker.proc.pid  # by the worker process, in the same trace
        assert turn.parent_span_id == ingest.span_id
        children = {s.name for s in spans if s.parent_span_id == turn.span_id}
        assert children == {"decode", "validate", "map", "encode", "deliver erp"}
        assert {s.service for s in spans} == {"switchboard"}
    finally:
        worker.stop()
        api.stop()
