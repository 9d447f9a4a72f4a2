"""The long-lived objects a hub process builds at start, kept out of the cyclic GC's walks.

A hub process builds hundreds of thousands of objects once (config, routes, mappings,
SQLAlchemy, pydantic and FastAPI models) that live as long as the process. Every full
collection of Python's cyclic garbage collector walks all of them, for nothing: about 5%
of a busy worker's CPU. Collected once and frozen (``gc.freeze``) they are left out of
later collections. Only long-running processes call this (``hub run``, ``hub worker``):
objects frozen are never collected, so a process that builds many hubs (the tests) must not.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> int:
    """Collect what start-up left behind, then freeze every object still alive; returns
    how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
