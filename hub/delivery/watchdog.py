"""The worker's watchdog: keeps the leases of a working thread alive, and gives up on a
turn that runs past its budget.

A turn can stall in a call the hub cannot interrupt (a partner that trickles its answer one
byte at a time, a C library chewing on a document). Python cannot stop a thread, so the
watchdog stops *waiting* for it: it frees the message's lease (a late ``Store.finish`` from
the stuck thread can then no longer change the message's status), records why, and puts a
fresh thread in the stuck one's seat, so the worker keeps its number of threads. The stuck
thread is left to end on its own; ``hub_worker_threads_stuck`` counts those still running.
The turn's attempt was counted when it started, so a message that stalls every turn
becomes a poison dead letter after the route's ``retry.max_attempts``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from hub.errors import StoreError
from hub.message import utcnow
from hub.metrics import HubMetrics
from hub.store import Claimed, Store

if TYPE_CHECKING:
    from hub.pipeline.build import CompiledRoute

__all__ = ["RunningTurn", "Seat", "Watchdog"]

log = logging.getLogger("hub.worker")


class RunningTurn:
    """The turn a seat's thread is in: which message, since when (``time.monotonic()``)."""

    __slots__ = ("began", "claimed")

    def __init__(self, claimed: Claimed, began: float) -> None:
        self.claimed = claimed
        self.began = began


class Seat:
    """One worker thread's place: the lease holder name of the thread in it, the turn it
    runs and when its leases were last taken or extended.

    A seat whose thread the watchdog gave up on is *retired*: the thread stops after the
    call it is stuck in, and a new seat (same index, next generation, its own name so the
    stuck thread's leases are told apart) takes over.
    """

    def __init__(self, identity: str, index: int, generation: int = 0) -> None:
        self.identity = identity
        self.index = index
        self.generation = generation
        suffix = f".{generation}" if generation else ""
        self.name = f"{identity}/{index}{suffix}"
        self.thread: threading.Thread | None = None
        self.retired = threading.Event()
        self._lock = threading.Lock()
        self._turn: RunningTurn | None = None
        self._leased_at: float | None = None
        self._batch: tuple[str, ...] = ()

    def successor(self) -> Seat:
        return Seat(self.identity, self.index, self.generation + 1)

    def claimed(self, batch: Sequence[Claimed]) -> None:
        """The thread has just leased ``batch``."""
        with self._lock:
            self._batch = tuple(item.message.id for item in batch)
            self._leased_at = time.monotonic()

    def leased(self, at: float | None = None) -> None:
        """The thread's leases were extended at ``at`` (now)."""
        with self._lock:
            self._leased_at = time.monotonic() if at is None else at

    @contextmanager
    def turn(self, claimed: Claimed) -> Iterator[bool]:
        """Around one message's turn: yields False (do not run it) once retired."""
        with self._lock:
            if self.retired.is_set():
                running = False
            else:
                self._turn = RunningTurn(claimed, time.monotonic())
                running = True
        try:
            yield running
        finally:
            with self._lock:
                self._turn = None

    def started(self, claimed: Claimed) -> None:
        """The running turn's message, now with its attempt counted."""
        with self._lock:
            if self._turn is not None:
                self._turn.claimed = claimed

    def idle(self) -> None:
        """The thread holds no leases (its batch is done)."""
        with self._lock:
            self._leased_at = None
            self._batch = ()

    def state(self) -> tuple[RunningTurn | None, float | None, tuple[str, ...]]:
        """The running turn, when the leases were last taken or extended, the batch."""
        with self._lock:
            return self._turn, self._leased_at, self._batch

    def retire(self, turn: RunningTurn) -> bool:
        """Retire the seat if its thread is still in ``turn``; False if it has moved on."""
        with self._lock:
            if self._turn is not turn or self.retired.is_set():
                return False
            self.retired.set()
            return True


class Watchdog:
    """Looks at every seat a few times a second to once a second.

    - A seat in a batch whose leases were last extended more than a third of
      ``lease_seconds`` ago gets them extended, so a long turn within its budget keeps its
      message (no other worker takes it over and delivers it again meanwhile).
    - A turn running for more than ``budget`` plus a grace (a quarter of the budget, at
      most 5 s: the time for a turn that honoured its deadline to record itself) is
      abandoned, and ``replace`` puts a new thread in its seat.
    """

    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        *,
        budget: float,
        lease_seconds: float,
        seats: Callable[[], list[Seat]],
        replace: Callable[[Seat], None],
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.budget = budget
        self.lease_seconds = lease_seconds
        self._seats = seats
        self._replace = replace
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def grace(self) -> float:
        return min(5.0, self.budget / 4)

    @property
    def interval(self) -> float:
        return max(0.05, min(1.0, self.budget / 4, self.lease_seconds / 4))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # the watchdog must outlive any one failure
                log.exception("the worker's watchdog failed; it goes on")

    def check(self) -> None:
        """One look at every seat."""
        for seat in self._seats():
            if seat.retired.is_set():
                continue
            now = time.monotonic()
            turn, leased_at, batch = seat.state()
            if turn is not None and now - turn.began > self.budget + self.grace:
                if seat.retire(turn):
                    self._abandon(seat, turn, now - turn.began, batch)
            elif leased_at is not None and now - leased_at > self.lease_seconds / 3:
                try:
                    self.store.extend_leases(seat.name, batch, lease_seconds=self.lease_seconds)
                except StoreError as exc:
                    log.warning("worker %s: cannot extend its leases: %s", seat.name, exc)
                    continue
                seat.leased(now)

    def _abandon(self, seat: Seat, turn: RunningTurn, elapsed: float, batch: Sequence[str]) -> None:
        claimed = turn.claimed
        message, route_name = claimed.message, claimed.message.route
        self._replace(seat)  # first: the worker keeps its number of threads
        self.metrics.abandoned.labels(route_name).inc()
        detail = (
            f"abandoned after {elapsed:.0f} s: the turn ran past worker.turn_budget_seconds "
            f"({self.budget:g} s); worker {seat.name} was replaced"
        )
        log.error("message %s: turn %d %s", message.id, claimed.attempts, detail)
        retry_at = None
        route = self.routes.get(route_name)
        if route is not None:
            age = (utcnow() - message.received_at).total_seconds()
            delay = route.retry.delay(claimed.attempts, None, age)
            if delay is not None:
                retry_at = utcnow() + timedelta(seconds=delay)
        try:
            self.store.abandon(message.id, seat.name, detail=detail, retry_at=retry_at, batch=batch)
        except StoreError as exc:  # its lease is no longer extended: it lapses on its own
            log.error("message %s: cannot free the abandoned turn's lease: %s", message.id, exc)
