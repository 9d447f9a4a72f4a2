"""Crash points for tests: ``HUB_FAILPOINT=name[:n]`` kills the process at the n-th pass.

A crash test needs the process to die at one exact step (between a poll and its commit,
say); a kill from outside cannot aim that well. The process sends itself SIGKILL, so no
handler, ``finally`` or atexit runs: the same as ``kill -9``. Unset, a check is one dict
lookup.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["failpoint"]

_hits: dict[str, int] = {}
_lock = threading.Lock()


def failpoint(name: str) -> None:
    """Die here if ``HUB_FAILPOINT`` names this point and its count is reached."""
    spec = os.environ.get("HUB_FAILPOINT")
    if not spec:
        return
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        reached = _hits[name] >= int(count or 1)
    if reached:
        os.kill(os.getpid(), signal.SIGKILL)
