"""One worker turn on one claimed message: translate if needed, then deliver to each sink.

The whole turn is written to the store in one transaction at its end. A crash
before that commit repeats the turn (at-least-once); the stable idempotency key
per message and sink lets a partner drop the repeat.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub.errors import HubError, MessageError, RetriableDeliveryError
from hub.logs import message_context
from hub.message import DeliveryStatus, Event, Message, MessageStatus, utcnow
from hub.metrics import HubMetrics
from hub.sdk import Delivery, Sink
from hub.store import Claimed, SinkAttempt, Store, StoredError, StoredOutput, Turn

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
        with message_context(message.id, message.route, message.correlation_key):
            return self._process(claimed)

    def _process(self, claimed: Claimed) -> MessageStatus:
        started = time.perf_counter()
        route_name = claimed.message.route
        try:
            turn = self._turn(claimed)
            if not self.store.finish(claimed.message.id, self.worker, turn):
                log.warning("message %s: lease lost during the turn", claimed.message.id)
            if turn.status == MessageStatus.DELIVERED:
                self.metrics.delivered.labels(route_name).inc()
                log.debug("message %s delivered", claimed.message.id)
            elif turn.status == MessageStatus.RETRYING:
                log.info(
                    "message %s: delivery failed, retry at %s",
                    claimed.message.id,
                    turn.next_attempt_at.isoformat() if turn.next_attempt_at else "once due",
                )
            elif turn.status == MessageStatus.FAILED and turn.error is not None:
                self.metrics.failed.labels(route_name, turn.error.stage).inc()
                log.warning(
                    "message %s dead-lettered at %s: %s",
                    claimed.message.id,
                    turn.error.stage,
                    turn.error.message,
                )
            return turn.status
        finally:
            self.metrics.processing.labels(route_name).observe(time.perf_counter() - started)

    def _turn(self, claimed: Claimed) -> Turn:
        message = claimed.message
        route = self.routes.get(message.route)
        if route is None:
            return _failed(
                StoredError(
                    "route", "route_not_found", f"route {message.route!r} is not in the config"
                )
            )
        events: list[Event] = []
        output: StoredOutput | None = None
        if claimed.output is None:
            try:
                translation = route.translator.translate(message.body)
            except MessageError as exc:
                name, version = exc.mapping or (None, None)
                error = StoredError(exc.stage, exc.code, str(exc), name, version)
                return _failed(error, exc)
            output = StoredOutput(
                body=translation.body,
                content_type=translation.content_type,
                extension=translation.extension,
                mapping_name=translation.mapping_name,
                mapping_hash=translation.mapping_hash,
            )
            events.extend(translation.events)
            if translation.parts is not None:
                return _split(message, translation.parts, output, events)
            body, content_type, extension = output.body, output.content_type, output.extension
        else:
            body = claimed.output
            content_type = claimed.output_content_type or "application/octet-stream"
            extension = claimed.output_extension or "bin"
        return self._deliver(claimed, route, output, events, body, content_type, extension)

    def _deliver(
        self,
        claimed: Claimed,
        route: CompiledRoute,
        output: StoredOutput | None,
        events: list[Event],
        body: bytes,
        content_type: str,
        extension: str,
    ) -> Turn:
        message = claimed.message
        attempts: list[SinkAttempt] = []
        retry_after: list[float] = []
        fatal: list[str] = []
        waiting: list[str] = []
        for sink_name in claimed.pending_sinks:
            number = claimed.sink_attempts.get(sink_name, 0) + 1
            delivery = Delivery(
                message_id=message.id,
                route=message.route,
                sink=sink_name,
                body=body,
                content_type=content_type,
                extension=extension,
                correlation_key=message.correlation_key,
                idempotency_key=f"{message.id}:{sink_name}",
                attempt=number,
                timeout=route.retry.attempt_timeout,
            )
            started = time.perf_counter()
            outcome, detail, hint = _attempt(route.sinks.get(sink_name), delivery)
            if outcome == "retry":
                waiting.append(f"{sink_name}: {detail}")
                if hint is not None:
                    retry_after.append(hint)
            elif outcome == "fatal":
                fatal.append(f"{sink_name}: {detail}")
            status = {
                "delivered": DeliveryStatus.DELIVERED,
                "retry": DeliveryStatus.PENDING,
                "fatal": DeliveryStatus.FAILED,
            }[outcome]
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            event = Event(
                "attempt",
                detail,
                sink=sink_name,
                data={"attempt": number, "outcome": outcome, "ms": elapsed},
            )
            events.append(event)
            attempts.append(SinkAttempt(sink_name, status, detail, event.at))
            self.metrics.attempts.labels(message.route, sink_name, outcome).inc()
        if fatal:
            error = StoredError("deliver", "delivery_fatal", "; ".join(fatal))
            return _failed(error, None, output, events, attempts)
        if waiting:
            age = (utcnow() - message.received_at).total_seconds()
            delay = route.retry.delay(
                claimed.attempts + 1, max(retry_after) if retry_after else None, age
            )
            if delay is None:
                error = StoredError(
                    "deliver",
                    "retries_exhausted",
                    f"gave up after {claimed.attempts + 1} attempts over {age:.0f}s "
                    f"(max_attempts {route.retry.max_attempts}, max_age_seconds "
                    f"{route.retry.max_age:.0f}): " + "; ".join(waiting),
                )
                return _failed(error, None, output, events, attempts)
            when = utcnow() + timedelta(seconds=delay)
            events.append(
                Event(
                    "retry_scheduled",
                    f"next attempt in {delay:.1f}s",
                    data={"at": when.isoformat()},
                )
            )
            return Turn(
                MessageStatus.RETRYING,
                next_attempt_at=when,
                output=output,
                attempts=tuple(attempts),
                events=tuple(events),
            )
        events.append(Event("delivered", f"delivered to {len(route.sinks)} sink(s)"))
        return Turn(
            MessageStatus.DELIVERED, output=output, attempts=tuple(attempts), events=tuple(events)
        )


def _attempt(sink: Sink[Any] | None, delivery: Delivery) -> tuple[str, str, float | None]:
    """(outcome, detail, retry-after hint) of one delivery; never raises."""
    if sink is None:
        return "fatal", "the sink is no longer in the route", None
    try:
        receipt = sink.deliver(delivery)
    except RetriableDeliveryError as exc:
        return "retry", str(exc), exc.retry_after
    except HubError as exc:  # FatalDeliveryError and any other typed refusal
        return "fatal", str(exc), None
    except Exception as exc:  # a connector bug must not lose the message: retry it
        log.exception("sink %s raised an unexpected error", delivery.sink)
        return "retry", f"unexpected error in the connector: {exc!r}", None
    return "delivered", receipt.detail, None


def _split(
    message: Message, parts: tuple[bytes, ...], output: StoredOutput, events: list[Event]
) -> Turn:
    """The mapping made several outputs: each becomes a message of its own, to deliver."""
    children = tuple(
        Message(
            id=str(uuid.uuid4()),
            route=message.route,
            source=f"split:{message.id}",
            body=part,
            format=message.format,
            correlation_key=f"{message.correlation_key or message.id[:8]}#{index}"[:255],
            content_type=output.content_type,
            headers={"x-hub-split-from": message.id, "x-hub-split-part": f"{index}/{len(parts)}"},
        )
        for index, part in enumerate(parts, 1)
    )
    events.append(
        Event(
            "split",
            f"split by {output.mapping_name} into {len(children)} message(s)",
            data={"ids": [child.id for child in children]},
        )
    )
    return Turn(MessageStatus.SPLIT, output=output, events=tuple(events), children=children)


def _failed(
    error: StoredError,
    exc: HubError | None = None,
    output: StoredOutput | None = None,
    events: list[Event] | None = None,
    attempts: list[SinkAttempt] | None = None,
) -> Turn:
    data: dict[str, object] = {"stage": error.stage, "type": error.type}
    if exc is not None and exc.problems:
        data["problems"] = [str(p) for p in exc.problems]
    return Turn(
        MessageStatus.FAILED,
        error=error,
        output=output,
        attempts=tuple(attempts or ()),
        events=(*(events or ()), Event("failed", error.message, data=data)),
    )
