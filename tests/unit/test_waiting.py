"""The tests' progress wait: it outlasts any fixed limit while work moves, and fails when
nothing moves."""

from __future__ import annotations

import time

import pytest

from tests.waiting import Stalled, wait_for_progress


def test_keeps_waiting_past_the_stall_limit_while_the_value_moves() -> None:
    calls = iter(range(1_000))
    started = time.monotonic()
    seen = wait_for_progress(
        lambda: next(calls), lambda n: n >= 40, what="forty", stall=0.1, interval=0.01
    )
    assert seen == 40
    assert time.monotonic() - started > 0.1  # longer in total than the stall limit


def test_stops_when_nothing_moves_for_the_stall_limit() -> None:
    started = time.monotonic()
    with pytest.raises(Stalled, match=r"the answer: nothing moved for 0\.2 s; last seen 41"):
        wait_for_progress(lambda: 41, lambda n: n == 42, what="the answer", stall=0.2)
    assert time.monotonic() - started >= 0.2


def test_returns_at_once_when_already_done() -> None:
    assert wait_for_progress(lambda: "ok", lambda v: v == "ok", what="ok", stall=0) == "ok"
