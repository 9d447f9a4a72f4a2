"""One ``/metrics`` for a hub of several processes: the worker children's series merged in.

``hub run --workers N`` delivers in N child processes, each with its own counters. A child
writes a snapshot of its series to a file of its own (atomically, about once a second and when
it stops); the API process reads them at scrape time and adds them to its own:

- counters and histograms (every bucket, ``_sum`` and ``_count``) are added up per label set;
- the gauges in :data:`SUMMED_GAUGES` (per-process quantities) are added up too; every other
  gauge is the API process's own (the store's backlog, the routes loaded: the same in every
  process, so a sum would be wrong);
- when a child ends, its last counters and histograms are kept (:class:`Retired`) and added to
  every later scrape, so a restarted child does not make a total go backwards.

prometheus_client's own multiprocess mode was not used: it is switched on for the whole
process by an environment variable before the library is imported, and it drops the hub's
scrape-time collectors (the store gauges) and callback gauges (stuck threads).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.samples import Sample

__all__ = [
    "SUMMED_GAUGES",
    "Family",
    "MergedCollector",
    "Retired",
    "read_snapshot",
    "remove_snapshot",
    "snapshot",
    "write_snapshot",
]

log = logging.getLogger("hub.metrics")

#: Gauges that count something per process, so a hub's value is the sum over its processes.
SUMMED_GAUGES = frozenset({"hub_worker_threads_stuck"})

#: One family as a snapshot holds it: name, type, help and [sample name, labels, value] rows.
Family = dict[str, Any]
_Key = tuple[str, tuple[tuple[str, str], ...]]


def _additive(family: Family | Metric) -> bool:
    kind = family["type"] if isinstance(family, dict) else family.type
    name = family["name"] if isinstance(family, dict) else family.name
    return kind in ("counter", "histogram") or (kind == "gauge" and name in SUMMED_GAUGES)


def snapshot(families: Iterable[Metric]) -> list[Family]:
    """The additive families among ``families`` (no ``_created`` samples), JSON-ready."""
    taken: list[Family] = []
    for family in families:
        if not _additive(family):
            continue
        samples = [
            [s.name, dict(s.labels), s.value]
            for s in family.samples
            if not s.name.endswith("_created")
        ]
        taken.append(
            {
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "samples": samples,
            }
        )
    return taken


def write_snapshot(path: Path, registry: CollectorRegistry) -> bool:
    """Replace ``path`` with the registry's additive series: a reader sees all or none.

    False when it cannot be written (the folder is gone with a parent that died): delivery
    goes on, only the counts are not passed on.
    """
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(json.dumps(snapshot(registry.collect())), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("cannot write the metrics snapshot %s: %s", path, exc)
        return False
    return True


def remove_snapshot(path: Path) -> None:
    """A child whose parent died cleans up: its file, and the folder if it was the last."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: another child's file is still there
        path.parent.rmdir()


def read_snapshot(path: Path) -> list[Family]:
    """A child's last snapshot; empty when it has not written one yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):  # never into the scrape; the next write replaces it
        return []
    return data if isinstance(data, list) else []


def _key(name: str, labels: dict[str, str]) -> _Key:
    return name, tuple(sorted(labels.items()))


class Retired:
    """The counters and histograms of children that have ended, added up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: dict[str, Family] = {}
        self._values: dict[str, dict[_Key, float]] = {}

    def add(self, families: list[Family]) -> None:
        with self._lock:
            for family in families:
                if family["type"] not in ("counter", "histogram"):
                    continue  # a gauge of a process that is gone says nothing any more
                name = family["name"]
                self._families.setdefault(name, {**family, "samples": []})
                values = self._values.setdefault(name, {})
                for sample, labels, value in family["samples"]:
                    key = _key(sample, labels)
                    values[key] = values.get(key, 0.0) + float(value)

    def families(self) -> list[Family]:
        with self._lock:
            return [
                {
                    **family,
                    "samples": [
                        [sample, dict(labels), value]
                        for (sample, labels), value in self._values[name].items()
                    ],
                }
                for name, family in self._families.items()
            ]


class MergedCollector(Collector):
    """``own`` families with the additive series of ``others`` added in (see the module)."""

    def __init__(
        self, own: Callable[[], Iterable[Metric]], others: Callable[[], Iterable[list[Family]]]
    ) -> None:
        self.own = own
        self.others = others

    def collect(self) -> Iterator[Metric]:
        extra: dict[str, list[Family]] = {}
        for families in self.others():
            for family in families:
                if _additive(family):
                    extra.setdefault(family["name"], []).append(family)
        for own in self.own():
            yield _merged(own, extra.pop(own.name, [])) if _additive(own) else own
        for parts in extra.values():  # a series no label set of this process has yet
            first = parts[0]
            yield _merged(Metric(first["name"], first["help"], first["type"]), parts)


def _merged(family: Metric, parts: list[Family]) -> Metric:
    if not parts:
        return family
    values: dict[_Key, float] = {}
    order: list[_Key] = []
    for sample in family.samples:
        key = _key(sample.name, sample.labels)
        if key not in values:
            order.append(key)
            values[key] = 0.0
        values[key] += sample.value
    for part in parts:
        for name, labels, value in part["samples"]:
            key = _key(name, labels)
            if key not in values:
                order.append(key)
                values[key] = 0.0
            values[key] += float(value)
    merged = Metric(family.name, family.documentation, family.type, family.unit)
    merged.samples = [Sample(name, dict(labels), values[(name, labels)]) for name, labels in order]
    return merged
