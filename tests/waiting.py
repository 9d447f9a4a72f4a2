"""Waiting for work in tests: on progress, never on a fixed clock.

A loaded machine makes work slower, not wrong. So a wait ends when the work is done, or
fails when nothing has moved for ``stall`` seconds, however long it has run in total.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long nothing may move before a test gives up (HUB_TEST_STALL_SECONDS overrides it).
STALL_SECONDS = float(os.environ.get("HUB_TEST_STALL_SECONDS", "120"))


class Stalled(AssertionError):
    """Nothing moved for the stall limit: the work is stuck, not slow."""


def wait_for_progress(
    observe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    stall: float | None = None,
    interval: float = 0.05,
) -> T:
    """Poll ``observe()`` until ``done`` holds for what it returns.

    Any change in the observed value counts as progress and restarts the stall clock; an
    unchanged value for ``stall`` seconds (default ``STALL_SECONDS``) raises
    :class:`Stalled`, naming ``what`` was awaited and the last value seen.
    """
    limit = STALL_SECONDS if stall is None else stall
    seen = observe()
    moved = time.monotonic()
    while not done(seen):
        time.sleep(interval)
        current = observe()
        if current != seen:
            seen, moved = current, time.monotonic()
        elif time.monotonic() - moved > limit:
            raise Stalled(f"{what}: nothing moved for {limit:g} s; last seen {current!r}")
    return seen
