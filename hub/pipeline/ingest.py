"""Receive one request on a route: let the source check it, parse it, store it durably."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hub.credentials import is_credential_header
from hub.errors import DecodeError, InboundRejected, LimitExceeded, RouteNotFound
from hub.keys import fit_key, key_problem
from hub.message import Message
from hub.metrics import HubMetrics
from hub.pipeline.build import CompiledRoute
from hub.pipeline.inbox import EdiInbox, InboxFile
from hub.sdk import Inbound, InboundRequest, PushSource, Reply, Stored
from hub.store import Store
from hub.tracing import TRACE_HEADER, NoTracing, Tracing

__all__ = ["INLINE_BODY_BYTES", "IngestResult", "Ingestor"]

log = logging.getLogger("hub.ingest")

#: The largest body each input format has decoded on the event loop: about a millisecond
#: of decoding on a slow 2-core VM (JSON 0.013 ms per KiB, CSV 0.04, EDIFACT 0.19, XML
#: 0.25-0.45 with its schematron; docs/architecture.md). A larger body, or one of a
#: format not named here (a plugin's), is decoded in a thread, so no request stalls the
#: others for long.
INLINE_BODY_BYTES: dict[str, int] = {
    "json": 64 * 1024,
    "csv": 16 * 1024,
    "edifact": 4 * 1024,
    "x12": 4 * 1024,
    "xml": 4 * 1024,
}


@dataclass(frozen=True)
class IngestResult:
    """``message_id`` is None when the source acknowledged a request with no message."""

    message_id: str | None
    correlation_key: str | None = None
    ids: tuple[str, ...] = ()  # every message stored; several when the route splits
    duplicate: bool = False  # every message was already there (same idempotency key)
    reply: Reply | None = None  # the source's own answer (an AS2 MDN), given after the commit


class Ingestor:
    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        on_stored: Callable[[], None] = lambda: None,
        tracing: Tracing | None = None,
        secret_headers: Sequence[str] = (),
    ) -> None:
        self.secret_headers = tuple(secret_headers)
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.on_stored = on_stored
        self.tracing: Tracing = tracing or NoTracing()

    def _kept_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """What a source kept, less every header that carries a credential (Authorization,
        signatures, ``auth.secret_headers``): those are never stored."""
        return {
            name: value
            for name, value in headers.items()
            if not is_credential_header(name, self.secret_headers)
            and name.lower() != TRACE_HEADER  # a sender's value would put it in another trace
        }

    def route(self, name: str) -> CompiledRoute:
        route = self.routes.get(name)
        if route is None:
            raise RouteNotFound(
                f"no route named {name!r}",
                hint="routes in this config: " + (", ".join(sorted(self.routes)) or "(none)"),
            )
        return route

    def ingest(self, request: InboundRequest) -> IngestResult:
        """Returns once the message(s) are committed: from then on they cannot be lost."""
        route, source = self._push_route(request)
        steps = self._steps(route, source, request)
        try:
            wanted = next(steps)
            while True:
                try:
                    ids = self.store.add(wanted.messages, wanted.sinks)
                except Exception as exc:  # the steps see it as their store call failing
                    wanted = steps.throw(exc)
                else:
                    wanted = steps.send(ids)
        except StopIteration as stop:
            ingested: _Ingested = stop.value
        reply = source.reply(request, ingested.inbound, ingested.stored)
        return replace(ingested.result, reply=reply)

    def inline(self, request: InboundRequest) -> bool:
        """Whether :meth:`ingest_inline` may take ``request`` on the event loop: its body is
        small for its format (:data:`INLINE_BODY_BYTES`), its source's ``accept`` is quick
        and answers with the hub's own reply, and it stores nothing but through
        :meth:`Store.add_later` (not an EDI inbox)."""
        route = self.routes.get(request.route)
        if route is None or route.inbox is not None:
            return False
        if len(request.body) > INLINE_BODY_BYTES.get(route.translator.input_codec.name, -1):
            return False
        source = route.source
        return (
            isinstance(source, PushSource)
            and source.quick_accept
            and type(source).reply is PushSource.reply
        )

    async def ingest_inline(self, request: InboundRequest) -> IngestResult:
        """:meth:`ingest` on the event loop for a request :meth:`inline` allows: the
        decoding runs here (at most about a millisecond: :data:`INLINE_BODY_BYTES`) and the
        commit is awaited, not waited for in a thread, which saves a thread hand-off each
        way per request."""
        route, source = self._push_route(request)
        steps = self._steps(route, source, request)
        try:
            wanted = next(steps)
            while True:
                committed = self.store.add_later(wanted.messages, wanted.sinks)
                try:  # a request cancelled now still commits (as in a thread)
                    ids = await asyncio.wrap_future(committed)
                except Exception as exc:
                    wanted = steps.throw(exc)
                else:
                    wanted = steps.send(ids)
        except StopIteration as stop:
            ingested: _Ingested = stop.value
        return ingested.result

    def _push_route(self, request: InboundRequest) -> tuple[CompiledRoute, PushSource[Any]]:
        route = self.route(request.route)
        if not isinstance(route.source, PushSource):
            raise RouteNotFound(
                f"route {route.name!r} takes no requests: its {route.source_type} source "
                "is polled by the hub's scheduler",
                hint="send to a route whose source is http (GET /sources lists polled routes)",
            )
        return route, route.source

    def _steps(
        self, route: CompiledRoute, source: PushSource[Any], request: InboundRequest
    ) -> Generator[_Add, list[str], _Ingested]:
        """One request's ingest, written once for both drivers: it yields the messages to
        add and is sent the ids the store kept (or thrown the store's error)."""
        started = time.perf_counter()
        began = time.time_ns()  # the ingest spans start here (tracing on)
        try:
            inbound = source.accept(request)
            if inbound is None:
                return _Ingested(IngestResult(None), None)
            given = _header_key(route, request) or inbound.key
            if inbound.refused is not None:
                return self._refused(route, inbound, inbound.refused, started)
            if route.inbox is not None:  # an EDI inbox: routed by envelope (hub.partners)
                return _Ingested(self._into_inbox(route, inbound, started), inbound)
            try:
                messages = self.messages(route, inbound, given)
            except InboundRejected as exc:
                if type(source).reply is PushSource.reply:
                    raise
                # the sender's receipt (an MDN) must say no, and the operator see what came
                return self._refused(route, inbound, exc.message, started)
        except InboundRejected as exc:
            self.metrics.rejected.labels(route.name, exc.reason).inc()
            log.debug("refused (%s): %s", exc.reason, exc.message, extra={"route": route.name})
            raise
        parent = request.headers.get("traceparent")
        with self.tracing.ingest(route.name, parent, len(messages), began) as traces:
            messages = [
                _traced(m, trace.traceparent) for m, trace in zip(messages, traces, strict=True)
            ]
            ids = yield _Add(messages, list(route.sinks))  # all or none, in one transaction
            for trace, m, stored in zip(traces, messages, ids, strict=True):
                trace.stored(stored, duplicate=m.id != stored)
        return _Ingested(self.stored(route, messages, ids, started), inbound)

    def _refused(
        self,
        route: CompiledRoute,
        inbound: Inbound,
        reason: str,
        started: float,
    ) -> _Ingested:
        """Store what the source refused as a dead letter: the sender gets its answer after
        the commit, and the operator sees the body and the reason in ``GET /deadletters``.

        It gets no idempotency key: a forged message must not take the name (an AS2
        Message-ID) of a genuine one sent later, which would then be dropped as a repeat.
        """
        message = self.message(route, inbound, inbound.body)
        stored = self.store.add_refused(message, list(route.sinks), reason)
        self.metrics.rejected.labels(route.name, "refused").inc()
        self.metrics.ingest.labels(route.name).observe(time.perf_counter() - started)
        log.info("stored as a dead letter: %s", reason, extra={"message_id": stored})
        result = IngestResult(stored, ids=(stored,), duplicate=stored != message.id)
        return _Ingested(result, replace(inbound, refused=reason))

    def messages(self, route: CompiledRoute, inbound: Inbound, given: str | None) -> list[Message]:
        """The message(s) to store for one inbound body: split, keys read and checked.

        ``given`` is the sender's idempotency key (a header, a polled item's name); without
        it the key comes from the document. Raises :class:`InboundRejected` for a body that
        cannot be decoded far enough to find its keys.
        """
        try:
            parts = route.translator.split(inbound.body) if route.split else [inbound.body]
            inspected = [route.translator.inspect_keys(part) for part in parts]
        except LimitExceeded as exc:
            raise _refusal("the body is refused by a decoding limit", exc) from None
        except DecodeError as exc:
            codec = route.translator.input_codec.name
            raise _refusal(f"the body is not valid {codec}", exc) from None
        for index, (correlation, document_key, ordering) in enumerate(inspected):
            used = (correlation, None if given else document_key, ordering)
            _check_keys(route, used, index if len(parts) > 1 else None)
        return [
            self.message(
                route,
                inbound,
                part,
                correlation=correlation,
                idempotency=_part_key(given, index, len(parts)) or document_key,
                ordering=ordering_key,
            )
            for index, (part, (correlation, document_key, ordering_key)) in enumerate(
                zip(parts, inspected, strict=True)
            )
        ]

    def message(
        self,
        route: CompiledRoute,
        inbound: Inbound,
        body: bytes,
        *,
        correlation: str | None = None,
        idempotency: str | None = None,
        ordering: str | None = None,
    ) -> Message:
        return Message(
            id=str(uuid.uuid4()),
            route=route.name,
            source=route.source_type,
            body=body,
            format=route.translator.input_codec.name,
            correlation_key=_fit(correlation),
            content_type=inbound.content_type,
            headers=self._kept_headers(inbound.headers),
            idempotency_key=_fit(idempotency),
            ordering_key=_fit(ordering),
        )

    def stored(
        self, route: CompiledRoute, messages: list[Message], ids: list[str], started: float
    ) -> IngestResult:
        """Count what ``store.add`` kept, wake the worker, and say what was stored."""
        new = sum(1 for m, stored in zip(messages, ids, strict=True) if m.id == stored)
        self.metrics.received.labels(route.name).inc(new)
        if new < len(messages):
            self.metrics.duplicates.labels(route.name).inc(len(messages) - new)
        self.metrics.ingest.labels(route.name).observe(time.perf_counter() - started)
        if log.isEnabledFor(logging.DEBUG):
            for m, stored in zip(messages, ids, strict=True):
                key = m.correlation_key
                log.debug(
                    "stored" if m.id == stored else "a repeat of a stored message",
                    extra={"message_id": stored, "route": m.route, "correlation_key": key},
                )
        if new:
            self.on_stored()
        return IngestResult(
            ids[0] if ids else None,
            messages[0].correlation_key if messages else None,
            ids=tuple(ids),
            duplicate=bool(messages) and new == 0,
        )

    def inbox_file(self, route: CompiledRoute, inbound: Inbound, key: str | None) -> InboxFile:
        """A polled file of an inbox route, read and keyed by the item's name (``key``), to
        be recorded with the poll's cursor. Bytes that are no interchange are kept whole
        (the inbox message's turn dead-letters them); one beyond a decoding limit is
        refused (:class:`InboundRejected`, reason ``limit``)."""
        inbox: EdiInbox = route.inbox
        try:
            return inbox.prepare(
                inbound.body,
                source=route.source_type,
                content_type=inbound.content_type,
                headers=self._kept_headers(inbound.headers),
                key=_fit(key),
                strict=False,
            )
        except LimitExceeded as exc:
            raise _refusal("the file is refused by a decoding limit", exc) from None

    def _into_inbox(self, route: CompiledRoute, inbound: Any, started: float) -> IngestResult:
        try:
            receipt = route.inbox.receive(
                inbound.body,
                source=route.source_type,
                content_type=inbound.content_type,
                headers=self._kept_headers(inbound.headers),
            )
        except DecodeError as exc:
            raise _refusal("the body is not an EDI interchange", exc) from None
        self.metrics.received.labels(route.name).inc(len(receipt.ids))
        self.metrics.ingest.labels(route.name).observe(time.perf_counter() - started)
        self.on_stored()
        return IngestResult(receipt.message_id, ids=receipt.ids, duplicate=receipt.duplicate)


@dataclass(frozen=True)
class _Add:
    """What a request's steps ask the store to commit."""

    messages: list[Message]
    sinks: list[str]


@dataclass(frozen=True)
class _Ingested:
    result: IngestResult
    inbound: Inbound | None

    @property
    def stored(self) -> Stored | None:
        if self.inbound is None:
            return None
        return Stored(
            self.result.ids,
            duplicate=self.result.duplicate,
            refused=self.inbound.refused is not None,
        )


def _refusal(what: str, exc: DecodeError) -> InboundRejected:
    """The sender's answer to a body that does not decode: a decoding limit's status (413
    for a size limit, else 400) and reason ``limit``; any other fault 400, ``malformed``."""
    status, reason = (exc.status, "limit") if isinstance(exc, LimitExceeded) else (400, "malformed")
    return InboundRejected(
        f"{what}: {exc.message}", status=status, reason=reason, where=exc.where, hint=exc.hint
    )


def _traced(message: Message, traceparent: str | None) -> Message:
    """The message with its ingest span's traceparent in its headers (tracing on)."""
    if traceparent is None:
        return message
    return replace(message, headers={**message.headers, TRACE_HEADER: traceparent})


def _header_key(route: CompiledRoute, request: InboundRequest) -> str | None:
    """The sender's idempotency key, whole (a long one is fitted, never cut: hub.keys)."""
    header = route.config.idempotency.header
    if header is None:
        return None
    value = request.headers.get(header.lower(), "").strip()
    problem = key_problem(value)
    if problem is not None:
        raise InboundRejected(
            f"the {header} header {problem}",
            status=400,
            reason="bad_key",
            where=f"header {header}",
            hint="send a key of printable characters",
        )
    return value or None


def _check_keys(
    route: CompiledRoute, found: tuple[str | None, str | None, str | None], part: int | None
) -> None:
    """Refuse a document whose keys the store cannot hold, saying which key and where."""
    cfg = route.config
    idempotency = cfg.idempotency.path
    paths = (
        ("correlation key", cfg.correlation),
        (
            "idempotency key",
            idempotency if isinstance(idempotency, str | None) else ", ".join(idempotency),
        ),
        ("ordering key", cfg.ordering),
    )
    for key, (kind, path) in zip(found, paths, strict=True):
        problem = None if key is None else key_problem(key)
        if problem is None:
            continue
        where = f"`{path}`" if part is None else f"`{path}` of message {part + 1} in the batch"
        raise InboundRejected(
            f"the {kind} at {where} {problem}",
            status=400,
            reason="bad_key",
            where=path if part is None else f"message {part + 1}: {path}",
            hint=f"remove the character from `{path}` in the document",
        )


def _fit(key: str | None) -> str | None:
    return None if key is None else fit_key(key)


def _part_key(key: str | None, index: int, parts: int) -> str | None:
    """One key for a whole batch becomes one key per message in it."""
    if key is None:
        return None
    return key if parts == 1 else f"{key}#{index + 1}"
