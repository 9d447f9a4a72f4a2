"""Group commit: many writers' jobs in one transaction and one fsync.

Callers (ingest requests, worker threads with a batch's outcome) hand a job to
:meth:`Writer.run` and wait. One thread takes every job waiting, runs them all in one
transaction and commits; each caller is answered only once that commit is durable, so a
202 still means "safe on disk". If the shared transaction fails, each job is run again in
a transaction of its own: one bad job fails alone and the others still commit.

Jobs of one kind can also be merged (:meth:`Writer.run_merged`): every waiting item of
that kind runs as one call, so a group of ingest requests costs one statement per table,
not one per request and table.

With ``sync`` (a SQLite file: :mod:`hub.store.durable`) a commit is made durable by a
second thread: the writer hands each committed group to it and goes on with the next
group, while the fsync runs without the database's write lock. Callers are answered only
after an fsync that began after their commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from hub.errors import StoreUnavailable
from hub.failpoints import failpoint

__all__ = ["Job", "Merge", "Writer"]

T = TypeVar("T")
Job = Callable[[Session], Any]


class Merge(Protocol):
    """Runs many items of one kind in a transaction: one result per item, in order."""

    def __call__(self, session: Session, items: list[Any], /) -> list[Any]: ...


@dataclass(frozen=True)
class _Entry:
    """A job, or an item for a :class:`Merge`, and the future its caller waits on."""

    future: Future[Any]
    job: Job | None = None
    merge: Merge | None = None
    item: Any = None

    def run(self, session: Session) -> Any:
        if self.merge is not None:
            return self.merge(session, [self.item])[0]
        assert self.job is not None
        return self.job(session)


log = logging.getLogger("hub.store")


class Writer:
    """The store's one writing thread; ``transaction`` opens a transaction as a Session."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        *,
        max_jobs: int = 256,
        sync: Callable[[], None] | None = None,
    ) -> None:
        self._transaction = transaction
        self._max_jobs = max_jobs
        self._cond = threading.Condition()
        self._queue: list[_Entry] = []
        self._closed = False
        self._thread: threading.Thread | None = None
        self._syncer = None if sync is None else _Syncer(sync)
        self.commits = 0  # transactions committed (a group of jobs counts once)
        self.jobs = 0

    def run(self, job: Callable[[Session], T]) -> T:
        """Run ``job`` in a committed transaction (shared with others) and return its
        result once the commit is durable; its exception if it failed alone."""
        future: Future[T] = Future()
        self._put(_Entry(future, job=job))
        return future.result()

    def run_merged(self, merge: Merge, item: Any) -> Any:
        """Like :meth:`run`, but every waiting item for the same ``merge`` runs in one call
        of it (alone, ``merge(session, [item])``, if the shared transaction fails)."""
        return self.submit_merged(merge, item).result()

    def submit_merged(self, merge: Merge, item: Any) -> Future[Any]:
        """:meth:`run_merged` without waiting: the future is done once the commit is
        durable, so a caller on an event loop awaits it instead of holding a thread."""
        future: Future[Any] = Future()
        self._put(_Entry(future, merge=merge, item=item))
        return future

    def _put(self, entry: _Entry) -> None:
        with self._cond:
            if self._closed:
                raise StoreUnavailable("the store is closed (the hub is shutting down)")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hub-writer", daemon=True)
                self._thread.start()
            self._queue.append(entry)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        if self._syncer is not None:
            self._syncer.close()

    def _take(self) -> list[_Entry] | None:
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
                self._alone(group[0])
            else:
                self._together(group)

    def _together(self, group: list[_Entry]) -> None:
        try:
            with self._transaction() as session:
                results = _run_group(session, group)
                failpoint("writer.before_commit")
        except Exception as exc:  # one bad job: give every job a transaction of its own
            log.debug("a group commit of %d jobs failed (%s); one by one", len(group), exc)
            for entry in group:
                self._alone(entry)
            return
        failpoint("writer.after_commit")
        self.commits += 1
        self.jobs += len(group)
        self._committed(list(zip(group, results, strict=True)))

    def _alone(self, entry: _Entry) -> None:
        try:
            with self._transaction() as session:
                result = entry.run(session)
                failpoint("writer.before_commit")
        except BaseException as exc:
            entry.future.set_exception(exc)
            return
        failpoint("writer.after_commit")
        self.commits += 1
        self.jobs += 1
        self._committed([(entry, result)])

    def _committed(self, answers: list[tuple[_Entry, Any]]) -> None:
        """Answer the callers of a committed group now, or once the syncer made it durable."""
        if self._syncer is None:
            _answer(answers)
        else:
            self._syncer.put(answers)


class _Syncer:
    """The thread that makes committed groups durable (one ``sync`` for every group that
    waited) and only then answers their callers."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._cond = threading.Condition()
        self._queue: list[tuple[_Entry, Any]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="hub-writer-sync", daemon=True)
        self._thread.start()

    def put(self, answers: list[tuple[_Entry, Any]]) -> None:
        with self._cond:
            self._queue.extend(answers)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(30)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                answers, self._queue = self._queue, []
            try:
                self._sync()  # begins after every commit in ``answers``
            except Exception as exc:  # committed, but not known to be on disk: say so
                log.error("a commit could not be made durable: %s", exc)
                failed = StoreUnavailable(
                    f"the store could not make a commit durable: {exc}",
                    hint="check the disk that holds the database (space, errors in the "
                    "system log); sending again is safe with an idempotency key",
                )
                for entry, _ in answers:
                    entry.future.set_exception(failed)
                continue
            _answer(answers)


def _answer(answers: list[tuple[_Entry, Any]]) -> None:
    for entry, result in answers:
        entry.future.set_result(result)


def _run_group(session: Session, group: list[_Entry]) -> list[Any]:
    """Every entry's result, in order; the items of one merge run at its first item's turn,
    all in one call."""
    results: list[Any] = [None] * len(group)
    merged: dict[Merge, list[int]] = {}  # a merge (equal bound methods are one) -> positions
    for index, entry in enumerate(group):
        if entry.merge is not None:
            merged.setdefault(entry.merge, []).append(index)
    done: set[Merge] = set()
    for index, entry in enumerate(group):
        if entry.merge is None:
            results[index] = entry.run(session)
        elif entry.merge not in done:
            done.add(entry.merge)
            places = merged[entry.merge]
            found = entry.merge(session, [group[i].item for i in places])
            for place, result in zip(places, found, strict=True):
                results[place] = result
    return results
