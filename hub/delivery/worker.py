"""Background worker threads: claim due messages from the store and process them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hub.config import WorkerConfig
from hub.delivery.processor import Processor
from hub.errors import StoreError
from hub.message import utcnow
from hub.metrics import HubMetrics
from hub.store import Store
from hub.store.notify import Listener

if TYPE_CHECKING:
    from hub.pipeline.build import CompiledRoute

__all__ = ["Worker", "holder_is_dead"]

log = logging.getLogger("hub.worker")


class Worker:
    """Polls the store and wakes early when ingest calls :meth:`wake`.

    Delivery happens here, never in the request that received the message, so
    ingest latency does not include a partner's response time.
    """

    def __init__(
        self,
        store: Store,
        routes: Mapping[str, CompiledRoute],
        metrics: HubMetrics,
        config: WorkerConfig,
    ) -> None:
        self.store = store
        self.routes = routes
        self.metrics = metrics
        self.config = config
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None  # PostgreSQL: woken by NOTIFY, not only polls

    def start(self) -> None:
        if self.store.is_postgres:
            self._listener = Listener(self.store.engine, self.wake)
            self._listener.start()
        freed = self.store.recover_leases(lambda holder: holder_is_dead(holder, self.identity))
        if freed:
            log.warning("recovered %d message(s) from crashed workers on this host", len(freed))
        for index in range(self.config.threads):
            thread = threading.Thread(
                target=self._run,
                args=(f"{self.identity}/{index}",),
                name=f"hub-worker-{index}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wake(self) -> None:
        self._wake.set()

    def run_once(self, worker: str | None = None) -> int:
        """Claim one batch and process it; returns how many messages were handled."""
        name = worker or f"{self.identity}/once"
        processor = Processor(self.store, self.routes, self.metrics, name)
        batch = self.store.claim(
            name, lease_seconds=self.config.lease_seconds, limit=self.config.batch_size
        )
        lease = self.config.lease_seconds
        for claimed in batch:
            if self._stop.is_set():
                break  # the lease expires and another turn picks the rest up
            held = (utcnow() - claimed.claimed_at).total_seconds()
            if held > lease / 2 and not self.store.renew(
                claimed.message.id, name, lease_seconds=lease
            ):
                continue  # a slow batch let the lease lapse and another worker has it
            processor.process(claimed)
        return len(batch)

    def _run(self, name: str) -> None:
        while not self._stop.is_set():
            try:
                handled = self.run_once(name)
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
