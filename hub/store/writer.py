"""Group commit: many writers' jobs in one transaction and one fsync.

Callers (ingest requests, worker threads with a batch's outcome) hand a job to
:meth:`Writer.run` and wait. One thread takes every job waiting, runs them all in one
transaction and commits; each caller is answered only once that commit is durable, so a
202 still means "safe on disk". If the shared transaction fails, each job is run again in
a transaction of its own: one bad job fails alone and the others still commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from hub.errors import StoreUnavailable
from hub.failpoints import failpoint

__all__ = ["Job", "Writer"]

T = TypeVar("T")
Job = Callable[[Session], Any]

log = logging.getLogger("hub.store")


class Writer:
    """The store's one writing thread; ``transaction`` opens a transaction as a Session."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        *,
        max_jobs: int = 256,
    ) -> None:
        self._transaction = transaction
        self._max_jobs = max_jobs
        self._cond = threading.Condition()
        self._queue: list[tuple[Job, Future[Any]]] = []
        self._closed = False
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions committed (a group of jobs counts once)
        self.jobs = 0

    def run(self, job: Callable[[Session], T]) -> T:
        """Run ``job`` in a committed transaction (shared with others) and return its
        result once the commit is durable; its exception if it failed alone."""
        future: Future[T] = Future()
        with self._cond:
            if self._closed:
                raise StoreUnavailable("the store is closed (the hub is shutting down)")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hub-writer", daemon=True)
                self._thread.start()
            self._queue.append((job, future))
            self._cond.notify()
        return future.result()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)

    def _take(self) -> list[tuple[Job, Future[Any]]] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            taken = self._queue[: self._max_jobs]
            del self._queue[: self._max_jobs]
            return taken

    def _loop(self) -> None:
        while (group := self._take()) is not None:
            if len(group) == 1:
                self._alone(*group[0])
            else:
                self._together(group)

    def _together(self, group: list[tuple[Job, Future[Any]]]) -> None:
        try:
            with self._transaction() as session:
                results = [job(session) for job, _ in group]
                failpoint("writer.before_commit")
        except Exception as exc:  # one bad job: give every job a transaction of its own
            log.debug("a group commit of %d jobs failed (%s); one by one", len(group), exc)
            for job, future in group:
                self._alone(job, future)
            return
        failpoint("writer.after_commit")
        self.commits += 1
        self.jobs += len(group)
        for (_, future), result in zip(group, results, strict=True):
            future.set_result(result)

    def _alone(self, job: Job, future: Future[Any]) -> None:
        try:
            with self._transaction() as session:
                result = job(session)
                failpoint("writer.before_commit")
        except BaseException as exc:
            future.set_exception(exc)
            return
        failpoint("writer.after_commit")
        self.commits += 1
        self.jobs += 1
        future.set_result(result)
