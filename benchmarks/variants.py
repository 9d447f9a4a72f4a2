"""The end-to-end runs of ``python -m benchmarks``: where the hub's worker runs, and how."""

from __future__ import annotations

from typing import Any

__all__ = ["HUB_VARIANTS"]

#: The hub's end-to-end runs: (report key, label, overrides of the example's ``worker``).
#: The first is the example config as it is (one supervised worker process, one thread,
#: batches of 100, nice 0); the others say every key they set, so they stay the same runs
#: when the example changes (docs/benchmarks.md, "Where the worker runs").
_OWN = {"own_process": True, "processes": 1, "threads": 1}
HUB_VARIANTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("hub", "hub (shop-orders)", {}),
    (
        "hub_inside",
        "hub, worker inside, 2 thr",
        {"own_process": False, "processes": 1, "threads": 2, "nice": 0, "batch_size": 20},
    ),
    ("hub_1p_t1", "hub, 1 proc x1 thr, nice 10", {**_OWN, "nice": 10, "batch_size": 20}),
    ("hub_1p_t1_b100", "hub, same, batch 100", {**_OWN, "nice": 10, "batch_size": 100}),
    (
        "hub_2p_nice",
        "hub, 2 procs, nice 10",
        {"processes": 2, "threads": 2, "nice": 10, "batch_size": 20},
    ),
    ("hub_2p", "hub, 2 procs, nice 0", {"processes": 2, "threads": 2, "nice": 0, "batch_size": 20}),
)
