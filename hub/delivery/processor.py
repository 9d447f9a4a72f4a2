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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
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
from hub.store.history import steps_event
from hub.tracing import TRACE_HEADER, NoTracing, Tracing, TurnTrace

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.pipeline.build import CompiledRoute
    from hub.pipeline.translate import Translation

__all__ = ["Processor"]

log = logging.getLogger("hub.delivery")

#: Wraps each step of a turn (the worker's watchdog seat): yields False to stop.
TurnGuard = Callable[[Claimed], AbstractContextManager[bool]]


@contextmanager
def _always(_claimed: Claimed) -> Iterator[bool]:
    yield True


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
        #: Each metric's child per label values, looked up once (``labels()`` costs a lock
        #: and a few microseconds, three times a message); routes and sinks are few.
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        child = self._children.get((metric, labels))
        if child is None:
            child = self._children[(metric, labels)] = metric.labels(*labels)
        return child

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
        """Run one turn (starting it first if needed) and record it; the status it left,
        or None when the message was not this worker's to process any more."""
        outcome = self.run(claimed)
        if outcome is None:
            return None
        [status] = self.record([outcome])
        return status

    def run(self, claimed: Claimed, turn: TurnGuard = _always) -> tuple[Claimed, Turn] | None:
        """One message's whole turn, not yet recorded (see :meth:`run_batch`)."""
        outcomes = self.run_batch([claimed], turn)
        return outcomes[0] if outcomes else None

    def run_batch(
        self,
        batch: Sequence[Claimed],
        turn: TurnGuard = _always,
        untouched: list[Claimed] | None = None,
    ) -> list[tuple[Claimed, Turn]]:
        """The turns of a claimed batch, not yet recorded: translate each message, then
        hand each sink its deliveries together (``Sink.deliver_many``), then decide each
        message's outcome. ``turn`` guards each step with the worker's watchdog: it yields
        False once the thread was given up on (or the worker is stopping), and the rest of
        the batch is left alone: a message is decided only once every sink pending for it
        was tried. ``untouched`` receives the messages no sink was tried for (nothing of
        their turn reached a peer), so a stopping worker can give them back.
        """
        with ExitStack() as traces:  # each message's turn span, ended with the batch
            return self._run_batch(batch, turn, untouched, traces)

    def _run_batch(
        self,
        batch: Sequence[Claimed],
        turn: TurnGuard,
        untouched: list[Claimed] | None,
        traces: ExitStack,
    ) -> list[tuple[Claimed, Turn]]:
        outcomes: list[tuple[Claimed, Turn]] = []
        prepared: list[_Prepared] = []
        stopped = False
        for claimed in batch:
            if stopped:
                if untouched is not None:
                    untouched.append(claimed)
                continue
            with turn(claimed) as running, self._context(claimed):
                if not running:
                    stopped = True
                    if untouched is not None:
                        untouched.append(claimed)
                    continue
                started = self.start(claimed)
                if started is None:
                    continue
                if started.poison is not None:
                    self._poisoned(started, started.poison)
                    continue
                deadline = None if self.budget is None else time.monotonic() + self.budget
                trace = traces.enter_context(self.tracing.turn(started.message, started.attempts))
                done = self._prepare(started, deadline, trace)
                if isinstance(done, Turn):
                    _finished(trace, done)
                    outcomes.append((started, done))
                else:
                    prepared.append(done)
        if prepared:
            self._deliver(prepared, turn)
            for item in prepared:
                if len(item.results) == len(item.claimed.pending_sinks):
                    concluded = self._conclude(item)
                    _finished(item.trace, concluded)
                    outcomes.append((item.claimed, concluded))
                elif not item.results and untouched is not None:
                    untouched.append(item.claimed)
        return outcomes

    @staticmethod
    def _context(claimed: Claimed) -> AbstractContextManager[object]:
        message = claimed.message
        return message_context(message.id, message.route, message.correlation_key)

    def record(self, outcomes: Sequence[tuple[Claimed, Turn]]) -> list[MessageStatus | None]:
        """Record a batch's turns in one transaction (``Store.finish_many``); for each,
        the status it left, or None if the lease was lost meanwhile."""
        if not outcomes:
            return []
        pairs = [(claimed.message.id, turn) for claimed, turn in outcomes]
        try:
            held = self.store.finish_many(self.worker, pairs)
        except StoreUnavailable:
            raise  # the attempts were counted when the turns started; the leases will lapse
        except StoreError:  # the database refused one of them: record each on its own
            return self._report(outcomes, [self._record(c, t) for c, t in outcomes])
        return self._report(outcomes, list(zip(held, (t for _, t in outcomes), strict=True)))

    def record_and_claim(
        self, outcomes: Sequence[tuple[Claimed, Turn]], limit: int
    ) -> list[Claimed]:
        """Record a batch's turns and claim the next batch, in one transaction."""
        pairs = [(claimed.message.id, turn) for claimed, turn in outcomes]
        try:
            held, batch = self.store.finish_and_claim(
                self.worker,
                pairs,
                lease_seconds=self.lease_seconds,
                limit=limit,
                max_attempts=self.max_attempts(),
            )
        except StoreUnavailable:
            raise
        except StoreError:  # the database refused one of them: record each on its own
            self.record(outcomes)
            return self.store.claim(
                self.worker,
                lease_seconds=self.lease_seconds,
                limit=limit,
                max_attempts=self.max_attempts(),
            )
        self._report(outcomes, list(zip(held, (t for _, t in outcomes), strict=True)))
        return batch

    def _report(
        self, outcomes: Sequence[tuple[Claimed, Turn]], recorded: Sequence[tuple[bool, Turn]]
    ) -> list[MessageStatus | None]:
        """Metrics and log lines for recorded turns."""
        statuses: list[MessageStatus | None] = []
        for (claimed, _), (holds, turn) in zip(outcomes, recorded, strict=True):
            with self._context(claimed):
                statuses.append(self._recorded(claimed, turn, holds))
        return statuses

    def _poisoned(self, claimed: Claimed, error: StoredError) -> None:
        self._child(self.metrics.failed, claimed.message.route, error.stage).inc()
        log.error("message %s dead-lettered: %s", claimed.message.id, error.message)

    def _recorded(self, claimed: Claimed, turn: Turn, held: bool) -> MessageStatus | None:
        route_name = claimed.message.route
        took = (utcnow() - claimed.claimed_at).total_seconds()
        self._child(self.metrics.processing, route_name).observe(took)
        if not held:  # recorded as history; the status is the new holder's to set
            log.warning(
                "message %s: lease lost during the turn (it ended %s)",
                claimed.message.id,
                turn.status.value,
            )
            return None
        if turn.status == MessageStatus.DELIVERED:
            self._child(self.metrics.delivered, route_name).inc()
            log.debug("message %s delivered", claimed.message.id)
        elif turn.status == MessageStatus.RETRYING:
            log.info(
                "message %s: delivery failed, retry at %s",
                claimed.message.id,
                turn.next_attempt_at.isoformat() if turn.next_attempt_at else "once due",
            )
        elif turn.status == MessageStatus.FAILED and turn.error is not None:
            self._child(self.metrics.failed, route_name, turn.error.stage).inc()
            log.warning(
                "message %s dead-lettered at %s: %s",
                claimed.message.id,
                turn.error.stage,
                turn.error.message,
            )
        return turn.status

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

    def _prepare(
        self, claimed: Claimed, deadline: float | None, trace: TurnTrace
    ) -> Turn | _Prepared:
        """Translate (unless a turn before did): a finished turn if there is nothing to
        deliver (it failed, or split), else what to deliver."""
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
                if translation.seal is not None:  # a partner's numbers: stored before sent
                    sealed = self._seal(message.id, translation.seal)
                    if sealed is None:
                        return Turn(MessageStatus.RETRYING)  # recorded as lease_lost
                    trace.stages(sealed.events)
                    payload = (sealed.body, sealed.content_type, sealed.extension)
                    return _Prepared(claimed, route, None, events, payload, trace)
            except MessageError as exc:
                name, version = exc.mapping or (None, None)
                error = StoredError(exc.stage, exc.code, str(exc), name, version)
                return _failed(error, exc)
            output = _stored(translation)
            trace.stages(translation.events)
            if translation.events:  # one row for the stages; read back one by one
                events.append(steps_event(translation.events))
            if translation.parts is not None:
                return _split(message, translation.parts, output, events)
            payload = (output.body, output.content_type, output.extension)
        else:
            payload = (
                claimed.output,
                claimed.output_content_type or "application/octet-stream",
                claimed.output_extension or "bin",
            )
        return _Prepared(claimed, route, output, events, payload, trace)

    def _seal(self, message_id: str, seal: Callable[[Session], Translation]) -> Translation | None:
        """Finish the translation inside the transaction that stores its output (a
        partner's control numbers commit with it); None if the lease was lost."""
        done: list[Translation] = []

        def make(session: Session) -> tuple[StoredOutput, list[Event]]:
            translation = seal(session)
            done.append(translation)
            return _stored(translation), [steps_event(translation.events)]

        if not self.store.store_output(message_id, self.worker, make):
            return None
        return done[0]

    def _deliver(self, prepared: Sequence[_Prepared], turn: TurnGuard) -> None:
        """Each sink gets its pending deliveries of the batch, ``max_batch`` at a time;
        each chunk is a turn for the watchdog (its budget bounds the chunk)."""
        by_sink: dict[str, list[_Prepared]] = {}
        for item in prepared:
            for sink_name in item.claimed.pending_sinks:
                by_sink.setdefault(sink_name, []).append(item)
        for sink_name, items in by_sink.items():
            route_sinks = items[0].route.sinks
            sink = route_sinks.get(sink_name)
            size = max(1, sink.max_batch) if sink is not None else 1
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                with turn(chunk[0].claimed) as running:
                    if not running:
                        return  # given up on: the rest is another turn's
                    self._deliver_chunk(sink_name, chunk)

    def _deliver_chunk(self, sink_name: str, chunk: Sequence[_Prepared]) -> None:
        deadline = None if self.budget is None else time.monotonic() + self.budget
        deliveries = []
        for item in chunk:
            message = item.claimed.message
            body, content_type, extension = item.payload
            deliveries.append(
                Delivery(
                    message_id=message.id,
                    route=message.route,
                    sink=sink_name,
                    body=body,
                    content_type=content_type,
                    extension=extension,
                    correlation_key=message.correlation_key,
                    idempotency_key=f"{message.id}:{sink_name}",
                    attempt=item.claimed.sink_attempts.get(sink_name, 0) + 1,
                    timeout=_timeout(item.route.retry.attempt_timeout, deadline),
                )
            )
        # every route in a chunk names this sink; each has its own instance
        started = time.perf_counter()
        with ExitStack() as spans:  # one attempt span per message, as long as the chunk's call
            attempts = [
                spans.enter_context(item.trace.attempt(sink_name, delivery.attempt))
                for item, delivery in zip(chunk, deliveries, strict=True)
            ]
            results = _attempt_many([item.route.sinks.get(sink_name) for item in chunk], deliveries)
            for span, (outcome, detail, _) in zip(attempts, results, strict=True):
                span.outcome(outcome, detail)
        elapsed = round((time.perf_counter() - started) * 1000 / len(chunk), 3)
        for item, delivery, (outcome, detail, hint) in zip(chunk, deliveries, results, strict=True):
            item.results.append((delivery, outcome, detail, hint, elapsed))
            self._child(self.metrics.attempts, delivery.route, sink_name, outcome).inc()

    def _conclude(self, item: _Prepared) -> Turn:
        """A message's outcome from what its sinks said."""
        claimed, route, output, events = item.claimed, item.route, item.output, item.events
        message = claimed.message
        attempts: list[SinkAttempt] = []
        retry_after: list[float] = []
        fatal: list[str] = []
        waiting: list[str] = []
        for delivery, outcome, detail, hint, elapsed in item.results:
            sink_name = delivery.sink
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
            event = Event(
                "attempt",
                detail,
                sink=sink_name,
                data={"attempt": delivery.attempt, "outcome": outcome, "ms": elapsed},
            )
            events.append(event)
            attempts.append(SinkAttempt(sink_name, status, detail, event.at))
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
        envelope = route.translator.envelope
        return Turn(
            MessageStatus.DELIVERED,
            output=output,
            attempts=tuple(attempts),
            events=tuple(events),
            ack_within=None if envelope is None else envelope.ack_within,
        )


