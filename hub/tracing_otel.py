"""Tracing with the OpenTelemetry SDK (the ``otel`` extra); see :mod:`hub.tracing`.

Each hub has its own ``TracerProvider`` (never the process-wide one), like its own metrics
registry: several hubs in one process, and the tests, stay apart. Spans are exported in
batches over OTLP/HTTP; an unreachable collector costs log lines, never a message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hub.message import Event, Message
from hub.tracing import TRACE_HEADER, AttemptTrace, IngestTrace, TurnTrace

__all__ = ["OtelTracing", "otlp_tracing"]

_PROPAGATOR = TraceContextTextMapPropagator()
#: The translation's events and the stage each one ends.
_STAGES = {"decoded": "decode", "validated": "validate", "mapped": "map", "encoded": "encode"}


def otlp_tracing(service_name: str, endpoint: str | None) -> OtelTracing:
    """Tracing exported to ``endpoint`` (an OTLP/HTTP base URL: spans go to
    ``{endpoint}/v1/traces``); None: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or the exporter's
    default, as the OpenTelemetry SDK reads them."""
    exporter = OTLPSpanExporter(
        endpoint=None if endpoint is None else endpoint.rstrip("/") + "/v1/traces"
    )
    return OtelTracing(service_name, BatchSpanProcessor(exporter))


class OtelTracing:
    """Spans for :mod:`hub.tracing`'s protocol, handed to ``processor`` as they end."""

    def __init__(self, service_name: str, processor: SpanProcessor) -> None:
        resource = Resource.create(
            {
                "service.name": service_name,
                "host.name": socket.gethostname(),
                "process.pid": os.getpid(),
            }
        )
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("hub")

    @classmethod
    def exporting_to(cls, service_name: str, exporter: SpanExporter) -> OtelTracing:
        """Spans handed to ``exporter`` one by one as they end (tests: the in-memory one)."""
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        return cls(service_name, SimpleSpanProcessor(exporter))

    @contextmanager
    def ingest(
        self, route: str, parent: str | None, count: int, started_ns: int | None = None
    ) -> Iterator[Sequence[IngestTrace]]:
        context = _PROPAGATOR.extract({"traceparent": parent}) if parent else None
        spans = [
            _IngestSpan(
                self.tracer.start_span(
                    f"ingest {route}",
                    context=context,
                    kind=SpanKind.SERVER,
                    attributes={"hub.route": route},
                    start_time=started_ns,
                )
            )
            for _ in range(count)
        ]
        try:
            yield spans
        except BaseException as exc:
            for span in spans:
                span.span.record_exception(exc)
                span.span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        finally:
            for span in spans:
                span.span.end()

    @contextmanager
    def turn(self, message: Message, attempt: int) -> Iterator[TurnTrace]:
        stored = message.headers.get(TRACE_HEADER)
        context = _PROPAGATOR.extract({"traceparent": stored}) if stored else None
        span = self.tracer.start_span(
            f"process {message.route}",
            context=context,
            kind=SpanKind.CONSUMER,
            attributes={
                "hub.route": message.route,
                "hub.message_id": message.id,
                "hub.attempt": attempt,
                **(
                    {"hub.correlation_key": message.correlation_key}
                    if message.correlation_key
                    else {}
                ),
            },
        )
        try:
            yield _TurnSpan(self.tracer, span)
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        finally:
            span.end()

    def close(self) -> None:
        self.provider.shutdown()  # flushes the batch


class _IngestSpan:
    def __init__(self, span: Span) -> None:
        self.span = span

    @property
    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(self.span))
        return carrier.get("traceparent")

    def stored(self, message_id: str, *, duplicate: bool) -> None:
        self.span.set_attribute("hub.message_id", message_id)
        self.span.set_attribute("hub.duplicate", duplicate)


class _AttemptSpan:
    def __init__(self, span: Span) -> None:
        self.span = span

    def outcome(self, outcome: str, detail: str) -> None:
        self.span.set_attribute("hub.outcome", outcome)
        if outcome != "delivered":
            self.span.set_status(Status(StatusCode.ERROR, detail))


class _TurnSpan:
    def __init__(self, tracer: trace.Tracer, span: Span) -> None:
        self.tracer = tracer
        self.span = span
        self.context = trace.set_span_in_context(span)

    def stages(self, events: Sequence[Event]) -> None:
        for event in events:
            stage = _STAGES.get(event.kind)
            ms = (event.data or {}).get("ms")
            if stage is None or not isinstance(ms, int | float):
                continue
            started = event.at - timedelta(milliseconds=ms)
            child = self.tracer.start_span(
                stage,
                context=self.context,
                start_time=_ns(started.timestamp()),
                attributes={"hub.detail": event.detail},
            )
            child.end(end_time=_ns(event.at.timestamp()))

    @contextmanager
    def attempt(self, sink: str, number: int) -> Iterator[AttemptTrace]:
        span = self.tracer.start_span(
            f"deliver {sink}",
            context=self.context,
            kind=SpanKind.CLIENT,
            attributes={"hub.sink": sink, "hub.attempt": number},
        )
        try:
            yield _AttemptSpan(span)
        finally:
            span.end()

    def finished(self, status: str, error: str | None = None, stage: str | None = None) -> None:
        self.span.set_attribute("hub.status", status)
        if stage is not None:
            self.span.set_attribute("hub.failed_stage", stage)
        if error is not None:
            self.span.set_status(Status(StatusCode.ERROR, error))


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
