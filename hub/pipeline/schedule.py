"""The hub's poll scheduler: an APScheduler job per polled route, with backoff on failure.

A failed poll never stops the hub. It is recorded (``GET /sources``, the metrics, the
log) and tried again after a backoff that doubles with each failure in a row, up to the
route's ``max_backoff_seconds``, and no sooner than the peer's own ``Retry-After``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.errors import HubError, RetriableSourceError, StoreError
from hub.message import utcnow
from hub.pipeline.poll import Poller, PollOutcome

__all__ = ["PollScheduler", "backoff_seconds"]

log = logging.getLogger("hub.poll")


def backoff_seconds(failures: int, ceiling: float, retry_after: float | None = None) -> float:
    """1 s, 2 s, 4 s ... after 1, 2, 3 ... failures in a row, at most ``ceiling``."""
    wait = min(ceiling, 2.0 ** max(0, failures - 1))
    return max(wait, retry_after or 0.0)


class PollScheduler:
    """Runs every polled route's :class:`Poller` on its schedule, one run at a time each."""

    def __init__(self, pollers: Iterable[Poller]) -> None:
        self.pollers = {p.route.name: p for p in pollers}
        self._scheduler: Any = None
        self._not_before: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._scheduler is not None or not self.pollers:
            return
        scheduler = BackgroundScheduler(
            daemon=True,
            timezone="UTC",
            executors={"default": {"type": "threadpool", "max_workers": 4}},
        )
        for name, poller in self.pollers.items():
            schedule = poller.schedule
            trigger: Any = (
                CronTrigger.from_crontab(schedule.cron, timezone="UTC")
                if schedule.cron is not None
                else IntervalTrigger(seconds=schedule.every, timezone="UTC")
            )
            scheduler.add_job(
                self.run,
                trigger,
                args=[name],
                id=f"poll-{name}",
                next_run_time=utcnow(),  # a first look at start, then on schedule
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is None:
            return
        self._scheduler.shutdown(wait=True)
        self._scheduler = None
        for name, poller in self.pollers.items():
            try:
                poller.states.release(name, poller.holder)
            except StoreError as exc:
                log.warning("route %s: could not give the poll lease back: %s", name, exc)

    def run(self, name: str) -> PollOutcome | None:
        """One scheduled run of a route; never raises (a failure is recorded and retried)."""
        poller = self.pollers[name]
        with self._lock:
            if time.monotonic() < self._not_before.get(name, 0.0):
                return None  # backing off after failures: the retry job runs it
        try:
            outcome = poller.run_once()
        except HubError as exc:
            self._failed(poller, exc)
            return None
        except Exception as exc:  # a third-party source may raise anything
            log.exception("route %s: the poll source failed unexpectedly", name)
            self._failed(poller, HubError(f"{type(exc).__name__}: {exc}"))
            return None
        with self._lock:
            self._failures[name] = 0
            self._not_before.pop(name, None)
        poller.metrics.poll_failures.labels(name).set(0)
        return outcome

    def _failed(self, poller: Poller, exc: HubError) -> None:
        name = poller.route.name
        poller.metrics.polls.labels(name, "error").inc()
        try:
            failures = poller.states.failed(name, poller.holder, exc)
        except StoreError as store_exc:
            log.warning("route %s: could not record the failed poll: %s", name, store_exc)
            failures = self._failures.get(name, 0) + 1
        retry_after = exc.retry_after if isinstance(exc, RetriableSourceError) else None
        wait = backoff_seconds(failures, poller.schedule.max_backoff_seconds, retry_after)
        with self._lock:
            self._failures[name] = failures
            self._not_before[name] = time.monotonic() + wait
        poller.metrics.poll_failures.labels(name).set(failures)
        log.warning(
            "route %s: poll failed (%d in a row), next try in %.0f s: %s",
            name,
            failures,
            wait,
            exc.message,
            extra={"route": name},
        )
        if self._scheduler is not None:
            self._scheduler.add_job(
                self._retry,
                "date",
                run_date=utcnow() + timedelta(seconds=wait),
                args=[name],
                id=f"poll-retry-{name}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    def _retry(self, name: str) -> None:
        with self._lock:
            self._not_before.pop(name, None)
        self.run(name)
