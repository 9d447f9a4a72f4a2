"""On a SQLite file a commit is fsynced after the write lock is released (so another writer,
such as a worker process, is not kept waiting by the disk) and before the caller is answered:
the 202 still means "on disk"."""

from __future__ import annotations

import errno
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.errors import StoreUnavailable
from hub.message import Message, MessageStatus
from hub.store import Store, durable


def message() -> Message:
    return Message(id=str(uuid.uuid4()), route="r", source="http", body=b"{}", format="json")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    yield store
    store.close()


def lock_is_free(lock_file: Path) -> bool:
    """Whether another opener could take the store's write lock now."""
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, bool]]:
    """Every fsync the store makes: (file name, whether the write lock was free then)."""
    seen: list[tuple[str, bool]] = []
    real = os.fsync

    def recording(fd: int) -> None:
        name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
        seen.append((name, lock_is_free(tmp_path / "hub.db.lock")))
        real(fd)

    monkeypatch.setattr(durable.os, "fsync", recording)
    return seen


def test_an_ingest_commit_is_fsynced_outside_the_lock_before_add_returns(
    sqlite_store: Store, fsyncs: list[tuple[str, bool]]
) -> None:
    [stored] = sqlite_store.add(message(), ["erp"])
    assert fsyncs, "add returned before any fsync of the log"
    assert fsyncs[-1] == ("hub.db-wal", True)
    assert sqlite_store.get(stored).status == MessageStatus.RECEIVED


def test_a_direct_write_is_fsynced_and_a_read_is_not(
    sqlite_store: Store, fsyncs: list[tuple[str, bool]]
) -> None:
    [stored] = sqlite_store.add(message(), ["erp"])
    fsyncs.clear()
    assert sqlite_store.renew(stored, "nobody", lease_seconds=5) is False  # writes nothing
    sqlite_store.get(stored)
    sqlite_store.count_by_status()
    assert fsyncs == []
    claimed = sqlite_store.claim("w", lease_seconds=30, limit=5)
    assert [c.message.id for c in claimed] == [stored]
    assert fsyncs == [("hub.db-wal", True)]  # the claim's lease, through the writer
    fsyncs.clear()
    assert sqlite_store.renew(stored, "w", lease_seconds=60) is True
    assert fsyncs == [("hub.db-wal", True)]


def test_a_commit_that_cannot_be_made_durable_is_not_reported_stored(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(_fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(durable.os, "fsync", failing)
    with pytest.raises(StoreUnavailable, match="could not make a commit durable"):
        sqlite_store.add(message(), ["erp"])
    monkeypatch.undo()
    [again] = sqlite_store.add(message(), ["erp"])  # the disk is back: the store works on
    assert sqlite_store.get(again).status == MessageStatus.RECEIVED
