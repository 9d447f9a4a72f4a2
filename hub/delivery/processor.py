"""One worker turn on one claimed message: translate if needed, then deliver to each sink."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from hub.errors import (
    FatalDeliveryError,
    HubError,
    MessageError,
    RetriableDeliveryError,
)
from hub.message import DeliveryStatus, Event, MessageStatus, utcnow
from hub.metrics import HubMetrics
from hub.sdk import Delivery
from hub.store import Claimed, Store, StoredError

if TYPE_CHECKING:
    from hub.pipeline.build import CompiledRoute

__all__ = ["Processor"]

log = logging.getLogger("hub.delivery")


class Processor:
    def __init__(
        self, store: Store, routes: Mapping[str, CompiledRoute], metrics: HubMetrics, worker: str
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.worker = worker

    def process(self, claimed: Claimed) -> MessageStatus:
        message = claimed.message
        started = time.perf_counter()
        route = self.routes.get(message.route)
        try:
            if route is None:
                return self._give_up(
                    claimed,
                    StoredError(
                        "route",
                        "route_not_found",
                        f"route {message.route!r} is no longer in the config",
                    ),
                )
            output, content_type, extension = (
                claimed.output,
                claimed.output_content_type,
                claimed.output_extension,
            )
            if output is None:
                try:
                    translation = route.translator.translate(message.body)
                except MessageError as exc:
                    return self._give_up(claimed, StoredError(exc.stage, exc.code, str(exc)), exc)
                self.store.save_translation(
                    message.id,
                    output=translation.body,
                    content_type=translation.content_type,
                    extension=translation.extension,
                    mapping_name=translation.mapping_name,
                    mapping_hash=translation.mapping_hash,
                    events=translation.events,
                )
                output, content_type, extension = (
                    translation.body,
                    translation.content_type,
                    translation.extension,
                )
            return self._deliver(
                claimed,
                route,
                output,
                content_type or "application/octet-stream",
                extension or "bin",
            )
        finally:
            self.metrics.processing.labels(message.route).observe(time.perf_counter() - started)

    def _deliver(
        self, claimed: Claimed, route: CompiledRoute, body: bytes, content_type: str, extension: str
    ) -> MessageStatus:
        message = claimed.message
        retry_after: list[float] = []
        fatal: list[str] = []
        waiting: list[str] = []
        for sink_name in claimed.pending_sinks:
            sink = route.sinks.get(sink_name)
            attempt = claimed.sink_attempts.get(sink_name, 0) + 1
            if sink is None:
                fatal.append(f"{sink_name}: sink is no longer in the route")
                self.store.save_attempt(
                    message.id,
                    sink_name,
                    DeliveryStatus.FAILED,
                    Event(
                        "attempt",
                        "sink is no longer configured",
                        sink=sink_name,
                        data={"attempt": attempt, "outcome": "fatal"},
                    ),
                )
                continue
            delivery = Delivery(
                message_id=message.id,
                route=message.route,
                sink=sink_name,
                body=body,
                content_type=content_type,
                extension=extension,
                correlation_key=message.correlation_key,
                idempotency_key=f"{message.id}:{sink_name}",
                attempt=attempt,
            )
            started = time.perf_counter()
            try:
                receipt = sink.deliver(delivery)
            except RetriableDeliveryError as exc:
                outcome, status, detail = "retry", DeliveryStatus.PENDING, str(exc)
                waiting.append(f"{sink_name}: {exc}")
                if exc.retry_after is not None:
                    retry_after.append(exc.retry_after)
            except FatalDeliveryError as exc:
                outcome, status, detail = "fatal", DeliveryStatus.FAILED, str(exc)
                fatal.append(f"{sink_name}: {exc}")
            except HubError as exc:
                outcome, status, detail = "fatal", DeliveryStatus.FAILED, str(exc)
                fatal.append(f"{sink_name}: {exc}")
            except Exception as exc:  # a connector bug must not lose the message
                log.exception("sink %s raised an unexpected error", sink_name)
                outcome, status, detail = (
                    "retry",
                    DeliveryStatus.PENDING,
                    f"unexpected error: {exc!r}",
                )
                waiting.append(f"{sink_name}: {detail}")
            else:
                outcome, status, detail = "delivered", DeliveryStatus.DELIVERED, receipt.detail
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            self.metrics.attempts.labels(message.route, sink_name, outcome).inc()
            self.store.save_attempt(
                message.id,
                sink_name,
                status,
                Event(
                    "attempt",
                    detail,
                    sink=sink_name,
                    data={"attempt": attempt, "outcome": outcome, "ms": elapsed},
                ),
            )
        if fatal:
            return self._give_up(
                claimed, StoredError("deliver", "delivery_fatal", "; ".join(fatal))
            )
        if waiting:
            delay = route.retry.delay(
                claimed.attempts + 1, max(retry_after) if retry_after else None
            )
            if delay is None:
                return self._give_up(
                    claimed,
                    StoredError(
                        "deliver",
                        "retries_exhausted",
                        f"gave up after {claimed.attempts + 1} attempts: " + "; ".join(waiting),
                    ),
                )
            when = utcnow() + timedelta(seconds=delay)
            self.store.release(
                message.id,
                self.worker,
                status=MessageStatus.RETRYING,
                next_attempt_at=when,
                events=[
                    Event(
                        "retry_scheduled",
                        f"next attempt in {delay:.1f}s",
                        data={"at": when.isoformat()},
                    )
                ],
            )
            return MessageStatus.RETRYING
        self.store.release(
            message.id,
            self.worker,
            status=MessageStatus.DELIVERED,
            events=[Event("delivered", f"delivered to {len(route.sinks)} sink(s)")],
        )
        self.metrics.delivered.labels(message.route).inc()
        return MessageStatus.DELIVERED

    def _give_up(
        self, claimed: Claimed, error: StoredError, exc: HubError | None = None
    ) -> MessageStatus:
        data: dict[str, object] = {"stage": error.stage, "type": error.type}
        if exc is not None and exc.problems:
            data["problems"] = [str(p) for p in exc.problems]
        self.store.release(
            claimed.message.id,
            self.worker,
            status=MessageStatus.FAILED,
            error=error,
            events=[Event("failed", error.message, data=data)],
        )
        self.metrics.failed.labels(claimed.message.route, error.stage).inc()
        log.warning(
            "message %s dead-lettered at %s: %s", claimed.message.id, error.stage, error.message
        )
        return MessageStatus.FAILED
