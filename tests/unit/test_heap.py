"""hub run and hub worker take their start-up objects out of the cyclic GC's walks."""

from __future__ import annotations

import gc

from hub.heap import freeze_startup_objects


def test_start_up_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    try:
        frozen = freeze_startup_objects()
        # Not equal to gc.get_freeze_count() later: a frozen object that another thread
        # lets go of (reference count zero) leaves the permanent generation at once.
        assert frozen > 1000
        assert gc.get_freeze_count() > frozen // 2
        assert gc.isenabled()

        class Cycle:
            other: object = None

        first, second = Cycle(), Cycle()
        first.other, second.other = second, first  # a cycle made after the freeze
        before = len(gc.get_objects())
        del first, second
        assert gc.collect() >= 2  # found and collected: the freeze does not cover it
        assert len(gc.get_objects()) <= before
    finally:
        gc.unfreeze()  # this test process builds many hubs: leave it as it was
