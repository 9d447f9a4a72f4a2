"""Failed console sign-ins, counted per client address and per user name.

A console user's password is checked with scrypt (some 0.1 s and 32 MiB each), and an API
key by its hash; without a limit, a client could try passwords as fast as the hub's threads
check them, and many sign-ins at once would each hold 32 MiB. So:

- after ``failures`` failed sign-ins within ``window`` seconds from one client address, or
  for one user name, further sign-ins from there or for that name are answered ``429`` with
  ``Retry-After`` until the oldest of those failures is ``window`` seconds old, without
  checking anything (a correct password included: the lock does not tell whether it was);
- at most ``concurrent`` checks run at once; one more is answered ``503`` with
  ``Retry-After: 1``.

The counts live in the API process's memory: a restart forgets them, and several API
processes count apart. A locked name can be locked by someone who only knows the name; the
window bounds how long.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Refusal", "SignInThrottle"]

#: Keys remembered at most (addresses and names with recent failures); the oldest go first.
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in was not even checked: its HTTP status, seconds to wait, and words."""

    status: int
    retry_after: int
    message: str


class SignInThrottle:
    def __init__(
        self,
        *,
        failures: int = 10,
        window: float = 900.0,
        concurrent: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._failed: dict[str, list[float]] = {}  # "address:..." / "name:..." -> times
        self._checks = threading.BoundedSemaphore(concurrent)

    def refusal(self, address: str | None, name: str | None) -> Refusal | None:
        """A :class:`Refusal` while ``address`` or ``name`` is locked, else None."""
        now = self._clock()
        waits: list[tuple[float, str]] = []
        with self._lock:
            for key, what in self._keys(address, name):
                wait = self._wait(key, now)
                if wait > 0:
                    waits.append((wait, what))
        if not waits:
            return None
        wait, what = max(waits)
        minutes = max(1, math.ceil(wait / 60))
        return Refusal(
            429,
            math.ceil(wait),
            f"too many failed sign-ins {what} in the last {round(self.window / 60)} minutes: "
            f"try again in {minutes} minute{'s' if minutes > 1 else ''}",
        )

    def failed(self, address: str | None, name: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, _ in self._keys(address, name):
                times = [t for t in self._failed.pop(key, []) if now - t < self.window]
                times.append(now)
                self._failed[key] = times[-self.failures :]  # re-inserted: newest last
            while len(self._failed) > MAX_TRACKED:
                del self._failed[next(iter(self._failed))]

    def succeeded(self, name: str | None) -> None:
        """A user signed in: failures for the name are forgotten (the address's are not)."""
        if name:
            with self._lock:
                self._failed.pop(_name_key(name), None)

    @contextmanager
    def checking(self) -> Iterator[Refusal | None]:
        """A slot for one check: yields None while a check may run, a ``503`` refusal when
        ``concurrent`` are running already."""
        if not self._checks.acquire(blocking=False):
            yield Refusal(503, 1, "too many sign-ins are being checked at once: try again")
            return
        try:
            yield None
        finally:
            self._checks.release()

    def _wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        recent = [t for t in self._failed.get(key, ()) if now - t < self.window]
        if len(recent) < self.failures:
            return 0.0
        return recent[-self.failures] + self.window - now

    @staticmethod
    def _keys(address: str | None, name: str | None) -> Iterator[tuple[str, str]]:
        if address:
            yield f"address:{address}", "from this address"
        if name:
            yield _name_key(name), "for this user"


def _name_key(name: str) -> str:
    """One key for a name however it is written; no user name is longer than 64
    characters, so a longer one is kept short (memory is bounded by count and size)."""
    return f"name:{name.casefold()[:65]}"
