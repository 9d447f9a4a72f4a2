"""Retry policy as a value: given the attempts so far, retry at a time or give up.

The exponential wait comes from tenacity; jitter, Retry-After and the age limit are ours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import tenacity

from hub.config import RetryConfig

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, honouring a peer's Retry-After."""

    max_attempts: int = 8
    initial_delay: float = 1.0
    max_delay: float = 300.0
    multiplier: float = 2.0
    jitter: float = 0.2
    max_age: float = 3 * 86400.0
    attempt_timeout: float | None = None

    @classmethod
    def from_config(cls, config: RetryConfig) -> RetryPolicy:
        return cls(
            max_attempts=config.max_attempts,
            initial_delay=config.initial_delay_seconds,
            max_delay=config.max_delay_seconds,
            multiplier=config.multiplier,
            jitter=config.jitter,
            max_age=config.max_age_seconds,
            attempt_timeout=config.attempt_timeout_seconds,
        )

    def delay(
        self, attempts: int, retry_after: float | None = None, age: float = 0.0
    ) -> float | None:
        """Seconds to wait after ``attempts`` failed attempts of a message ``age`` seconds
        old, or None to give up (too many attempts, or the next one would be too late)."""
        if attempts >= self.max_attempts:
            return None
        base = self._backoff(max(0, attempts - 1))
        spread = base * self.jitter
        wait = base + random.uniform(-spread, spread)  # noqa: S311 - jitter, not security
        if retry_after is not None:
            wait = max(wait, retry_after)
        wait = max(0.0, min(wait, self.max_delay))
        return None if age + wait > self.max_age else wait

    def _backoff(self, exponent: int) -> float:
        """initial * multiplier**exponent, capped at max_delay: tenacity's wait_exponential."""
        wait = tenacity.wait_exponential(
            multiplier=self.initial_delay, exp_base=self.multiplier, max=self.max_delay
        )
        state = tenacity.RetryCallState(_RETRYING, None, (), {})
        state.attempt_number = exponent + 1
        return float(wait(state))


# tenacity computes the waits; its retry loop is not used, because a waiting retry must
# not hold a worker: the next attempt's time is stored and the message claimed when due.
_RETRYING = tenacity.Retrying()
