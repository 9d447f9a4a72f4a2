"""One worker turn on one claimed message: translate if needed, then deliver to each sink.

The turn's attempt is counted when it starts (``Store.start_turn``); the whole turn is
written to the store in one transaction at its end. A crash before that commit repeats the
turn (at-least-once), until the route's ``retry.max_attempts`` turns have started without
finishing: then the message is a poison dead letter. The stable idempotency key per
message and sink lets a partner drop a repeat.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub.errors import (
    HubError,
    MessageError,
    RetriableDeliveryError,
    StoreError,
    StoreUnavailable,
)
from hub.keys import fit_key
from hub.logs import message_context
from hub.message import DeliveryStatus, Event, Message, MessageStatus, utcnow
from hub.metrics import HubMetrics
from hub.redact import redact
from hub.sdk import Delivery, Sink
from hub.store import Claimed, SinkAttempt, Store, StoredError, StoredOutput, Turn
from hub.tracing import TRACE_HEADER, NoTracing, Tracing, TurnTrace

if TYPE_CHECKING:
    from hub.pipeline.build import CompiledRoute

__all__ = ["Processor"]

log = logging.getLogger("hub.delivery")


class Processor:
    """Runs turns for the worker ``worker`` (the lease holder's name).

    ``budget`` (seconds, ``worker.turn_budget_seconds``) bounds a turn from the inside: the
    translator stops between stages once it is spent and each delivery's timeout is cut
    to the time left. A turn that ignores it (stuck in a call) is the watchdog's to abandon.
    """

    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        worker: str,
        *,
        lease_seconds: float = 60.0,
        budget: float | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.budget = budget
        self.tracing: Tracing = tracing or NoTracing()

    def max_attempts(self) -> dict[str, int]:
        """Each route's ``retry.max_attempts``, for :meth:`Store.claim`."""
        return {name: route.retry.max_attempts for name, route in self.routes.items()}

    def start(self, claimed: Claimed) -> Claimed | None:
        """Start the turn on a claimed message (the claim starts only the first of a batch):
        the attempt is counted now. None if another worker has taken the message."""
        if claimed.started or claimed.poison is not None:
            return claimed
        route = self.routes.get(claimed.message.route)
        started = self.store.start_turn(
            claimed,
            self.worker,
            lease_seconds=self.lease_seconds,
            max_attempts=route.retry.max_attempts if route is not None else None,
        )
        if started is None:
            log.info("message %s: the lease lapsed before its turn", claimed.message.id)
        return started

    def process(self, claimed: Claimed) -> MessageStatus | None:
        """Run one turn (starting it first if needed); the status it left, or None when
        the message was not this worker's to process any more."""
        message = claimed.message
        with message_context(message.id, message.route, message.correlation_key):
            started = self.start(claimed)
            if started is None:
                return None
            if started.poison is not None:
                self._poisoned(started, started.poison)
                return MessageStatus.FAILED
            return self._process(started)

    def _poisoned(self, claimed: Claimed, error: StoredError) -> None:
        self.metrics.failed.labels(claimed.message.route, error.stage).inc()
        log.error("message %s dead-lettered: %s", claimed.message.id, error.message)

    def _process(self, claimed: Claimed) -> MessageStatus | None:
        started = time.perf_counter()
        route_name = claimed.message.route
        deadline = None if self.budget is None else time.monotonic() + self.budget
        try:
            with self.tracing.turn(claimed.message, claimed.attempts) as trace:
                turn = self._turn(claimed, trace, deadline)
                held, turn = self._record(claimed, turn)
                error = turn.error
                trace.finished(
                    turn.status.value,
                    error.message if error else None,
                    error.stage if error else None,
                )
            if not held:  # recorded as history; the status is the new holder's to set
                log.warning(
                    "message %s: lease lost during the turn (it ended %s)",
                    claimed.message.id,
                    turn.status.value,
                )
                return None
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

    def _record(self, claimed: Claimed, turn: Turn) -> tuple[bool, Turn]:
        """``Store.finish`` the turn; if the database refuses what it holds (not merely
        unavailable), record a minimal failed turn instead, so the message cannot be
        delivered again and again by turns that are never recorded."""
        message_id = claimed.message.id
        try:
            return self.store.finish(message_id, self.worker, turn), turn
        except StoreUnavailable:
            raise  # the attempt was counted when the turn started; the lease will lapse
        except StoreError as exc:
            self.metrics.worker_errors.inc()
            log.error("message %s: the turn could not be recorded: %s", message_id, exc)
            minimal = _unrecorded(turn, exc)
            return self.store.finish(message_id, self.worker, minimal), minimal

    def _turn(self, claimed: Claimed, trace: TurnTrace, deadline: float | None = None) -> Turn:
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
                translation = route.translator.translate(
                    message.body, deadline=deadline, message_id=message.id
                )
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
            trace.stages(translation.events)
            if translation.parts is not None:
                return _split(message, translation.parts, output, events)
            body, content_type, extension = output.body, output.content_type, output.extension
        else:
            body = claimed.output
            content_type = claimed.output_content_type or "application/octet-stream"
            extension = claimed.output_extension or "bin"
        return self._deliver(
            claimed, route, output, events, (body, content_type, extension), trace, deadline
        )

    def _deliver(
        self,
        claimed: Claimed,
        route: CompiledRoute,
        output: StoredOutput | None,
        events: list[Event],
        payload: tuple[bytes, str, str],
        trace: TurnTrace,
        deadline: float | None,
    ) -> Turn:
        message = claimed.message
        body, content_type, extension = payload
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
                timeout=_timeout(route.retry.attempt_timeout, deadline),
            )
            started = time.perf_counter()
            with trace.attempt(sink_name, number) as span:
                if delivery.timeout is not None and delivery.timeout <= 0:
                    outcome, detail, hint = "retry", _SPENT.format(budget=self.budget), None
                else:
                    outcome, detail, hint = _attempt(route.sinks.get(sink_name), delivery)
                span.outcome(outcome, detail)
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
                claimed.attempts, max(retry_after) if retry_after else None, age
            )
            if delay is None:
                error = StoredError(
                    "deliver",
                    "retries_exhausted",
                    f"gave up after {claimed.attempts} attempts over {age:.0f}s "
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


_SPENT = "not attempted: the turn spent its budget (worker.turn_budget_seconds {budget:g})"


def _timeout(attempt_timeout: float | None, deadline: float | None) -> float | None:
    """A delivery's timeout: the route's per-attempt limit, cut to the turn's time left."""
    if deadline is None:
        return attempt_timeout
    left = round(deadline - time.monotonic(), 3)
    return left if attempt_timeout is None else min(attempt_timeout, left)


def _unrecorded(turn: Turn, exc: StoreError) -> Turn:
    """The least of a turn that the store refused: its sinks' outcomes without their
    texts, and a dead letter saying why. What the turn made and said is lost; the
    message's input is kept, so replay can run it again."""
    error = StoredError("process", "record_failed", f"could not record the turn: {exc.message}")
    attempts = tuple(
        SinkAttempt(a.sink, a.status, "(the outcome could not be recorded)", a.at)
        for a in turn.attempts
    )
    return Turn(
        MessageStatus.FAILED,
        error=error,
        attempts=attempts,
        events=(Event("failed", error.message, data={"stage": error.stage, "type": error.type}),),
    )


def _attempt(sink: Sink[Any] | None, delivery: Delivery) -> tuple[str, str, float | None]:
    """(outcome, detail, retry-after hint) of one delivery; never raises.

    The detail is stored and logged: a URL's password in it is hidden, whatever the sink.
    """
    if sink is None:
        return "fatal", "the sink is no longer in the route", None
    try:
        receipt = sink.deliver(delivery)
    except RetriableDeliveryError as exc:
        return "retry", redact(str(exc)), exc.retry_after
    except HubError as exc:  # FatalDeliveryError and any other typed refusal
        return "fatal", redact(str(exc)), None
    except Exception as exc:  # a connector bug must not lose the message: retry it
        log.exception("sink %s raised an unexpected error", delivery.sink)
        return "retry", redact(f"unexpected error in the connector: {exc!r}"), None
    return "delivered", redact(receipt.detail), None


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
            correlation_key=fit_key(f"{message.correlation_key or message.id[:8]}#{index}"),
            content_type=output.content_type,
            headers={
                "x-hub-split-from": message.id,
                "x-hub-split-part": f"{index}/{len(parts)}",
                **_trace_of(message),
            },
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


def _trace_of(message: Message) -> dict[str, str]:
    """A split part stays in its message's trace (tracing on): its turns are in it too."""
    traceparent = message.headers.get(TRACE_HEADER)
    return {TRACE_HEADER: traceparent} if traceparent else {}


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
