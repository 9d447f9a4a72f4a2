"""The retention job: an APScheduler interval job purging finished messages.

With ``store.retention.payload_days`` it first drops the payloads (body and output: the
personal data) of finished messages older than that, keeping their status and history.
Dead letters are never purged and keep their payload: they wait for a person. Running the
job in several processes at once is harmless; each delete finds what the others left.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from hub.config.models import RetentionConfig
from hub.errors import StoreError
from hub.message import utcnow
from hub.metrics import HubMetrics
from hub.store import Store
from hub.store.payloads import drop_payloads

__all__ = ["RetentionJob"]

log = logging.getLogger("hub.retention")


class RetentionJob:
    def __init__(self, store: Store, config: RetentionConfig, metrics: HubMetrics) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        self._scheduler: Any = None

    def run_once(self) -> int:
        """Purge now; returns how many messages were deleted."""
        cutoff = utcnow() - timedelta(days=self.config.finished_days)
        purged = self.store.purge(cutoff)
        self.metrics.purged.inc(purged)
        if purged:
            log.info("purged %d finished message(s) older than %s", purged, cutoff.isoformat())
        return purged

    def drop_payloads_once(self) -> int:
        """Drop old payloads now (with ``payload_days``); returns how many were dropped."""
        if self.config.payload_days is None:
            return 0
        cutoff = utcnow() - timedelta(days=self.config.payload_days)
        dropped = drop_payloads(self.store, cutoff)
        self.metrics.payloads_dropped.inc(dropped)
        if dropped:
            log.info(
                "dropped the payloads of %d finished message(s) older than %s",
                dropped,
                cutoff.isoformat(),
            )
        return dropped

    def _turn(self) -> None:
        try:
            self.drop_payloads_once()
            self.run_once()
        except StoreError as exc:
            log.warning("retention: %s; trying again at the next run", exc)

    def start(self) -> None:
        if not self.config.enabled or self._scheduler is not None:
            return
        scheduler = BackgroundScheduler(daemon=True, timezone="UTC")
        scheduler.add_job(
            self._turn,
            "interval",
            seconds=self.config.interval_seconds,
            id="hub-retention",
            next_run_time=utcnow() + timedelta(seconds=5),
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
