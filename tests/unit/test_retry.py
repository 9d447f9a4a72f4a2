"""hub.delivery.retry.RetryPolicy: backoff that grows, is capped, jitters and gives up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.config import RetryConfig
from hub.delivery.retry import RetryPolicy


def no_jitter(**kwargs: float) -> RetryPolicy:
    return RetryPolicy(jitter=0.0, **kwargs)  # type: ignore[arg-type]


def test_delays_grow_exponentially() -> None:
    policy = no_jitter(initial_delay=1.0, multiplier=2.0, max_delay=1000.0, max_attempts=10)
    assert [policy.delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]


def test_zero_attempts_waits_the_initial_delay() -> None:
    assert no_jitter(initial_delay=3.0).delay(0) == 3.0


def test_delays_are_capped_at_max_delay() -> None:
    policy = no_jitter(initial_delay=1.0, multiplier=3.0, max_delay=30.0, max_attempts=20)
    delays = [policy.delay(n) for n in range(1, 15)]
    assert delays[:4] == [1.0, 3.0, 9.0, 27.0]
    assert set(delays[4:]) == {30.0}


def test_multiplier_one_is_a_constant_delay() -> None:
    policy = no_jitter(initial_delay=5.0, multiplier=1.0)
    assert {policy.delay(n) for n in range(1, 8)} == {5.0}


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay(1) is not None
    assert policy.delay(2) is not None
    assert policy.delay(3) is None
    assert policy.delay(4) is None
    assert policy.delay(3, retry_after=5.0) is None


def test_max_attempts_one_never_retries() -> None:
    assert RetryPolicy(max_attempts=1).delay(1) is None


def test_jitter_stays_within_its_bounds() -> None:
    policy = RetryPolicy(initial_delay=10.0, multiplier=2.0, jitter=0.2, max_delay=1000.0)
    delays = [policy.delay(2) for _ in range(2000)]
    assert all(d is not None and 16.0 <= d <= 24.0 for d in delays)
    assert len(set(delays)) > 100  # it does jitter
    assert min(d for d in delays if d is not None) < 17.0
    assert max(d for d in delays if d is not None) > 23.0


@given(
    attempts=st.integers(0, 60),
    initial=st.floats(0, 100),
    multiplier=st.floats(1, 10),
    max_delay=st.floats(0, 3600),
    jitter=st.floats(0, 1),
)
def test_delay_is_never_negative_and_without_jitter_never_above_max_delay(
    attempts: int, initial: float, multiplier: float, max_delay: float, jitter: float
) -> None:
    policy = RetryPolicy(
        max_attempts=100,
        initial_delay=initial,
        max_delay=max_delay,
        multiplier=multiplier,
        jitter=jitter,
    )
    delay = policy.delay(attempts)
    assert delay is not None
    assert delay >= 0.0
    steady = RetryPolicy(
        max_attempts=100,
        initial_delay=initial,
        max_delay=max_delay,
        multiplier=multiplier,
        jitter=0,
    ).delay(attempts)
    assert steady is not None
    assert steady <= max_delay


def test_delay_with_jitter_at_the_cap_does_not_exceed_max_delay() -> None:
    # max_delay_seconds is the longest a message waits; jitter must not push past it.
    policy = RetryPolicy(initial_delay=100.0, max_delay=100.0, jitter=0.2, max_attempts=10)
    assert max(policy.delay(3) or 0.0 for _ in range(500)) <= 100.0


def test_many_attempts_do_not_overflow() -> None:
    # max_attempts has no upper bound in RetryConfig; a long-retrying sink must not crash.
    policy = no_jitter(max_attempts=100_000, initial_delay=1.0, multiplier=2.0, max_delay=300.0)
    assert policy.delay(5_000) == 300.0


def test_retry_after_is_honoured_when_longer() -> None:
    policy = no_jitter(initial_delay=1.0, max_delay=300.0)
    assert policy.delay(1, retry_after=7.0) == 7.0


def test_retry_after_never_shortens_the_backoff() -> None:
    policy = no_jitter(initial_delay=10.0, max_delay=300.0)
    assert policy.delay(1, retry_after=2.0) == 10.0


def test_retry_after_is_capped_by_max_delay() -> None:
    policy = no_jitter(initial_delay=1.0, max_delay=60.0)
    assert policy.delay(1, retry_after=86_400.0) == 60.0


def test_retry_after_zero_keeps_the_backoff() -> None:
    assert no_jitter(initial_delay=2.0).delay(1, retry_after=0.0) == 2.0


def test_from_config() -> None:
    config = RetryConfig(
        max_attempts=4,
        initial_delay_seconds=0.5,
        max_delay_seconds=10,
        multiplier=3,
        jitter=0,
    )
    policy = RetryPolicy.from_config(config)
    assert policy == RetryPolicy(
        max_attempts=4, initial_delay=0.5, max_delay=10.0, multiplier=3.0, jitter=0.0
    )
    assert [policy.delay(n) for n in range(1, 5)] == [0.5, 1.5, 4.5, None]


def test_defaults_match_the_config_defaults() -> None:
    assert RetryPolicy.from_config(RetryConfig()) == RetryPolicy()


def test_policy_is_immutable() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 1  # type: ignore[misc]


def test_a_message_too_old_for_the_next_attempt_is_given_up() -> None:
    policy = RetryPolicy(max_attempts=100, initial_delay=10, max_delay=10, jitter=0, max_age=60)
    assert policy.delay(1, age=0) == 10
    assert policy.delay(1, age=50) == 10
    assert policy.delay(1, age=51) is None  # 51 + 10 > 60
