"""Gauges read from the store when Prometheus scrapes: the backlog and the dead letters.

Counters say what this process did; these say where the store stands, whoever did it. So
every process on one store shows the same values: aggregate them with ``max by (route)``.
One GROUP BY query answers all of them, at most once per ``cache_seconds``, so a dashboard
refreshing often does not load the database. A scrape never fails because of the store:
``hub_store_up`` turns 0 and the other gauges are left out until it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.message import MessageStatus, utcnow
from hub.store import StatusCount, Store
from hub.store.queries import GAUGED, count_open_and_failed

__all__ = ["StoreGauges"]

log = logging.getLogger("hub.metrics")

_Snapshot = dict[tuple[str, MessageStatus], StatusCount]


class StoreGauges(Collector):
    """``hub_messages``, ``hub_oldest_undelivered_age_seconds``, ``hub_dead_letters`` and
    ``hub_store_up``, for the routes of the config only (the series count stays bounded)."""

    def __init__(
        self,
        store: Store,
        routes: Iterable[str],
        *,
        cache_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.routes = tuple(sorted(routes))
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._taken_at: float | None = None
        self._snapshot: _Snapshot | None = None
        self._was_up = True

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without values: registering the collector does not query the store."""
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._read()
        up, messages, oldest, dead = self._families()
        up.add_metric([], 1 if snapshot is not None else 0)
        yield up
        if snapshot is None:
            return
        now = utcnow()
        for route in self.routes:
            for status in GAUGED:
                row = snapshot.get((route, status))
                messages.add_metric([route, status.value], row.count if row else 0)
            dead_row = snapshot.get((route, MessageStatus.FAILED))
            dead.add_metric([route], dead_row.count if dead_row else 0)
            oldest.add_metric([route], _age(now, snapshot, route))
        yield messages
        yield oldest
        yield dead

    def _read(self) -> _Snapshot | None:
        """The cached snapshot, refreshed when older than ``cache_seconds``; None: store down."""
        with self._lock:
            now = self._clock()
            if self._taken_at is not None and now - self._taken_at < self.cache_seconds:
                return self._snapshot
            try:
                rows = count_open_and_failed(self.store)
            except Exception as exc:  # never into the scrape: report the store as down
                if self._was_up:
                    log.warning("metrics: cannot read the store's backlog: %s", exc)
                self._was_up = False
                self._snapshot = None
            else:
                if not self._was_up:
                    log.info("metrics: the store answers again")
                self._was_up = True
                wanted = set(self.routes)
                self._snapshot = {(r.route, r.status): r for r in rows if r.route in wanted}
            self._taken_at = now
            return self._snapshot

    @staticmethod
    def _families() -> tuple[
        GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily
    ]:
        return (
            GaugeMetricFamily(
                "hub_store_up",
                "1 if the store answered the last metrics query, else 0 (then the other store "
                "gauges are left out).",
            ),
            GaugeMetricFamily(
                "hub_messages",
                "Messages in the store by route and status: received, retrying (both waiting "
                "for delivery) and failed (dead letters).",
                labels=["route", "status"],
            ),
            GaugeMetricFamily(
                "hub_oldest_undelivered_age_seconds",
                "Age of the route's oldest message still waiting for delivery (received or "
                "retrying); 0 when none waits.",
                labels=["route"],
            ),
            GaugeMetricFamily(
                "hub_dead_letters",
                "Failed messages waiting for a person to replay or discard them.",
                labels=["route"],
            ),
        )


def _age(now: datetime, snapshot: _Snapshot, route: str) -> float:
    waiting = [
        row.oldest_received_at
        for status in (MessageStatus.RECEIVED, MessageStatus.RETRYING)
        if (row := snapshot.get((route, status))) is not None and row.oldest_received_at
    ]
    return max(0.0, (now - min(waiting)).total_seconds()) if waiting else 0.0
