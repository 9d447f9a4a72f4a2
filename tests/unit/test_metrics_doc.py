"""docs/metrics.md names every series the hub exports, with its type and labels, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from hub.gauges import StoreGauges
from hub.metrics import HubMetrics
from hub.partners.gauges import AckGauges
from hub.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ROW = re.compile(r"^\| `(hub_\w+)` \| (\w+) \| ([^|]+) \|")


def documented() -> dict[str, tuple[str, tuple[str, ...]]]:
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            name, kind, labels = match.groups()
            assert name not in rows, f"{name} is documented twice"
            rows[name] = (kind, tuple(re.findall(r"`(\w+)`", labels)))
    return rows


def exported() -> dict[str, tuple[str, tuple[str, ...]]]:
    series: dict[str, tuple[str, tuple[str, ...]]] = {}
    for metric in vars(HubMetrics()).values():
        if isinstance(metric, MetricWrapperBase):
            kind = metric._type
            name = f"{metric._name}_total" if kind == "counter" else metric._name
            series[name] = (kind, tuple(metric._labelnames))
    store = Store("sqlite://")
    try:
        for family in [*StoreGauges(store, ["r"]).describe(), *AckGauges(store, ["p"]).describe()]:
            series[family.name] = (family.type, tuple(family._labelnames))
    finally:
        store.close()
    return series


def test_every_exported_series_is_documented_with_its_type_and_labels() -> None:
    assert documented() == exported()


def test_every_series_in_the_registry_is_a_hub_metrics_attribute() -> None:
    """A series registered some other way would slip past the comparison above."""
    metrics = HubMetrics()
    registered = {family.name for family in metrics.registry.collect()}
    attributes = {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    assert registered == attributes
