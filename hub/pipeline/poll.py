"""One poll of a polled route: lease, ask the source, store items and cursor together, confirm.

On an inbox route (``inbox: true``) each item is a file of interchanges: it is recorded as
``POST /ingest/edi`` records one (interchanges, duplicates, acknowledgements received and
owed), in the same transaction as the cursor.

The order is what makes a pickup exactly once. Items and the new cursor commit in one
transaction; only then is the peer told (a file moved, a broker message acked). A crash
before the commit leaves everything at the peer to be found again; a crash after it and
before the confirmation finds the same items again, and their keys (the message's
idempotency key) make the store recognise them, so they are confirmed, not stored twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.config.models import ScheduleConfig
from hub.errors import InboundRejected, SourceError, StoreError
from hub.failpoints import failpoint
from hub.message import Message
from hub.metrics import HubMetrics
from hub.pipeline.build import CompiledRoute
from hub.pipeline.inbox import EdiInbox, InboxFile
from hub.pipeline.ingest import Ingestor
from hub.sdk import Polled, PollSource
from hub.store.sources import LeaseLost, SourceStates

__all__ = ["PollOutcome", "Poller"]

log = logging.getLogger("hub.poll")

#: Pages one run may read before it lets other routes have the scheduler's threads.
MAX_PAGES_PER_RUN = 50


@dataclass(frozen=True)
class PollOutcome:
    """What one run did: ``standby`` when another process holds the route's lease."""

    stored: int = 0
    repeats: int = 0
    pages: int = 0
    standby: bool = False


class Poller:
    """Runs polls of one route for one process (``holder`` names it in the lease)."""

    def __init__(
        self,
        route: CompiledRoute,
        ingestor: Ingestor,
        states: SourceStates,
        metrics: HubMetrics,
        holder: str,
    ) -> None:
        if not isinstance(route.source, PollSource):
            raise TypeError(f"route {route.name!r} has no poll source")
        self.route = route
        self.source: PollSource[Any] = route.source
        self.ingestor = ingestor
        self.states = states
        self.metrics = metrics
        self.holder = holder
        self.schedule = route.config.source.schedule or ScheduleConfig()

    def run_once(self) -> PollOutcome:
        """Poll until the source has nothing more (or a page cap); raise what failed.

        Raises :class:`SourceError` (the peer) or :class:`StoreError` (the store); the
        scheduler records it and tries again with backoff.
        """
        name = self.route.name
        state = self.states.lease(name, self.holder, self.schedule.lease_seconds)
        if state is None:
            self.metrics.polls.labels(name, "standby").inc()
            return PollOutcome(standby=True)
        cursor = state.cursor
        stored = repeats = pages = 0
        while pages < MAX_PAGES_PER_RUN:
            started = time.perf_counter()
            poll = self.source.poll(cursor, self.schedule.batch)
            pages += 1
            items = list(poll.items)
            files: list[InboxFile] | None = None
            if self.route.inbox is not None:  # an EDI inbox: routed by envelope
                files, keep = self._files(items)
                messages = [file.message for file in files]
            else:
                messages, keep = self._messages(items)
            if items:
                failpoint("poll.before_commit")
            try:
                ids = self._store(messages, files, poll.cursor)
            except LeaseLost:
                self.source.release(items)
                self.metrics.polls.labels(name, "standby").inc()
                log.info("route %s: another process polls it now", name, extra={"route": name})
                return PollOutcome(stored, repeats, pages, standby=True)
            except StoreError:
                self.source.release(items)
                raise
            if items:
                failpoint("poll.before_confirm")
            confirmed = self._confirm(keep)
            if messages:
                self.ingestor.stored(self.route, messages, ids, started)
                fresh = sum(1 for m, i in zip(messages, ids, strict=True) if m.id == i)
                stored += fresh
                repeats += len(messages) - fresh
            self.metrics.polled_items.labels(name).inc(len(items))
            cursor = poll.cursor if poll.cursor is not None else cursor
            if not poll.more or not confirmed:  # unconfirmed items would come back at once
                break
        self.metrics.polls.labels(name, "ok" if stored or repeats else "empty").inc()
        self.metrics.poll_success.labels(name).set(time.time())
        return PollOutcome(stored, repeats, pages)

    def _store(
        self, messages: list[Message], files: list[InboxFile] | None, cursor: str | None
    ) -> list[str]:
        """Store a page's messages (or an inbox's files, each with its interchanges'
        records and acknowledgements) and the new cursor, in one transaction."""
        name, lease = self.route.name, self.schedule.lease_seconds
        if files is None:
            return self.states.store_polled(
                name,
                self.holder,
                messages,
                list(self.route.sinks),
                cursor=cursor,
                lease_seconds=lease,
            )
        inbox: EdiInbox = self.route.inbox

        def record(session: Session) -> list[str]:
            return [inbox.record(session, file).message_id for file in files]

        return self.states.store_polled_with(
            name, self.holder, record, count=len(files), cursor=cursor, lease_seconds=lease
        )

    def _files(self, items: list[Polled]) -> tuple[list[InboxFile], list[Polled]]:
        """The inbox files to record for the items, and the items to confirm afterwards;
        as :meth:`_messages`, only a file too big to read is refused to the source."""
        files: list[InboxFile] = []
        keep: list[Polled] = []
        for item in items:
            try:
                files.append(self.ingestor.inbox_file(self.route, item.inbound, item.key))
            except InboundRejected as exc:
                self._refuse(item, exc)
                continue
            keep.append(item)
        return files, keep

    def _refuse(self, item: Polled, exc: InboundRejected) -> None:
        self.metrics.rejected.labels(self.route.name, exc.reason).inc()
        log.warning(
            "route %s: item %s refused: %s",
            self.route.name,
            item.key,
            exc.message,
            extra={"route": self.route.name},
        )
        self.source.reject(item, exc.message)

    def _messages(self, items: list[Polled]) -> tuple[list[Message], list[Polled]]:
        """The messages to store for the items, and the items to confirm afterwards.

        An item whose body cannot be decoded is stored whole all the same: the worker then
        fails it with the decoder's precise error and it waits in the dead letters for a
        person (nothing is dropped). Only an item too big to store is refused to the source.
        """
        messages: list[Message] = []
        keep: list[Polled] = []
        for item in items:
            try:
                messages.extend(self.ingestor.messages(self.route, item.inbound, item.key))
            except InboundRejected as exc:
                if exc.reason == "limit":
                    self._refuse(item, exc)
                    continue
                messages.append(
                    self.ingestor.message(
                        self.route, item.inbound, item.inbound.body, idempotency=item.key
                    )
                )
            keep.append(item)
        return messages, keep

    def _confirm(self, items: list[Polled]) -> bool:
        """Tell the peer; a failure here is safe: the items come back and are recognised."""
        if not items:
            return True
        try:
            self.source.confirm(items)
            return True
        except SourceError as exc:
            self.metrics.polls.labels(self.route.name, "unconfirmed").inc()
            log.warning(
                "route %s: stored %d item(s) but could not confirm them to the peer (%s); "
                "the next poll finds them again and recognises them",
                self.route.name,
                len(items),
                exc.message,
                extra={"route": self.route.name},
            )
            return False
