"""The ``directory`` poll source: pick up files a partner or a program drops in a folder.

A file is taken once it has settled (not modified for ``settle_seconds``), so a file still
being written is left alone; hidden files and ``ignore`` patterns (``*.tmp``, ``*.part``)
are never taken. Each file's key is its name, size and modification time: after a crash
between the hub's commit and the move to ``done/``, the file is found again and the hub
recognises it by that key, so it is stored once. A file is moved (or deleted) only after
the hub has committed it.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from hub.sdk import (
    ConnectorPlugin,
    Inbound,
    Poll,
    Polled,
    PollSource,
    RetriableSourceError,
    SourceError,
)
from hub.sdk.files import FileRules, file_key, settled_order, too_big, wanted

__all__ = ["DirectoryOptions", "DirectorySource", "plugin"]

_CONTENT_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".edi": "application/edifact",
    ".x12": "application/edi-x12",
}


class DirectoryOptions(FileRules):
    separators = "/\\"  # a local folder, on Windows too
    path: Path = Field(description="the folder to watch; relative paths start at the config's")
    done: Path | None = Field(
        Path("done"),
        description="where taken files go (relative to `path`); null: delete them",
    )
    error: Path = Field(
        Path("error"), description="where refused files go (relative to `path`), with a reason"
    )


@dataclass(frozen=True)
class _Found:
    path: Path
    size: int
    mtime: int  # ns

    @property
    def name(self) -> str:
        return self.path.name


class DirectorySource(PollSource[DirectoryOptions]):
    options_model = DirectoryOptions

    @property
    def folder(self) -> Path:
        return self.context.resolve(self.options.path)

    def _aside(self, sub: Path) -> Path:
        return sub if sub.is_absolute() else self.folder / sub

    def poll(self, cursor: str | None, limit: int) -> Poll:
        found = self._settled()
        items: list[Polled] = []
        for entry in found[:limit]:
            try:
                body = entry.path.read_bytes() if entry.size <= self.options.max_bytes else b""
            except FileNotFoundError:
                continue  # taken by someone else between the listing and the read
            except OSError as exc:
                raise SourceError(
                    f"cannot read {entry.path}: {exc.strerror}",
                    where=str(entry.path),
                    hint="give the hub's user read access to the folder's files",
                ) from None
            items.append(
                Polled(
                    Inbound(
                        body=body,
                        headers={"file-name": entry.path.name, "file-size": str(entry.size)},
                        content_type=_CONTENT_TYPES.get(entry.path.suffix.lower()),
                    ),
                    key=file_key(entry),
                    ref=entry,
                )
            )
        return Poll(items, cursor=None, more=len(found) > limit)

    def _settled(self) -> list[_Found]:
        folder = self.folder
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            raise RetriableSourceError(
                f"the folder {folder} does not exist",
                where=str(folder),
                hint="create it, or mount the share it lives on; the hub keeps trying",
            ) from None
        except OSError as exc:
            raise SourceError(
                f"cannot list the folder {folder}: {exc.strerror}",
                where=str(folder),
                hint="give the hub's user read and write access to the folder",
            ) from None
        cutoff = time.time_ns() - int(self.options.settle_seconds * 1e9)
        found: list[_Found] = []
        for name in names:
            if not wanted(name, self.options):
                continue
            path = folder / name
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if not os.path.isfile(path) or stat.st_mtime_ns > cutoff:
                continue  # a folder, or still being written
            found.append(_Found(path, stat.st_size, stat.st_mtime_ns))
        taken, refused = settled_order(found, self.options)
        for entry in refused:  # never read: refuse at once, with the reason beside it
            self._move(entry, self._aside(self.options.error), too_big(entry, self.options))
        return taken

    def confirm(self, items: Sequence[Polled]) -> None:
        for item in items:
            entry = item.ref
            assert isinstance(entry, _Found)
            if self.options.done is None:
                try:
                    entry.path.unlink()
                except FileNotFoundError:
                    pass  # confirmed before a crash
                except OSError as exc:
                    raise SourceError(f"cannot delete {entry.path}: {exc.strerror}") from None
            else:
                self._move(entry, self._aside(self.options.done), None)

    def reject(self, item: Polled, reason: str) -> None:
        entry = item.ref
        assert isinstance(entry, _Found)
        self._move(entry, self._aside(self.options.error), reason)

    def _move(self, entry: _Found, target_dir: Path, reason: str | None) -> None:
        """Move the file aside under a name not yet taken; write the reason beside it."""
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / entry.path.name
            if target.exists():  # the same name dropped again: keep both
                target = target_dir / f"{entry.path.stem}.{entry.mtime}{entry.path.suffix}"
            os.replace(entry.path, target)
            if reason is not None:
                target.with_name(target.name + ".error.txt").write_text(reason + "\n")
        except FileNotFoundError:
            return  # moved before a crash: the file is where it should be
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                hint = "put the done/error folders on the same file system as the folder"
            else:
                hint = "give the hub's user write access to the folder"
            raise SourceError(
                f"cannot move {entry.path} to {target_dir}: {exc.strerror}", hint=hint
            ) from None


plugin = ConnectorPlugin(
    name="directory",
    description="poll a local folder for files; move each to done/ once stored",
    source=DirectorySource,
)
