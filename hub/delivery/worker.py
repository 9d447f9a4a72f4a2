"""Background worker threads: claim due messages from the store and process them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hub.config import WorkerConfig
from hub.delivery.processor import Processor, TurnGuard
from hub.delivery.watchdog import Seat, Watchdog
from hub.errors import StoreError
from hub.metrics import HubMetrics
from hub.store import Claimed, Store
from hub.store.notify import Listener
from hub.tracing import NoTracing, Tracing

if TYPE_CHECKING:
    from hub.pipeline.build import CompiledRoute

__all__ = ["Worker", "holder_is_dead"]

log = logging.getLogger("hub.worker")


class Worker:
    """Polls the store and wakes early when ingest calls :meth:`wake`.

    Delivery happens here, never in the request that received the message, so
    ingest latency does not include a partner's response time. Each thread sits in a
    :class:`Seat`; the :class:`Watchdog` keeps a long turn's leases alive and replaces a
    thread whose turn runs past ``worker.turn_budget_seconds``.
    """

    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        config: WorkerConfig,
        tracing: Tracing | None = None,
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.config = config
        self.tracing: Tracing = tracing or NoTracing()
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seats: list[Seat] = []
        self._stuck: list[Seat] = []  # retired seats whose thread had not ended when last seen
        self._listener: Listener | None = None  # PostgreSQL: woken by NOTIFY, not only polls
        self.watchdog = Watchdog(
            store,
            routes,
            metrics,
            budget=config.turn_budget_seconds,
            lease_seconds=config.lease_seconds,
            seats=self.seats,
            replace=self._replace,
        )
        metrics.stuck_threads.set_function(self.stuck_threads)

    def start(self) -> None:
        if self.store.is_postgres:
            self._listener = Listener(self.store.engine, self.wake)
            self._listener.start()
        freed = self.store.recover_leases(lambda holder: holder_is_dead(holder, self.identity))
        if freed:
            log.warning("recovered %d message(s) from crashed workers on this host", len(freed))
        self._stop.clear()
        with self._lock:
            for index in range(self.config.threads):
                self._seats.append(self._seat(Seat(self.identity, index)))
        self.watchdog.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self.watchdog.stop()
        self._stop.set()
        self._wake.set()
        with self._lock:
            seats, self._seats = self._seats, []
        for seat in seats:  # a stuck thread, retired, is not waited for
            if seat.thread is not None:
                seat.thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def seats(self) -> list[Seat]:
        with self._lock:
            return list(self._seats)

    def stuck_threads(self) -> int:
        """Threads the watchdog gave up on that are still running (stuck in a call)."""
        with self._lock:
            self._stuck = [s for s in self._stuck if s.thread is not None and s.thread.is_alive()]
            return len(self._stuck)

    def _seat(self, seat: Seat) -> Seat:
        seat.thread = threading.Thread(
            target=self._run,
            args=(seat,),
            name=f"hub-worker-{seat.index}" + (f".{seat.generation}" if seat.generation else ""),
            daemon=True,
        )
        seat.thread.start()
        return seat

    def _replace(self, retired: Seat) -> None:
        """Put a new thread in a retired seat's place (not once the worker is stopping)."""
        with self._lock:
            if self._stop.is_set() or retired not in self._seats:
                return
            self._stuck.append(retired)
            self._seats[self._seats.index(retired)] = self._seat(retired.successor())

    def run_once(self, worker: str | None = None, seat: Seat | None = None) -> int:
        """Claim one batch and process it; returns how many messages were handled.

        The claim starts every message's turn; the batch is translated, handed to its
        sinks and then recorded in one transaction (``Store.finish_many``).
        """
        processor = self._processor(seat, worker)
        batch = self._claim(processor)
        self._cycle(processor, seat, batch, claim_next=False)
        return len(batch)

    def _processor(self, seat: Seat | None, worker: str | None = None) -> Processor:
        name = seat.name if seat is not None else worker or f"{self.identity}/once"
        return Processor(
            self.store,
            self.routes,
            self.metrics,
            name,
            lease_seconds=self.config.lease_seconds,
            budget=self.config.turn_budget_seconds,
            tracing=self.tracing,
        )

    def _claim(self, processor: Processor) -> list[Claimed]:
        return self.store.claim(
            processor.worker,
            lease_seconds=self.config.lease_seconds,
            limit=self.config.batch_size,
            max_attempts=processor.max_attempts(),
        )

    def _cycle(
        self, processor: Processor, seat: Seat | None, batch: list[Claimed], *, claim_next: bool
    ) -> list[Claimed]:
        """Run ``batch`` and record it; with ``claim_next`` (and unless the worker is
        stopping or the seat was given up on) claim the next batch in the same
        transaction, and return it."""
        if not batch:
            return []
        if seat is not None:
            seat.claimed(batch)
        following: list[Claimed] = []
        untouched: list[Claimed] = []
        try:
            outcomes = processor.run_batch(batch, self._guard(seat), untouched)
            going_on = claim_next and not self._stop.is_set()
            if going_on and (seat is None or not seat.retired.is_set()):
                following = processor.record_and_claim(outcomes, self.config.batch_size)
            else:
                processor.record(outcomes)  # one transaction for the batch
            if untouched and self._stop.is_set() and (seat is None or not seat.retired.is_set()):
                # stopping: what no sink was tried for goes back as if never claimed
                self.store.release(processor.worker, [c.message.id for c in untouched])
        finally:
            if seat is not None:
                seat.idle()
        return following

    def _guard(self, seat: Seat | None) -> TurnGuard:
        """Each step of a turn runs in ``seat`` (the watchdog's view of the thread); once
        the worker stops, or the watchdog gave up on the thread, no further step starts
        (the leases expire, or were freed, and another turn picks the rest up)."""

        @contextmanager
        def guard(claimed: Claimed) -> Iterator[bool]:
            if self._stop.is_set():
                yield False
                return
            if seat is None:
                yield True
                return
            with seat.turn(claimed) as running:
                yield running

        return guard

    def _run(self, seat: Seat) -> None:
        name = seat.name
        processor = self._processor(seat)
        batch: list[Claimed] = []
        while not self._stop.is_set() and not seat.retired.is_set():
            try:
                if not batch:
                    batch = self._claim(processor)
                handled = len(batch)
                batch = self._cycle(processor, seat, batch, claim_next=True)
            except StoreError as exc:
                self.metrics.worker_errors.inc()
                log.warning("worker %s: %s; retrying", name, exc)
                handled, batch = 0, []
            except Exception:
                self.metrics.worker_errors.inc()
                log.exception("worker %s: unexpected error; the message stays in the store", name)
                handled, batch = 0, []
            if handled == 0:
                self._wake.wait(self.config.poll_interval_seconds)
                self._wake.clear()
        if batch:  # claimed while the worker was told to stop: give it back unbegun
            try:
                self.store.release(name, [claimed.message.id for claimed in batch])
            except StoreError as exc:
                log.warning("worker %s: cannot give back its next batch: %s", name, exc)


def holder_is_dead(holder: str, identity: str) -> bool:
    """Is the lease holder ``host:pid:tag/n`` a process on this host that is gone?

    Other hosts are never judged: their leases expire on their own.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit() or holder.startswith(identity):
        return False
    if int(pid_text) == os.getpid():
        return True  # our pid but not our identity: an earlier life (a container's PID 1)
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False
