"""The ``file`` sink: write each message into a directory, atomically.

The file is written under a temporary name, flushed to disk and renamed, so a
reader polling the directory never sees half a file. The name is fixed per
message and sink, so a redelivery overwrites rather than duplicates.
"""

from __future__ import annotations

import os
import re
import string
import tempfile
from pathlib import Path

from pydantic import Field, field_validator

from hub.sdk import (
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Receipt,
    RetriableDeliveryError,
    Sink,
)

__all__ = ["FileSink", "FileSinkOptions", "plugin"]

_FIELDS = {"route", "sink", "message_id", "correlation", "extension"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


def _current_umask() -> int:
    """Read once at import, while the process is still single-threaded."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()  # what open() would give a new file


def _safe(value: str) -> str:
    return _UNSAFE.sub("_", value).strip("._") or "none"


class FileSink(Sink[FileSinkOptions]):
    options_model = FileSinkOptions
    # A redelivery writes the same file name again: one file per message.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def target(self, delivery: Delivery) -> Path:
        name = self.options.filename.format(
            route=_safe(delivery.route),
            sink=_safe(delivery.sink),
            message_id=_safe(delivery.message_id),
            correlation=_safe(delivery.correlation_key or "none"),
            extension=_safe(delivery.extension),
        )
        return self.directory / name

    @property
    def directory(self) -> Path:
        return self.context.resolve(self.options.directory)

    def deliver(self, delivery: Delivery) -> Receipt:
        directory = self.directory
        target = self.target(delivery)
        try:
            if self.options.create_directory:
                directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=directory)
            try:
                os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600: the reader may be another user
                with os.fdopen(fd, "wb") as handle:
                    handle.write(delivery.body)
                    if self.options.fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except FileNotFoundError:
            raise RetriableDeliveryError(
                f"directory {directory} does not exist",
                hint="create it, or set create_directory: true",
            ) from None
        except PermissionError as exc:
            raise FatalDeliveryError(
                f"no permission to write in {directory}: {exc.strerror}",
                hint="give the hub's user write access, then send the message again",
            ) from None
        except OSError as exc:
            raise RetriableDeliveryError(f"cannot write {target}: {exc.strerror or exc}") from None
        return Receipt(f"wrote {target} ({len(delivery.body)} bytes)")


plugin = ConnectorPlugin(
    name="file",
    description="Write each message atomically into a directory (an outbox).",
    sink=FileSink,
)
