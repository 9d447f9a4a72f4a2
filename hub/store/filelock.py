"""A lock file beside a SQLite database, so writers in several processes take turns.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
with back-off, so under load a loser may sleep for a long time and the order is unfair.
An exclusive ``flock`` on ``<database>.lock`` queues them in the kernel instead, and wakes
the next one as soon as the lock is free. The kernel drops it when a process dies.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["FileLock"]


class FileLock:
    """An exclusive lock between processes (and, with its own mutex, between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        self._mutex.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._mutex.release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._mutex.release()

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
