"""The gauges alerts need, read from the store at scrape time, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hub.gauges import StoreGauges
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import Store
from tests.configs import EXAMPLE_ORDER, demo_config, write_config


def samples(exposition: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a text exposition by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition.decode())
        for s in family.samples
    }


def order(number: str, *, valid: bool = True) -> InboundRequest:
    data = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    data.update(number=number, currency="EUR" if valid else "euro")
    return InboundRequest(route="shop-orders", body=json.dumps(data).encode())


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    config = demo_config(tmp_path, store_url=url, worker={"enabled": False})
    hub = Hub.from_file(write_config(tmp_path, config))
    yield hub
    hub.close()


def route(status: str | None = None) -> tuple[tuple[str, str], ...]:
    labels = {"route": "shop-orders"} | ({"status": status} if status else {})
    return tuple(sorted(labels.items()))


def test_backlog_and_dead_letters_by_route(hub: Hub) -> None:
    empty = samples(hub.metrics.exposition())
    assert empty["hub_store_up", ()] == 1
    for status in ("received", "retrying", "failed"):
        assert empty["hub_messages", route(status)] == 0  # present at 0: alerts see the route
    assert empty["hub_oldest_undelivered_age_seconds", route()] == 0
    assert empty["hub_dead_letters", route()] == 0

    for number, valid in (("1", True), ("2", False), ("3", True)):
        hub.ingestor.ingest(order(number, valid=valid))
    assert hub.worker.run_once() == 3  # 1 and 3 delivered, 2 dead-lettered
    hub.ingestor.ingest(order("4"))
    hub.ingestor.ingest(order("5"))  # 4 and 5 wait

    gauges = StoreGauges(hub.store, hub.routes, cache_seconds=0)
    now = samples(generate_latest(gauges))
    assert now["hub_messages", route("received")] == 2
    assert now["hub_messages", route("retrying")] == 0
    assert now["hub_messages", route("failed")] == 1
    assert now["hub_dead_letters", route()] == 1
    assert 0 < now["hub_oldest_undelivered_age_seconds", route()] < 600
    assert now["hub_store_up", ()] == 1
    assert {name for name, labels in now if ("route", "shop-orders") not in labels} == {
        "hub_store_up"
    }


def test_a_scrape_reads_the_store_once_per_cache_period(hub: Hub) -> None:
    clock = [100.0]
    gauges = StoreGauges(hub.store, hub.routes, cache_seconds=2, clock=lambda: clock[0])
    assert samples(generate_latest(gauges))["hub_messages", route("received")] == 0
    hub.ingestor.ingest(order("1"))
    clock[0] += 1.5
    assert samples(generate_latest(gauges))["hub_messages", route("received")] == 0  # cached
    clock[0] += 1.0
    assert samples(generate_latest(gauges))["hub_messages", route("received")] == 1


def test_only_configured_routes_are_series(hub: Hub) -> None:
    gauges = StoreGauges(hub.store, ["shop-orders"], cache_seconds=0)
    hub.ingestor.ingest(order("1"))
    only_other = StoreGauges(hub.store, ["invoices"], cache_seconds=0)
    labels = {dict(k[1]).get("route") for k in samples(generate_latest(only_other))}
    assert labels == {None, "invoices"}  # hub_store_up has no route; shop-orders is left out
    assert samples(generate_latest(gauges))["hub_messages", route("received")] == 1


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/none", "sqlite:///{tmp}/no-tables.db"],
    ids=["unreachable", "no-tables"],
)
def test_a_store_that_fails_is_store_up_0_not_a_failed_scrape(tmp_path: Path, url: str) -> None:
    store = Store(url.format(tmp=tmp_path))
    try:
        registry = CollectorRegistry()
        registry.register(StoreGauges(store, ["shop-orders"], cache_seconds=0))
        found = samples(generate_latest(registry))
        assert found == {("hub_store_up", ()): 0.0}
    finally:
        store.close()


def test_created_series_are_left_out_of_the_hub_registry_only(hub: Hub) -> None:
    hub.ingestor.ingest(order("1"))
    exposition = hub.metrics.exposition().decode()
    assert "hub_messages_received_total" in exposition
    assert "_created" not in exposition
    other = CollectorRegistry()
    Counter("elsewhere_total", "Another library's counter.", registry=other).inc()
    assert "elsewhere_created" in generate_latest(other).decode()  # the process is untouched
