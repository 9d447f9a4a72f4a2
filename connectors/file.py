"""The ``file`` sink: write each message into a directory, atomically.

The file is written under a temporary name, flushed to disk and renamed, and the
directory flushed after the rename, so a reader polling the directory never sees half a
file and a delivery the engine records survives a power cut. A batch
(:meth:`FileSink.deliver_many`) flushes its files together and the directory once. The
name is fixed per message and sink, so a redelivery overwrites rather than duplicates.

Each placeholder value is percent-encoded (:func:`escape`): different values give
different names, so two messages never overwrite each other's file because their
keys differ only in characters a file name cannot hold (``a/b`` and ``a_b``).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import string
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import Field, field_validator

from hub.sdk import (
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    HubError,
    Receipt,
    RetriableDeliveryError,
    Sink,
)

__all__ = ["FileSink", "FileSinkOptions", "plugin"]

_FIELDS = {"route", "sink", "message_id", "correlation", "extension"}
_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
#: What ``{correlation}`` becomes for a message without a correlation key.
NO_KEY = "none"
#: The errors of a name the file system cannot hold: retrying cannot help.
_BAD_NAME = {errno.ENAMETOOLONG, errno.EINVAL}


class FileSinkOptions(ConnectorOptions):
    directory: Path = Field(description="relative paths start at the config file's folder")
    filename: str = Field(
        "{correlation}-{message_id}.{extension}",
        description="template with {route} {sink} {message_id} {correlation} {extension}",
    )
    create_directory: bool = True
    fsync: bool = Field(True, description="flush to disk before the rename (durable)")

    @field_validator("filename")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        unknown = used - _FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(_FIELDS)}")
        if "/" in value or "\\" in value:
            raise ValueError("the filename must not contain a path separator")
        return value


#: A new file of our own: never an existing one (O_EXCL), never a link followed.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
#: A value every character of which is kept as it is (the common case: no loop per byte).
_PLAIN = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9._\-]*")


def escape(value: str) -> str:
    """``value`` as a part of a file name, reversibly: every UTF-8 byte outside
    ``A-Z a-z 0-9 . _ -`` becomes ``%XX`` (``%`` itself too), and so does a leading ``.``
    (no hidden files, no ``..``). Unquoting the result gives ``value`` back.
    """
    if _PLAIN.fullmatch(value):
        return value
    encoded = "".join(
        chr(byte) if byte in _KEPT else f"%{byte:02X}"
        for byte in value.encode("utf-8", "surrogatepass")
    )
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def _correlation(key: str | None) -> str:
    """``none`` for no key; a key that is the text ``none`` is written ``%6Eone``."""
    if key is None:
        return NO_KEY
    return "%6E" + key[1:] if key == NO_KEY else escape(key)


class FileSink(Sink[FileSinkOptions]):
    options_model = FileSinkOptions
    # A redelivery writes the same file name again: one file per message.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def target(self, delivery: Delivery) -> Path:
        name = self.options.filename.format(
            route=escape(delivery.route),
            sink=escape(delivery.sink),
            message_id=escape(delivery.message_id),
            correlation=_correlation(delivery.correlation_key),
            extension=escape(delivery.extension),
        )
        return self.directory / name

    @property
    def directory(self) -> Path:
        return self.context.resolve(self.options.directory)

    def deliver(self, delivery: Delivery) -> Receipt:
        [outcome] = self.deliver_many([delivery])
        if isinstance(outcome, HubError):
            raise outcome
        return outcome

    def deliver_many(self, deliveries: Sequence[Delivery]) -> list[Receipt | HubError]:
        """Write every file under a temporary name, fsync them all at once (in parallel
        threads: the disk takes them together), rename each into place, then fsync the
        directory once, so the renames too are on disk before the engine records them."""
        directory = self.directory
        outcomes: list[Receipt | HubError | None] = [None] * len(deliveries)
        staged: list[tuple[int, int, str]] = []  # (index, open fd, temporary path)
        with _entries_lock(directory):
            for index, delivery in enumerate(deliveries):
                try:
                    staged.append((index, *self._stage(directory, delivery)))
                except HubError as exc:
                    outcomes[index] = exc
        if self.options.fsync:
            synced = _sync_all([fd for _, fd, _ in staged])
        else:
            synced = [None] * len(staged)
        with _entries_lock(directory):
            renamed = self._place(directory, deliveries, staged, synced, outcomes)
        if renamed and self.options.fsync:
            try:
                _sync_directory(directory)
            except OSError as exc:
                lost = RetriableDeliveryError(f"cannot fsync {directory}: {exc.strerror or exc}")
                outcomes = [lost if isinstance(o, Receipt) else o for o in outcomes]
        return [o if o is not None else RetriableDeliveryError("not written") for o in outcomes]

    def _place(
        self,
        directory: Path,
        deliveries: Sequence[Delivery],
        staged: list[tuple[int, int, str]],
        synced: list[OSError | None],
        outcomes: list[Receipt | HubError | None],
    ) -> bool:
        """Rename each flushed file to its name (its outcome into ``outcomes``); whether
        any was renamed."""
        renamed = False
        for (index, fd, tmp), error in zip(staged, synced, strict=True):
            os.close(fd)
            delivery = deliveries[index]
            target = self.target(delivery)
            try:
                if error is not None:
                    raise error
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    if exc.errno in _BAD_NAME:
                        raise _unusable_name(target.name, exc) from None
                    raise
            except HubError as exc:
                Path(tmp).unlink(missing_ok=True)
                outcomes[index] = exc
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                outcomes[index] = _os_error(directory, target, exc)
            else:
                renamed = True
                outcomes[index] = Receipt(f"wrote {target} ({len(delivery.body)} bytes)")
        return renamed

    def _stage(self, directory: Path, delivery: Delivery) -> tuple[int, str]:
        """The delivery's body in a new temporary file (left open for the fsync). The
        directory is made only when the file cannot be created for want of it (not one
        ``mkdir`` per file)."""
        try:
            try:
                fd, tmp = _new_file(directory)
            except FileNotFoundError:
                if not self.options.create_directory:
                    raise
                directory.mkdir(parents=True, exist_ok=True)
                fd, tmp = _new_file(directory)
        except OSError as exc:
            raise _os_error(directory, self.target(delivery), exc) from None
        try:
            view = memoryview(delivery.body)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException as exc:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _os_error(directory, self.target(delivery), exc) from None
            raise
        return fd, tmp


def _new_file(directory: Path) -> tuple[int, str]:
    """A new file ``.partial-<random>`` in ``directory``, open for writing, with the mode
    a plain ``open`` gives (0666 less the umask: the reader may be another user), as
    ``tempfile.mkstemp`` does but without its 0600 and the ``chmod`` after it."""
    for _ in range(100):
        path = os.path.join(directory, f".partial-{secrets.token_hex(8)}")
        try:
            return os.open(path, _CREATE, 0o666), path
        except FileExistsError:  # 2**64 names: only a broken random source repeats
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(directory))


_entry_locks: dict[str, threading.Lock] = {}
_entry_locks_guard = threading.Lock()


def _entries_lock(directory: Path) -> threading.Lock:
    """One lock per directory for making and renaming its entries. The kernel takes the
    directory's own lock for each; two threads creating files in one directory at once
    spin on it (measured: a fifth of a worker's CPU on ext4), while waiting here sleeps."""
    key = os.fspath(directory)
    found = _entry_locks.get(key)
    if found is None:
        with _entry_locks_guard:
            found = _entry_locks.setdefault(key, threading.Lock())
    return found


_SYNC_THREADS = 16
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _sync_pool() -> ThreadPoolExecutor:
    """Threads that fsync a batch's files at once (shared by every file sink: a disk
    flushes many files in about the time of one)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="hub-file-sync")
        return _pool


def _sync_all(fds: list[int]) -> list[OSError | None]:
    """fsync every file, at most ``_SYNC_THREADS`` at a time: each thread takes one lane
    (every n-th file), so a batch of 50 costs 16 hand-offs to the pool, not 50."""
    if len(fds) <= 1:
        return [_sync(fd) for fd in fds]
    lanes = min(_SYNC_THREADS, len(fds))
    found: list[OSError | None] = [None] * len(fds)
    for lane, errors in enumerate(
        _sync_pool().map(_sync_lane, [fds[i::lanes] for i in range(lanes)])
    ):
        found[lane::lanes] = errors
    return found


def _sync_lane(fds: list[int]) -> list[OSError | None]:
    return [_sync(fd) for fd in fds]


def _sync(fd: int) -> OSError | None:
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    return None


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _os_error(directory: Path, target: Path, exc: OSError) -> HubError:
    """What a failed write means for the engine: retry later, or a person must act."""
    if isinstance(exc, FileNotFoundError):
        return RetriableDeliveryError(
            f"directory {directory} does not exist",
            hint="create it, or set create_directory: true",
        )
    if isinstance(exc, PermissionError):
        return FatalDeliveryError(
            f"no permission to write in {directory}: {exc.strerror}",
            hint="give the hub's user write access, then send the message again",
        )
    return RetriableDeliveryError(f"cannot write {target}: {exc.strerror or exc}")


def _unusable_name(name: str, exc: OSError) -> FatalDeliveryError:
    """A name the file system refuses will be refused on every attempt: say so and why."""
    size = len(name.encode("utf-8", "surrogatepass"))
    shown = name if len(name) <= 80 else f"{name[:60]}...{name[-12:]}"
    return FatalDeliveryError(
        f"the file system cannot hold the file name {shown} ({size} bytes): {exc.strerror or exc}",
        hint="shorten the sink's filename template (most file systems allow 255 bytes; a "
        "long {correlation} grows when escaped), or use {message_id}; then replay the message",
    )


plugin = ConnectorPlugin(
    name="file",
    description="Write each message atomically into a directory (an outbox).",
    sink=FileSink,
)
