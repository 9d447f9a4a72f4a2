"""The console's sign-in throttle: failures per address and per name, in a window."""

from __future__ import annotations

import pytest

from hub.api.console import throttle as module
from hub.api.console.throttle import SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_locked_after_its_failures_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    throttle = SignInThrottle(failures=3, window=600, clock=clock)
    for step in range(3):
        assert throttle.refusal("10.0.0.1", None) is None
        throttle.failed("10.0.0.1", None)
        clock.now += 10 * (step + 1)  # failures at 1000, 1010, 1030; now 1060
    refusal = throttle.refusal("10.0.0.1", None)
    assert refusal is not None
    assert refusal.status == 429
    assert refusal.retry_after == 540  # the first failure leaves the window at 1600
    assert "from this address" in refusal.message
    assert "try again in 9 minutes" in refusal.message
    assert throttle.refusal("10.0.0.2", None) is None  # another address is not locked
    clock.now = 1600
    assert throttle.refusal("10.0.0.1", None) is None  # two failures left in the window
    throttle.failed("10.0.0.1", None)
    locked = throttle.refusal("10.0.0.1", None)
    assert locked is not None
    assert locked.retry_after == 10  # now the one at 1010 must leave (at 1610)


def test_a_name_is_locked_from_every_address_and_however_it_is_written() -> None:
    clock = Clock()
    throttle = SignInThrottle(failures=2, window=60, clock=clock)
    throttle.failed("10.0.0.1", "Dana")
    throttle.failed("10.0.0.2", "dana")
    refusal = throttle.refusal("10.0.0.3", "DANA")
    assert refusal is not None
    assert "for this user" in refusal.message
    assert throttle.refusal("10.0.0.3", "erin") is None
    assert throttle.refusal("10.0.0.3", None) is None  # a key sign-in from a third address
    throttle.succeeded("dana")  # the name's failures go, the addresses' stay
    assert throttle.refusal("10.0.0.3", "dana") is None
    throttle.failed("10.0.0.1", "erin")
    assert throttle.refusal("10.0.0.1", "frank") is not None  # 10.0.0.1 has failed twice


def test_no_more_checks_than_allowed_run_at_once() -> None:
    throttle = SignInThrottle(concurrent=2)
    with throttle.checking() as first, throttle.checking() as second:
        assert first is None
        assert second is None
        with throttle.checking() as third:
            assert third is not None
            assert third.status == 503
            assert third.retry_after == 1
    with throttle.checking() as again:  # the slots are given back
        assert again is None


def test_the_addresses_remembered_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_TRACKED", 5)
    throttle = SignInThrottle(failures=1, window=60, clock=Clock())
    for n in range(8):
        throttle.failed(f"10.0.0.{n}", None)
    assert throttle.refusal("10.0.0.0", None) is None  # the oldest were forgotten
    assert throttle.refusal("10.0.0.7", None) is not None


def test_a_long_name_is_remembered_short() -> None:
    throttle = SignInThrottle(failures=1, window=60, clock=Clock())
    throttle.failed(None, "x" * 60_000)
    assert max(len(key) for key in throttle._failed) < 100
    assert throttle.refusal(None, "X" * 60_000) is not None
