"""One /metrics for several processes: what is added up, what stays the API process's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest

from hub.metrics import HubMetrics
from hub.metrics_merge import MergedCollector, Retired, read_snapshot, snapshot, write_snapshot
from hub.supervisor import backoff
from tests.integration.test_store_gauges import samples

ROUTE = (("route", "r"),)


def child(delivered: int, stuck: int = 0, routes: int = 1) -> HubMetrics:
    metrics = HubMetrics()
    metrics.delivered.labels("r").inc(delivered)
    for _ in range(delivered):
        metrics.processing.labels("r").observe(0.003)
    metrics.stuck_threads.set(stuck)
    metrics.config_loaded.set(routes)
    return metrics


def test_counters_histograms_and_per_process_gauges_are_added_up(tmp_path: Path) -> None:
    parent = child(0, stuck=0, routes=1)
    parent.received.labels("r").inc(7)
    files = []
    for n, metrics in enumerate([child(3, stuck=1), child(4, stuck=2)]):
        write_snapshot(tmp_path / f"{n}.json", metrics.registry)
        files.append(tmp_path / f"{n}.json")
    parent.children = lambda: [read_snapshot(path) for path in files]

    found = samples(parent.exposition())

    assert found[("hub_messages_delivered_total", ROUTE)] == 7
    assert found[("hub_messages_received_total", ROUTE)] == 7  # the parent's own
    assert found[("hub_processing_duration_seconds_count", ROUTE)] == 7
    assert found[("hub_processing_duration_seconds_bucket", (("le", "0.005"), *ROUTE))] == 7
    assert found[("hub_worker_threads_stuck", ())] == 3  # per process: a sum
    assert found[("hub_config_routes", ())] == 1  # the same everywhere: the parent's
    assert not [name for name, _ in found if name.endswith("_created")]


def test_a_label_set_only_a_child_has_is_shown(tmp_path: Path) -> None:
    parent = HubMetrics()
    other = HubMetrics()
    other.attempts.labels("r", "erp", "delivered").inc(2)
    parent.children = lambda: [snapshot(other.registry.collect())]
    key = (("outcome", "delivered"), ("route", "r"), ("sink", "erp"))
    assert samples(parent.exposition())[("hub_delivery_attempts_total", key)] == 2


def test_an_ended_child_keeps_its_counts_but_not_its_gauges() -> None:
    retired = Retired()
    retired.add(snapshot(child(5, stuck=4).registry.collect()))
    retired.add(snapshot(child(2).registry.collect()))
    parent = HubMetrics()
    parent.children = lambda: [retired.families()]
    found = samples(parent.exposition())
    assert found[("hub_messages_delivered_total", ROUTE)] == 7
    assert found[("hub_processing_duration_seconds_sum", ROUTE)] == pytest.approx(7 * 0.003)
    assert found[("hub_worker_threads_stuck", ())] == 0


def test_a_missing_or_torn_snapshot_is_no_series(tmp_path: Path) -> None:
    assert read_snapshot(tmp_path / "none.json") == []
    (tmp_path / "bad.json").write_text("[{", encoding="utf-8")
    assert read_snapshot(tmp_path / "bad.json") == []


def test_without_children_the_exposition_is_the_registry_alone() -> None:
    metrics = child(2)
    merged = generate_latest(MergedCollector(metrics.registry.collect, lambda: []))
    assert samples(metrics.exposition())[("hub_messages_delivered_total", ROUTE)] == 2
    assert samples(merged)[("hub_messages_delivered_total", ROUTE)] == 2


def test_restarts_back_off_doubling_up_to_a_ceiling() -> None:
    assert [backoff(n) for n in range(8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]


def test_a_snapshot_that_cannot_be_written_does_not_stop_the_worker(tmp_path: Path) -> None:
    assert not write_snapshot(tmp_path / "gone" / "worker.json", HubMetrics().registry)
    assert write_snapshot(tmp_path / "worker.json", HubMetrics().registry)
