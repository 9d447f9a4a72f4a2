"""The durable store: every state change of a message is one short transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from hub.errors import MessageNotFound, PayloadDropped, StoreError, StoreUnavailable
from hub.failpoints import failpoint
from hub.message import (
    DeliveryStatus,
    Event,
    Message,
    MessageStatus,
    SinkDelivery,
    utcnow,
)
from hub.store.claims import Taken, take_batch
from hub.store.durable import WalSync
from hub.store.engine import make_engine, resolve_url
from hub.store.filelock import FileLock
from hub.store.finishing import finish_batch, prepare
from hub.store.history import unpacked
from hub.store.migrate import current_revision, head_revision, upgrade
from hub.store.notify import notify
from hub.store.outputs import MakeOutput, save_output
from hub.store.records import Claimed, MessageRecord, Turn
from hub.store.rows import (
    event_values,
    insert_received,
    message_of,
    storable,
    stored_error,
)
from hub.store.sealing import Sealer
from hub.store.tables import MESSAGES, DeliveryRow, EventRow, MessageRow
from hub.store.turns import start_turn
from hub.store.writer import Writer
from hub.text import clean_text

__all__ = ["Store"]

_OPEN = (MessageStatus.RECEIVED.value, MessageStatus.RETRYING.value)
# Built once: ingest runs it for every group commit.
_KNOWN_KEYS = select(MESSAGES.c.idempotency_key, MESSAGES.c.id).where(
    MESSAGES.c.route == bindparam("route"),
    MESSAGES.c.idempotency_key.in_(bindparam("keys", expanding=True)),
)


class Store:
    """Messages, their per-sink deliveries and event history in one SQL database."""

    def __init__(
        self,
        url: str,
        *,
        base_dir: Path | None = None,
        echo: bool = False,
        sealer: Sealer | None = None,
    ) -> None:
        self.url = resolve_url(url, base_dir or Path.cwd())
        #: encrypts payloads at rest when it has keys (hub.store.sealing)
        self.sealer = sealer or Sealer()
        self._setup(make_engine(self.url, echo=echo))

    def _setup(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.is_postgres = engine.dialect.name == "postgresql"
        self._skip_locked = self.is_postgres
        # SQLite has one writer at a time. Queueing on a lock here is fair and fast;
        # left to SQLite's busy handler, losers sleep with back-off (p99 near a second).
        # A file database is locked between processes too (a worker beside the API).
        self._file_lock: FileLock | None = None
        self._lock: AbstractContextManager[object] = nullcontext()
        #: a file database's commits are fsynced after its write lock is released
        self._wal: WalSync | None = None
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:":
                self._file_lock = FileLock(Path(database + ".lock"))
                self._lock = self._file_lock
                self._wal = WalSync(Path(database))
            else:
                self._lock = threading.Lock()
        # the writer's commits are made durable by its own syncing thread (hub.store.durable)
        self._writer = Writer(
            lambda: self._tx(durable=False),
            sync=None if self._wal is None else self._wal.sync_written,
        )

    def writing(self) -> AbstractContextManager[object]:
        """This process's write lock on SQLite (nothing on PostgreSQL), for work on the
        database file outside a transaction."""
        return self._lock

    def transaction(self) -> AbstractContextManager[Session]:
        """One transaction for store modules (dead letters); errors become StoreError."""
        return self._tx()

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[Session]:
        """One transaction; database errors become the hub's own StoreError types.

        On a SQLite file it is made durable after the write lock is released (unless
        ``durable`` is False: the writer's syncing thread does it, hub.store.writer)."""
        try:
            with self._lock, self._sessions() as session, session.begin():
                if self._wal is None:
                    yield session
                    return
                driver = session.connection().connection.dbapi_connection
                before = driver.total_changes  # type: ignore[union-attr]
                yield session
                wrote = driver.total_changes != before  # type: ignore[union-attr]
            if wrote and durable:  # committed, the lock released: now make it durable
                self._sync(self._wal)
            elif wrote:
                self._wal.written()
        except DBAPIError as exc:
            raise _wrap(exc) from exc
        except StatementError as exc:  # SQLAlchemy's own, around a statement: no SQL to users
            raise StoreError(f"store error: {exc.orig or type(exc).__name__}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"store error: {exc}") from exc

    @staticmethod
    def _sync(wal: WalSync) -> None:
        try:
            wal.sync()
        except OSError as exc:
            raise StoreUnavailable(
                f"the store could not make a commit durable: {exc}",
                hint="check the disk that holds the database (space, errors in the system log)",
            ) from exc

    # -- lifecycle -----------------------------------------------------------------

    def migrate(self) -> None:
        try:
            upgrade(self.engine)
            if self._wal is not None:
                self._sync(self._wal)
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot migrate the store: {exc.orig or exc}") from exc

    def check_schema(self) -> None:
        """Refuse to run on a store whose schema is behind this version's migrations."""
        try:
            current = current_revision(self.engine)
        except OperationalError as exc:
            raise _wrap(exc) from exc
        head = head_revision()
        if current != head:
            raise StoreError(
                f"the store is at revision {current or '(none)'}, this hub needs {head}",
                hint="run `hub db upgrade --config FILE`, or set store.auto_migrate: true",
            )

    def ping(self) -> None:
        with self._tx() as session:
            session.execute(text("SELECT 1"))

    def close(self) -> None:
        self._writer.close()
        self.engine.dispose()
        if self._file_lock is not None:
            self._file_lock.close()

    @property
    def writer(self) -> Writer:
        """The group-commit writer (its counters show how many jobs shared a commit)."""
        return self._writer

    # -- writing -------------------------------------------------------------------

    def add(
        self,
        messages: Message | Sequence[Message],
        sinks: Sequence[str],
        *,
        also: Callable[[Session], None] | None = None,
    ) -> list[str]:
        """Commit received messages and their pending deliveries, all or none.

        Once this returns they are safe: a crash after it loses nothing. Returns the id
        stored for each message: the earlier message's id when its idempotency key was
        seen before on the route (nothing new is stored for it). ``also`` writes more in
        the same transaction (a poll source's cursor), so both commit or neither does.
        """
        if also is None:  # an ingest request: merged with the others waiting
            return self.add_later(messages, sinks).result()
        batch = _storable_batch(messages)
        for attempt in (1, 2):  # a concurrent twin may commit first: then look again
            try:
                return self._writer.run(lambda session: self._add(session, batch, sinks, also))
            except StoreError as exc:
                if attempt == 2 or not _twin_committed(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def add_later(
        self, messages: Message | Sequence[Message], sinks: Sequence[str]
    ) -> Future[list[str]]:
        """:meth:`add` without waiting: the future holds the ids once the commit is durable
        (or the error), so an ingest request on the event loop awaits it without holding
        a thread. Merged with the other requests waiting, in one transaction."""
        batch = _storable_batch(messages)
        done: Future[list[str]] = Future()
        done.set_running_or_notify_cancel()  # queued is as good as sent: no taking it back

        def attempt(first: bool) -> None:
            try:
                pending = self._writer.submit_merged(self._add_many, (batch, sinks))
            except BaseException as exc:  # the store closed in between
                done.set_exception(exc)
                return

            def settle(future: Future[list[str]]) -> None:
                exc = future.exception()
                if exc is None:
                    done.set_result(future.result())
                elif first and isinstance(exc, StoreError) and _twin_committed(exc):
                    attempt(False)  # a concurrent twin committed first: look again
                else:
                    done.set_exception(exc)

            pending.add_done_callback(settle)

        attempt(True)
        return done

    def add_refused(self, message: Message, sinks: Sequence[str], reason: str) -> str:
        """Commit a message its source refused for good as a dead letter (stage ``receive``).

        The sender is owed an answer that follows the commit (an AS2 negative MDN), and the
        operator a record of what came; it is never translated or delivered. Returns the id
        stored, the earlier one when its idempotency key was seen before on the route.
        """
        batch = [storable(message)]

        def job(session: Session) -> str:
            stored = self._add(session, batch, sinks)[0]
            if stored != message.id:
                return stored
            now = utcnow()
            session.execute(
                update(MessageRow)
                .where(MessageRow.id == stored)
                .values(
                    status=MessageStatus.FAILED.value,
                    updated_at=now,
                    error_stage="receive",
                    error_type="inbound_refused",
                    error_message=clean_text(reason),
                )
                .execution_options(synchronize_session=False)
            )
            failed = Event("failed", reason, data={"stage": "receive", "type": "inbound_refused"})
            session.execute(insert(EventRow), [event_values(stored, failed)])
            return stored

        return self._writer.run(job)

    def _add(
        self,
        session: Session,
        batch: list[Message],
        sinks: Sequence[str],
        also: Callable[[Session], None] | None = None,
    ) -> list[str]:
        if also is not None:
            also(session)
        return self._add_many(session, [(batch, sinks)])[0]

    def _add_many(
        self, session: Session, items: list[tuple[list[Message], Sequence[str]]]
    ) -> list[list[str]]:
        """Several :meth:`add` calls' messages in one statement per table: the ids each
        call gets back, a repeat (in the store or earlier in ``items``) its first id."""
        wanted: dict[str, set[str]] = {}  # route -> idempotency keys to look up
        for batch, _ in items:
            for m in batch:
                if m.idempotency_key:
                    wanted.setdefault(m.route, set()).add(m.idempotency_key)
        known: dict[tuple[str, str], str] = {}
        connection = session.connection()
        for route, keys in wanted.items():
            rows = connection.execute(_KNOWN_KEYS, {"route": route, "keys": sorted(keys)})
            known.update(((route, key), mid) for key, mid in rows if key is not None)
        fresh: list[tuple[Message, Sequence[str]]] = []
        results: list[list[str]] = []
        for batch, sinks in items:
            ids = []
            for m in batch:
                if m.idempotency_key is None:
                    fresh.append((m, sinks))
                    ids.append(m.id)
                    continue
                key = (m.route, m.idempotency_key)
                if key not in known:
                    known[key] = m.id
                    fresh.append((m, sinks))
                ids.append(known[key])
            results.append(ids)
        if fresh:
            insert_received(session, fresh, self.sealer)
            if self.is_postgres:
                notify(session)
        return results

    def claim(
        self,
        worker: str,
        *,
        lease_seconds: float,
        limit: int,
        max_attempts: Mapping[str, int] | None = None,
    ) -> list[Claimed]:
        """Lease up to ``limit`` due messages; an expired lease (a crashed worker) is reclaimed.

        Every message's turn is started in the same transaction (its attempt counted);
        a message whose last turn never ended is returned alone (see
        :mod:`hub.store.claims`). ``max_attempts`` (per route) lets the start dead-letter
        a message whose attempts were used up by turns that never finished; such a
        message is returned with ``poison`` set.
        """
        now = utcnow()
        lease_until = now + timedelta(seconds=lease_seconds)
        taken: Taken = self._writer.run(
            lambda session: take_batch(
                session,
                worker,
                now=now,
                lease_until=lease_until,
                limit=limit,
                max_attempts=max_attempts or {},
                sealer=self.sealer,
            )
        )
        return taken.claimed(self.sealer)

    def start_turn(
        self,
        claimed: Claimed,
        worker: str,
        *,
        lease_seconds: float,
        max_attempts: int | None = None,
    ) -> Claimed | None:
        """Start ``worker``'s turn on a message it claimed: count the attempt, write a
        ``turn`` event and extend the lease, in one transaction.

        Returns the message with ``started`` and its new ``attempts``; or with ``poison``
        set if its ``max_attempts`` were used up by turns that never finished (it is a dead
        letter now); or None if the lease lapsed and another worker has the message.
        """
        if claimed.started:
            return claimed
        lease_until = utcnow() + timedelta(seconds=lease_seconds)
        limits = None if max_attempts is None else {claimed.message.route: max_attempts}
        with self._tx() as session:
            return self._start(session, claimed, worker, lease_until, limits)

    @staticmethod
    def _start(
        session: Session,
        claimed: Claimed,
        worker: str,
        lease_until: datetime,
        max_attempts: Mapping[str, int] | None,
    ) -> Claimed | None:
        result = start_turn(
            session,
            claimed.message.id,
            worker,
            attempts=claimed.attempts,
            pending_sinks=claimed.pending_sinks,
            lease_until=lease_until,
            max_attempts=(max_attempts or {}).get(claimed.message.route),
        )
        if result is None:
            return None
        attempts, poison = result
        if poison is not None:
            return replace(claimed, attempts=attempts, poison=poison)
        return replace(claimed, attempts=attempts, started=True)

    def renew(self, message_id: str, worker: str, *, lease_seconds: float) -> bool:
        """Extend a lease before a long piece of work; False if another worker took it."""
        until = utcnow() + timedelta(seconds=lease_seconds)
        with self._tx() as session:
            result = session.execute(
                update(MessageRow)
                .where(MessageRow.id == message_id, MessageRow.claimed_by == worker)
                .values(lease_expires_at=until)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def extend_leases(
        self, worker: str, message_ids: Sequence[str], *, lease_seconds: float
    ) -> int:
        """Extend ``worker``'s leases on ``message_ids`` (a heartbeat while a long turn
        runs); returns how many of them it still holds."""
        if not message_ids:
            return 0
        until = utcnow() + timedelta(seconds=lease_seconds)
        with self._tx() as session:
            result = session.execute(
                update(MessageRow)
                .where(MessageRow.id.in_(message_ids), MessageRow.claimed_by == worker)
                .values(lease_expires_at=until)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def release(self, worker: str, message_ids: Sequence[str]) -> int:
        """Give back messages ``worker`` claimed but never began (it is stopping): their
        leases freed, their attempts and ``turn_open`` as before the claim, a ``released``
        event each. Returns how many it still held."""
        if not message_ids:
            return 0

        def job(session: Session) -> int:
            held = list(
                session.scalars(
                    select(MessageRow.id).where(
                        MessageRow.id.in_(message_ids), MessageRow.claimed_by == worker
                    )
                )
            )
            if held:
                session.execute(
                    update(MessageRow)
                    .where(MessageRow.id.in_(held))
                    .values(
                        claimed_by=None,
                        lease_expires_at=None,
                        attempts=MessageRow.attempts - 1,
                        turn_open=0,
                    )
                )
                released = Event("released", f"not begun: worker {worker} stopped")
                session.execute(insert(EventRow), [event_values(mid, released) for mid in held])
            return len(held)

        return self._writer.run(job)

    def abandon(
        self,
        message_id: str,
        worker: str,
        *,
        detail: str,
        retry_at: datetime | None = None,
        batch: Sequence[str] = (),
    ) -> bool:
        """Give up on ``worker``'s turn on a message: free its lease, and those of the rest
        of its ``batch`` it still holds, and record an ``abandoned`` event on the message.

        The turn's attempt was counted when it started, so a message that stalls every
        turn ends as a poison dead letter. A late :meth:`finish` of the abandoned turn no
        longer changes the message's status. ``retry_at`` is when the message may be
        claimed again (now if None). Returns whether ``worker`` still held the message.
        """
        now = utcnow()
        with self._tx() as session:
            result = session.execute(
                update(MessageRow)
                .where(MessageRow.id == message_id, MessageRow.claimed_by == worker)
                .values(
                    claimed_by=None,
                    lease_expires_at=None,
                    next_attempt_at=retry_at or now,
                    updated_at=now,
                )
            )
            held = bool(result.rowcount == 1)  # type: ignore[attr-defined]
            if held:
                session.execute(
                    insert(EventRow), [event_values(message_id, Event("abandoned", detail))]
                )
            others = [mid for mid in batch if mid != message_id]
            if others:
                session.execute(
                    update(MessageRow)
                    .where(MessageRow.id.in_(others), MessageRow.claimed_by == worker)
                    .values(claimed_by=None, lease_expires_at=None)
                )
            return held

    def finish(self, message_id: str, worker: str, turn: Turn) -> bool:
        """Record a worker's whole turn on a message in one transaction and free the lease.

        The attempt was counted when the turn started. Sink attempts and events are
        history and are always written. The status is changed only while ``worker``
        still holds the lease; returns whether it did. A turn that lost its lease (taken
        over, or abandoned as stuck) records no status change it did not make: a
        ``lease_lost`` event stands in for its last one.
        """
        return self.finish_many(worker, [(message_id, turn)])[0]

    def finish_and_claim(
        self,
        worker: str,
        outcomes: Sequence[tuple[str, Turn]],
        *,
        lease_seconds: float,
        limit: int,
        max_attempts: Mapping[str, int] | None = None,
    ) -> tuple[list[bool], list[Claimed]]:
        """:meth:`finish_many` and :meth:`claim` in one transaction: a busy worker pays
        one commit per batch. Returns whether each message was still held, and the next
        batch."""
        now = utcnow()
        lease_until = now + timedelta(seconds=lease_seconds)
        postgres = self.is_postgres
        rows = prepare(outcomes)  # before the transaction: the write lock is held less

        def job(session: Session) -> tuple[list[bool], Taken]:
            held = finish_batch(session, worker, rows, lock=postgres, sealer=self.sealer)
            taken = take_batch(
                session,
                worker,
                now=now,
                lease_until=lease_until,
                limit=limit,
                max_attempts=max_attempts or {},
                sealer=self.sealer,
            )
            return held, taken

        held, taken = self._writer.run(job)
        return held, taken.claimed(self.sealer)

    def finish_many(self, worker: str, outcomes: Sequence[tuple[str, Turn]]) -> list[bool]:
        """Record a batch of ``worker``'s turns, (message id, turn) each, in one transaction
        (shared with other writers: one fsync); whether it still held each message.

        See :meth:`finish` for what a turn that lost its lease records.
        """
        if not outcomes:
            return []
        rows = prepare(outcomes)  # before the transaction: the write lock is held less
        return self._writer.run(
            lambda session: finish_batch(
                session, worker, rows, lock=self.is_postgres, sealer=self.sealer
            )
        )

    def store_output(self, message_id: str, worker: str, make: MakeOutput) -> bool:
        """Store a message's output before its delivery, in one transaction with what
        ``make`` writes (a partner's control numbers, :mod:`hub.store.outputs`); False if
        ``worker`` no longer holds the message. Errors of ``make`` roll it all back."""
        with self._tx() as session:
            held = save_output(
                session, message_id, worker, make, lock=self.is_postgres, sealer=self.sealer
            )
            if held:
                failpoint("output.before_commit")
        if held:
            failpoint("output.after_commit")
        return held

    def purge(self, older_than: datetime) -> int:
        """Delete finished messages (delivered, split, discarded) last changed before
        ``older_than``, with their deliveries and events; dead letters are never purged."""
        finished = (
            MessageStatus.DELIVERED.value,
            MessageStatus.SPLIT.value,
            MessageStatus.DISCARDED.value,
        )
        with self._tx() as session:
            ids = select(MessageRow.id).where(
                MessageRow.status.in_(finished), MessageRow.updated_at < older_than
            )
            gone = list(session.scalars(ids))
            for chunk in range(0, len(gone), 500):
                batch = gone[chunk : chunk + 500]
                session.execute(delete(EventRow).where(EventRow.message_id.in_(batch)))
                session.execute(delete(DeliveryRow).where(DeliveryRow.message_id.in_(batch)))
                session.execute(delete(MessageRow).where(MessageRow.id.in_(batch)))
            return len(gone)

    def recover_leases(self, holder_is_dead: Callable[[str], bool]) -> list[str]:
        """Free the leases of workers known to be dead, without waiting for expiry.

        Returns the ids of the messages freed; each gets a ``recovered`` event.
        """
        freed: list[str] = []
        with self._tx() as session:
            holders = session.scalars(
                select(MessageRow.claimed_by).where(MessageRow.claimed_by.is_not(None)).distinct()
            ).all()
            for holder in holders:
                if holder is None or not holder_is_dead(holder):
                    continue
                ids = session.scalars(
                    select(MessageRow.id).where(MessageRow.claimed_by == holder)
                ).all()
                session.execute(
                    update(MessageRow)
                    .where(MessageRow.claimed_by == holder)
                    .values(claimed_by=None, lease_expires_at=None)
                )
                if ids:
                    session.execute(
                        insert(EventRow),
                        [
                            event_values(
                                mid, Event("recovered", f"worker {holder} died holding it")
                            )
                            for mid in ids
                        ],
                    )
                freed.extend(ids)
        return freed

    # -- reading -------------------------------------------------------------------

    def get(self, message_id: str) -> MessageRecord:
        message_id = clean_text(message_id)  # no such id, rather than a refused query
        with self._tx() as session:
            row = session.scalars(select(MessageRow).where(MessageRow.id == message_id)).first()
            if row is None:
                raise MessageNotFound(
                    f"no message with id {message_id!r}",
                    hint="ids are returned by POST /ingest/{route}; find them by order number "
                    "with `hub messages find KEY` or GET /messages?correlation_key=KEY",
                )
            deliveries = session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.message_id == message_id)
                .order_by(DeliveryRow.id)
            ).all()
            events = session.scalars(
                select(EventRow).where(EventRow.message_id == message_id).order_by(EventRow.id)
            ).all()
            error = stored_error(row)
            status = MessageStatus(row.status)
            return MessageRecord(
                message=message_of(row, self.sealer),
                status=status,
                attempts=row.attempts,
                next_attempt_at=None if status.is_final else row.next_attempt_at,
                updated_at=row.updated_at,
                mapping_name=row.mapping_name,
                mapping_hash=row.mapping_hash,
                output_size=None
                if row.output is None
                else len(self.sealer.open(row.output, row.sealed)),
                payload_dropped_at=row.payload_dropped_at,
                error=error,
                deliveries=tuple(
                    SinkDelivery(
                        sink=d.sink,
                        status=DeliveryStatus(d.status),
                        attempts=d.attempts,
                        last_error=d.last_error,
                        delivered_at=d.delivered_at,
                    )
                    for d in deliveries
                ),
                events=tuple(
                    unpacked(
                        Event(kind=e.kind, detail=e.detail, sink=e.sink, data=e.data, at=e.at)
                        for e in events
                    )
                ),
            )

    def output(self, message_id: str) -> tuple[bytes, str] | None:
        """The translated payload and its content type, or None before translation."""
        message_id = clean_text(message_id)
        with self._tx() as session:
            row = session.execute(
                select(
                    MessageRow.output,
                    MessageRow.output_content_type,
                    MessageRow.sealed,
                    MessageRow.payload_dropped_at,
                ).where(MessageRow.id == message_id)
            ).first()
            if row is None:
                raise MessageNotFound(f"no message with id {message_id!r}")
            if row[3] is not None:
                raise dropped(row[3])
            if row[0] is None:
                return None
            return self.sealer.open(row[0], row[2]), row[1] or "application/octet-stream"

    def count_by_status(self) -> dict[MessageStatus, int]:
        with self._tx() as session:
            rows = session.execute(
                select(MessageRow.status, func.count()).group_by(MessageRow.status)
            ).all()
            return {MessageStatus(status): count for status, count in rows}


def dropped(at: datetime) -> PayloadDropped:
    """What asking for a payload retention dropped is answered with."""
    return PayloadDropped(
        f"the body and output were dropped by retention on {at:%Y-%m-%d %H:%M} UTC",
        hint="its status and history are still there (GET /messages/{id}); "
        "store.retention.payload_days sets how long payloads are kept",
    )


def _wrap(exc: DBAPIError) -> StoreError:
    """SQLAlchemy's errors -> the hub's: unavailable (retry later) or refused."""
    reason = str(exc.orig or exc)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return StoreError(
            f"the store has no tables yet ({reason.splitlines()[0]})",
            hint="run `hub db upgrade --config FILE`, or set store.auto_migrate: true",
        )
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return StoreUnavailable(
            f"the store is unavailable: {reason.splitlines()[0]}",
            hint="check that the database is running and store.url is right",
        )
    return StoreError(f"the store refused an operation: {reason.splitlines()[0]}")


def _storable_batch(messages: Message | Sequence[Message]) -> list[Message]:
    return [storable(m) for m in ([messages] if isinstance(messages, Message) else messages)]


def _twin_committed(exc: StoreError) -> bool:
    """A unique key taken by a concurrent request's commit: adding again finds its id."""
    return isinstance(exc.__cause__, IntegrityError)
