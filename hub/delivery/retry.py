"""Retry policy as a value: given the attempts so far, retry at a time or give up."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

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
        """initial * multiplier**exponent, capped at max_delay without overflowing."""
        if self.initial_delay <= 0:
            return 0.0
        if self.multiplier > 1:
            cap = math.log(max(self.max_delay, self.initial_delay) / self.initial_delay)
            if exponent >= cap / math.log(self.multiplier):
                return self.max_delay
        return min(self.max_delay, self.initial_delay * self.multiplier**exponent)
