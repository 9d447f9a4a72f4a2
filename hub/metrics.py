"""Every Prometheus series the hub exports, defined in one place.

Series are prefixed ``hub_``; counters end in ``_total``, durations in ``_seconds``;
labels are few and bounded (route, sink, stage, outcome, mapping). The gauges read from the
store at scrape time are in ``hub.gauges``; docs/metrics.md describes every series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from hub.metrics_merge import Family, MergedCollector

__all__ = ["HubMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class HubMetrics:
    """One registry per hub instance, so tests and several hubs in a process stay apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "hub_messages_received_total", "Messages accepted and stored.", ["route"], registry=r
        )
        self.rejected = Counter(
            "hub_ingest_rejected_total",
            "Requests refused at ingest, by reason.",
            ["route", "reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "hub_ingest_duplicates_total",
            "Submissions recognised by their idempotency key: the first message's id is returned.",
            ["route"],
            registry=r,
        )
        self.purged = Counter(
            "hub_messages_purged_total",
            "Finished messages deleted by the retention job.",
            registry=r,
        )
        self.payloads_dropped = Counter(
            "hub_payloads_dropped_total",
            "Bodies and outputs of finished messages dropped by retention (history kept).",
            registry=r,
        )
        self.delivered = Counter(
            "hub_messages_delivered_total",
            "Messages delivered to every sink.",
            ["route"],
            registry=r,
        )
        self.failed = Counter(
            "hub_messages_failed_total",
            "Messages moved to the dead letters, by the stage that failed.",
            ["route", "stage"],
            registry=r,
        )
        self.attempts = Counter(
            "hub_delivery_attempts_total",
            "Delivery attempts per sink, by outcome (delivered, retry, fatal).",
            ["route", "sink", "outcome"],
            registry=r,
        )
        self.processing = Histogram(
            "hub_processing_duration_seconds",
            "Time from claiming a message to the end of its processing turn.",
            ["route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.ingest = Histogram(
            "hub_ingest_duration_seconds",
            "Time to check and durably store one received message.",
            ["route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.polls = Counter(
            "hub_source_polls_total",
            "Runs of poll sources, by outcome (ok, empty, error, standby, unconfirmed).",
            ["route", "outcome"],
            registry=r,
        )
        self.polled_items = Counter(
            "hub_source_items_total",
            "Items poll sources found (repeats after a crash included).",
            ["route"],
            registry=r,
        )
        self.poll_success = Gauge(
            "hub_source_last_success_timestamp_seconds",
            "When a poll of the route last succeeded (Unix time), in this process.",
            ["route"],
            registry=r,
        )
        self.poll_failures = Gauge(
            "hub_source_consecutive_failures",
            "Failed polls of the route in a row, in this process (0 after a success).",
            ["route"],
            registry=r,
        )
        self.abandoned = Counter(
            "hub_turns_abandoned_total",
            "Worker turns given up on after running past worker.turn_budget_seconds.",
            ["route"],
            registry=r,
        )
        self.stuck_threads = Gauge(
            "hub_worker_threads_stuck",
            "Worker threads replaced after an abandoned turn that are still running.",
            registry=r,
        )
        self.worker_errors = Counter(
            "hub_worker_errors_total",
            "Worker turns that failed on the store or an internal error; the message is retried.",
            registry=r,
        )
        self.mapping_reloads = Counter(
            "hub_mapping_reloads_total",
            "Changed mapping files re-loaded while running, by outcome (applied, rejected) and "
            "reason (none; or invalid, schema, tests, error for a rejected file).",
            ["mapping", "outcome", "reason"],
            registry=r,
        )
        self.auth_failures = Counter(
            "hub_auth_failures_total",
            "Requests refused by authentication (401) or authorisation (403), by reason: "
            "missing, malformed, unknown, revoked, expired, scope; throttled (a console sign-in "
            "not checked: too many failures, or too many checks at once).",
            ["reason"],
            registry=r,
        )
        self.config_loaded = Gauge(
            "hub_config_routes", "Routes in the loaded configuration.", registry=r
        )
        self.worker_processes = Gauge(
            "hub_worker_processes",
            "Worker processes `hub run --workers N` supervises that are running (0 when the "
            "worker runs inside the API process).",
            registry=r,
        )
        self.worker_restarts = Counter(
            "hub_worker_restarts_total",
            "Supervised worker processes that ended without being asked to and were started again.",
            registry=r,
        )
        #: The series of this hub's other processes (``hub run --workers N``): merged into
        #: :meth:`exposition` (hub/metrics_merge.py).
        self.children: Callable[[], Iterable[list[Family]]] | None = None

    def exposition(self) -> bytes:
        """The text format, without the ``_created`` series of counters and histograms, with
        the series of the worker processes added in when there are any."""
        own = _WithoutCreated(self.registry)
        if self.children is None:
            return generate_latest(own)
        return generate_latest(MergedCollector(own.collect, self.children))


class _WithoutCreated(Collector):
    """A registry's families minus their ``_created`` samples.

    Each labelled counter or histogram would add a ``..._created`` series per label set:
    as many series again, which no alert uses. prometheus_client's own switch,
    ``disable_created_metrics()``, is process-wide (a module global); this filter keeps the
    choice with the hub's registry and leaves any other registry in the process alone.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self.registry.collect():
            kept = [s for s in family.samples if not s.name.endswith("_created")]
            if len(kept) != len(family.samples):
                family = _copy(family, kept)
            yield family


def _copy(family: Metric, samples: list[Sample]) -> Metric:
    copy = Metric(family.name, family.documentation, family.type, family.unit)
    copy.samples = samples
    return copy
