"""Traces of messages: one trace per message, from ingest through each stage and attempt.

Off by default (``tracing.enabled``): then :class:`NoTracing` does nothing and nothing of
OpenTelemetry is imported. On, :mod:`hub.tracing_otel` records spans with the OpenTelemetry
SDK (the ``otel`` extra) and exports them over OTLP/HTTP.

A message is ingested in one process and processed in another (``hub worker``), maybe after a
restart: the ingest span's W3C ``traceparent`` is stored with the message, in its headers
under :data:`TRACE_HEADER`, and every turn continues that trace. The trace id is shown in the
message's history (``GET /messages/{id}``), so a person can look the trace up.

    ingest <route>             (hub run: one per message, the sender's traceparent its parent)
    └── process <route>        (a worker turn; one per attempt at the message)
        ├── decode, validate, map, validate, encode   (from the turn's stage timings)
        └── deliver <sink>     (one per delivery attempt, its outcome)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Protocol

from hub.errors import ConfigError
from hub.message import Event, Message

if TYPE_CHECKING:
    from hub.config.models import TracingConfig

__all__ = [
    "TRACE_HEADER",
    "AttemptTrace",
    "IngestTrace",
    "NoTracing",
    "Tracing",
    "TurnTrace",
    "trace_id",
    "tracing_for",
]

#: Where a message keeps the traceparent of its ingest span (a header a sender cannot set:
#: ingest overwrites it).
TRACE_HEADER = "x-hub-traceparent"


def trace_id(headers: Mapping[str, str]) -> str | None:
    """The trace id (32 hex digits) of a message's stored traceparent, if it has one."""
    parts = headers.get(TRACE_HEADER, "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return None


class IngestTrace(Protocol):
    """The span of one message's ingest; its traceparent goes into the stored headers."""

    @property
    def traceparent(self) -> str | None: ...

    def stored(self, message_id: str, *, duplicate: bool) -> None: ...


class AttemptTrace(Protocol):
    """The span of one call to a sink."""

    def outcome(self, outcome: str, detail: str) -> None: ...


class TurnTrace(Protocol):
    """The span of one worker turn on one message."""

    def stages(self, events: Sequence[Event]) -> None:
        """Child spans for the translation's stages, from their events' timings."""
        ...

    def attempt(self, sink: str, number: int) -> AbstractContextManager[AttemptTrace]: ...

    def finished(self, status: str, error: str | None = None, stage: str | None = None) -> None:
        """The turn's end: the status it left, and why it failed if it did."""
        ...


class Tracing(Protocol):
    """What ingest and the worker ask of tracing."""

    def ingest(
        self, route: str, parent: str | None, count: int, started_ns: int | None = None
    ) -> AbstractContextManager[Sequence[IngestTrace]]:
        """``count`` ingest spans (one per message of the request), child spans of the
        sender's ``traceparent`` header if it sent one, begun at ``started_ns``
        (``time.time_ns()``, else now); ended when the block ends."""
        ...

    def turn(self, message: Message, attempt: int) -> AbstractContextManager[TurnTrace]:
        """The span of a turn, in the message's trace."""
        ...

    def close(self) -> None:
        """Send what is still buffered; called when the hub stops."""
        ...


class _NoSpan:
    traceparent: str | None = None

    def stored(self, message_id: str, *, duplicate: bool) -> None:
        pass

    def outcome(self, outcome: str, detail: str) -> None:
        pass

    def stages(self, events: Sequence[Event]) -> None:
        pass

    def attempt(self, sink: str, number: int) -> AbstractContextManager[AttemptTrace]:
        return nullcontext(self)

    def finished(self, status: str, error: str | None = None, stage: str | None = None) -> None:
        pass


_NO_SPAN = _NoSpan()


class NoTracing:
    """Tracing off: every call is a no-op and nothing is stored with the message."""

    @contextmanager
    def ingest(
        self, route: str, parent: str | None, count: int, started_ns: int | None = None
    ) -> Iterator[Sequence[IngestTrace]]:
        yield [_NO_SPAN] * count

    def turn(self, message: Message, attempt: int) -> AbstractContextManager[TurnTrace]:
        return nullcontext(_NO_SPAN)

    def close(self) -> None:
        pass


def tracing_for(config: TracingConfig, *, where: str | None = None) -> Tracing:
    """The tracing the ``tracing`` section asks for: none, or OTLP with the SDK."""
    if not config.enabled:
        return NoTracing()
    try:
        from hub.tracing_otel import otlp_tracing
    except ImportError as exc:
        raise ConfigError(
            f"tracing.enabled needs OpenTelemetry, which is not installed ({exc.name})",
            where=where,
            hint="pip install 'switchboard-hub[otel]', or set tracing.enabled: false",
        ) from None
    return otlp_tracing(config.service_name, config.otlp_endpoint)
