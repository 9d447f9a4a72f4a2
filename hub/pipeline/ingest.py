"""Receive one request on a route: let the source check it, parse it, store it durably."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.errors import DecodeError, InboundRejected, RouteNotFound
from hub.message import Message
from hub.metrics import HubMetrics
from hub.pipeline.build import CompiledRoute
from hub.sdk import InboundRequest
from hub.store import Store

__all__ = ["IngestResult", "Ingestor"]


@dataclass(frozen=True)
class IngestResult:
    """``message_id`` is None when the source acknowledged a request with no message."""

    message_id: str | None
    correlation_key: str | None = None
    ids: tuple[str, ...] = ()  # every message stored; several when the route splits


class Ingestor:
    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.on_stored = on_stored

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
        route = self.route(request.route)
        started = time.perf_counter()
        try:
            inbound = route.source.accept(request)
            if inbound is None:
                return IngestResult(None)
            try:
                parts = route.translator.split(inbound.body) if route.split else [inbound.body]
                keys = [route.translator.inspect(part) for part in parts]
            except DecodeError as exc:
                raise InboundRejected(
                    f"the body is not valid {route.translator.input_codec.name}: {exc.message}",
                    status=400,
                    reason="malformed",
                    where=exc.where,
                    hint=exc.hint,
                ) from None
        except InboundRejected as exc:
            self.metrics.rejected.labels(route.name, exc.reason).inc()
            raise
        messages = [
            Message(
                id=str(uuid.uuid4()),
                route=route.name,
                source=route.source_type,
                body=part,
                format=route.translator.input_codec.name,
                correlation_key=key,
                content_type=inbound.content_type,
                headers=dict(inbound.headers),
            )
            for part, key in zip(parts, keys, strict=True)
        ]
        self.store.add(messages, list(route.sinks))  # all or none, in one transaction
        self.metrics.received.labels(route.name).inc(len(messages))
        self.metrics.ingest.labels(route.name).observe(time.perf_counter() - started)
        self.on_stored()
        return IngestResult(
            messages[0].id if messages else None,
            keys[0] if keys else None,
            ids=tuple(m.id for m in messages),
        )
