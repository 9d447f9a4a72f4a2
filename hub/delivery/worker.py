"""Background worker threads: claim due messages from the store and process them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING

from hub.config import WorkerConfig
from hub.delivery.processor import Processor
from hub.delivery.watchdog import Seat, Watchdog
from hub.errors import StoreError
from hub.metrics import HubMetrics
from hub.store import Store
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

        The claim starts the first message's turn; each later one is started when its turn
        comes (``Processor.start``), which also extends its lease.
        """
        name = seat.name if seat is not None else worker or f"{self.identity}/once"
        processor = Processor(
            self.store,
            self.routes,
            self.metrics,
            name,
            lease_seconds=self.config.lease_seconds,
            budget=self.config.turn_budget_seconds,
            tracing=self.tracing,
        )
        batch = self.store.claim(
            name,
            lease_seconds=self.config.lease_seconds,
            limit=self.config.batch_size,
            max_attempts=processor.max_attempts(),
        )
        if seat is not None and batch:
            seat.claimed(batch)
        try:
            for claimed in batch:
                if self._stop.is_set():
                    break  # the leases expire and another turn picks the rest up
                with seat.turn(claimed) if seat is not None else nullcontext(True) as running:
                    if not running:
                        break  # the watchdog gave up on this thread and freed its leases
                    started = processor.start(claimed)
                    if started is None:
                        continue  # a slow batch let the lease lapse and another worker has it
                    if seat is not None:
                        seat.started(started)
                        seat.leased()
                    processor.process(started)
        finally:
            if seat is not None:
                seat.idle()
        return len(batch)

    def _run(self, seat: Seat) -> None:
        name = seat.name
        while not self._stop.is_set() and not seat.retired.is_set():
            try:
                handled = self.run_once(seat=seat)
            except StoreError as exc:
                self.metrics.worker_errors.inc()
                log.warning("worker %s: %s; retrying", name, exc)
                handled = 0
            except Exception:
                self.metrics.worker_errors.inc()
                log.exception("worker %s: unexpected error; the message stays in the store", name)
                handled = 0
            if handled == 0:
                self._wake.wait(self.config.poll_interval_seconds)
                self._wake.clear()


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