class _Prepared:
    """A message translated and ready to deliver, and what each sink said so far."""

    __slots__ = ("claimed", "events", "output", "payload", "results", "route", "trace")

    def __init__(
        self,
        claimed: Claimed,
        route: CompiledRoute,
        output: StoredOutput | None,
        events: list[Event],
        payload: tuple[bytes, str, str],
        trace: TurnTrace,
    ) -> None:
        self.trace = trace
        self.claimed = claimed
        self.route = route
        self.output = output
        self.events = events
        self.payload = payload
        self.results: list[tuple[Delivery, str, str, float | None, float]] = []


_SPENT = "not attempted: the turn spent its budget (worker.turn_budget_seconds)"


def _trace_of(message: Message) -> dict[str, str]:
    """A split part stays in its message's trace (tracing on): its turns are in it too."""
    traceparent = message.headers.get(TRACE_HEADER)
    return {TRACE_HEADER: traceparent} if traceparent else {}


def _stored(translation: Translation) -> StoredOutput:
    return StoredOutput(
        body=translation.body,
        content_type=translation.content_type,
        extension=translation.extension,
        mapping_name=translation.mapping_name,
        mapping_hash=translation.mapping_hash,
    )


def _finished(trace: TurnTrace, turn: Turn) -> None:
    """End the turn's span with its outcome (the store records it after the batch)."""
    error = turn.error
    trace.finished(
        turn.status.value, error.message if error else None, error.stage if error else None
    )


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
    if delivery.timeout is not None and delivery.timeout <= 0:
        return "retry", _SPENT, None
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


