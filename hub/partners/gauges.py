"""``hub_acks_awaiting`` and ``hub_acks_overdue``: outbound interchanges whose partner owes an
acknowledgement, read from the store at scrape time (so every process shows the same)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.errors import StoreError
from hub.store import Store
from hub.store.interchanges import awaiting_by_partner

__all__ = ["AckGauges"]

log = logging.getLogger("hub.metrics")


class AckGauges(Collector):
    """Per partner of the config (a bounded label set)."""

    def __init__(self, store: Store, partners: Iterable[str]) -> None:
        self.store = store
        self.partners = tuple(sorted(partners))

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        awaiting, overdue = self._families()
        try:
            with self.store.transaction() as session:
                counts = awaiting_by_partner(session)
        except StoreError as exc:  # a scrape never fails because of the store
            log.warning("acknowledgement gauges unavailable: %s", exc.message)
            return
        for partner in self.partners:
            waiting, late = counts.get(partner, (0, 0))
            awaiting.add_metric([partner], waiting)
            overdue.add_metric([partner], late)
        yield awaiting
        yield overdue

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "hub_acks_awaiting",
                "Interchanges delivered to a partner whose acknowledgement has not arrived.",
                labels=["partner"],
            ),
            GaugeMetricFamily(
                "hub_acks_overdue",
                "Interchanges whose acknowledgement is past the partner's "
                "acknowledgements.expect_within_hours.",
                labels=["partner"],
            ),
        )
