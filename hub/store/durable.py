"""Commits made durable after SQLite's write lock is released, not while it is held.

SQLite runs with ``synchronous=NORMAL`` in WAL mode: a commit appends its pages to the
``-wal`` file and releases the write lock without an fsync. The store then fsyncs that
file itself (:meth:`WalSync.sync`), outside the lock, before it returns to the caller; so a
``202`` still means "on disk", while the next writer (another group of ingest requests, a
worker process) writes during that fsync instead of waiting for it.

Why this is as durable as ``synchronous=FULL``: the fsync covers every frame written to the
file before it, the commit's included, and SQLite still syncs the WAL header whenever it
starts the file over (and the directory with it), the WAL before each checkpoint and the
database after it. A WAL that is gone was checkpointed into the database, which was synced.
Another connection may read a commit before its fsync has ended; a worker acts on what it
claims only after the claim's own fsync, which covers every commit before it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["WalSync"]


class WalSync:
    """fsync of one SQLite database's write-ahead log."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}-wal")
        self.syncs = 0  # how many fsyncs (each covers every commit before it)
        self._lock = threading.Lock()
        self._written = False

    def written(self) -> None:
        """A commit that :meth:`sync_written` is to make durable."""
        with self._lock:
            self._written = True

    def sync_written(self) -> None:
        """:meth:`sync` if a commit was :meth:`written` since the last call (an idle
        worker's empty claims cost no fsync)."""
        with self._lock:
            written, self._written = self._written, False
        if written:
            self.sync()

    def sync(self) -> None:
        """Make every commit so far durable. Opened each time: SQLite may delete the file
        when its last connection closes and make a new one, which an old descriptor
        would not reach."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # checkpointed into the database (synced) and removed
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.syncs += 1