def _attempt_many(
    sinks: Sequence[Sink[Any] | None], deliveries: Sequence[Delivery]
) -> list[tuple[str, str, float | None]]:
    """(outcome, detail, retry-after hint) of each delivery; never raises.

    One sink instance takes them all at once through ``deliver_many`` when it overrides
    it; otherwise each goes through ``deliver`` as before.
    """
    first = sinks[0]
    together = (
        first is not None
        and len(deliveries) > 1
        and all(sink is first for sink in sinks)
        and type(first).deliver_many is not Sink.deliver_many
    )
    if not together or first is None:
        return [_attempt(sink, d) for sink, d in zip(sinks, deliveries, strict=True)]
    spent = [d.timeout is not None and d.timeout <= 0 for d in deliveries]
    if any(spent):
        return [_attempt(first, d) for d in deliveries]
    try:
        outcomes = first.deliver_many(deliveries)
    except Exception as exc:  # a connector bug must not lose the messages: retry them
        log.exception("sink %s raised an unexpected error", deliveries[0].sink)
        detail = redact(f"unexpected error in the connector: {exc!r}")
        return [("retry", detail, None)] * len(deliveries)
    if len(outcomes) != len(deliveries):
        detail = f"the connector answered {len(outcomes)} of {len(deliveries)} deliveries"
        return [("retry", detail, None)] * len(deliveries)
    results: list[tuple[str, str, float | None]] = []
    for outcome in outcomes:
        if isinstance(outcome, RetriableDeliveryError):
            results.append(("retry", redact(str(outcome)), outcome.retry_after))
        elif isinstance(outcome, HubError):
            results.append(("fatal", redact(str(outcome)), None))
        else:
            results.append(("delivered", redact(outcome.detail), None))
    return results


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
