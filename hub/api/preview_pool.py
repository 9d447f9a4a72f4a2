"""Where ``POST /preview`` runs: threads of its own, a few at a time, cancelled on shutdown.

A preview runs submitted text on a submitted input. It must not take the threads ingest
uses (Starlette's shared pool), must not queue without end, and must not hold the process
when it stops. So each preview gets a daemon thread of its own, at most ``workers`` run at
once (one more is refused at once: 503 with ``Retry-After``), and :meth:`PreviewPool.stop`
sets every running preview's cancel flag: the mapping run ends at its next budget check
(:class:`hub.mapping.limits.Budget`), within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from hub.mapping.limits import Cancel

__all__ = ["PreviewBusy", "PreviewPool", "PreviewStopped"]

log = logging.getLogger("hub.api")

T = TypeVar("T")


class PreviewBusy(Exception):
    """Every preview slot is taken."""


class PreviewStopped(Exception):
    """The hub is stopping: no new previews, and running ones were cancelled."""


class PreviewPool:
    """At most ``workers`` previews at once, each on a daemon thread with a cancel flag."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._running: dict[threading.Thread, threading.Event] = {}
        self._stopping = threading.Event()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    async def run(self, work: Callable[[Cancel], T]) -> T:
        """``work(cancel)`` on a thread of its own; its result, or its exception.

        Raises :class:`PreviewBusy` when every slot is taken and :class:`PreviewStopped`
        when the hub is stopping (before or while ``work`` runs).
        """
        if self._stopping.is_set():
            raise PreviewStopped()
        if not self._slots.acquire(blocking=False):
            raise PreviewBusy()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        cancel = threading.Event()

        def target() -> None:
            try:
                result = work(cancel)
            except BaseException as exc:  # handed to the request, which answers for it
                _deliver(loop, done, None, exc)
            else:
                _deliver(loop, done, result, None)
            finally:
                with self._lock:
                    self._running.pop(threading.current_thread(), None)
                self._slots.release()

        thread = threading.Thread(target=target, name="hub-preview", daemon=True)
        with self._lock:
            self._running[thread] = cancel
        try:
            thread.start()
        except BaseException:
            with self._lock:
                self._running.pop(thread, None)
            self._slots.release()
            raise
        try:
            result = await done
        except asyncio.CancelledError:  # the client went away: stop the run too
            cancel.set()
            raise
        except Exception:
            if cancel.is_set() and self._stopping.is_set():
                raise PreviewStopped() from None
            raise
        return result

    def stop(self) -> None:
        """Refuse new previews and cancel the running ones (they end at their next check)."""
        self._stopping.set()
        with self._lock:
            flags = list(self._running.values())
        for flag in flags:
            flag.set()
        if flags:
            log.info("stopping: cancelled %d running preview(s)", len(flags))

    def close(self, timeout: float = 5.0) -> None:
        """:meth:`stop`, then wait at most ``timeout`` seconds for the threads to end."""
        self.stop()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._running)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [t for t in threads if t.is_alive()]
        if left:  # daemon threads: they cannot hold the process when it exits
            log.warning("%d preview thread(s) still running at shutdown", len(left))


def _deliver(
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if done.done():  # the request was cancelled meanwhile
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this answer
        loop.call_soon_threadsafe(settle)
