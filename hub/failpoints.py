"""Failpoints: named places where a test may have the process die, as a power cut would.

``HUB_FAILPOINT=writer.before_commit`` kills the process (SIGKILL: no handler, ``finally`` or
atexit runs, the same as ``kill -9``) the first time it reaches that place;
``poll.before_commit@3`` the third time. A crash test needs the process to die at one exact
step, which a kill from outside cannot aim at. Unset, a failpoint costs one dictionary
look-up. Only tests and crash drills set it.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["failpoint"]

_lock = threading.Lock()
_hits: dict[str, int] = {}


def _armed() -> tuple[str, int] | None:
    spec = os.environ.get("HUB_FAILPOINT")
    if not spec:
        return None
    name, _, count = spec.partition("@")
    return name, int(count) if count.isdigit() else 1


def failpoint(name: str) -> None:
    """Die here if ``HUB_FAILPOINT`` names this place (and this is the hit it counts)."""
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        if _hits[name] >= armed[1]:
            os.kill(os.getpid(), signal.SIGKILL)
