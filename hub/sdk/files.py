"""What the poll sources that take files from a folder share (``directory`` on a local
folder, ``sftp`` on a remote one): which names they take, the order they take them in, the
size they refuse, and the key that recognises a file found again after a crash.

Where the files live, how they are read and how they are moved aside differ, and stay
with each source.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import ClassVar, Protocol, TypeVar

from pydantic import Field, field_validator

from hub.sdk.base import ConnectorOptions

__all__ = ["FileRules", "Listed", "file_key", "settled_order", "too_big", "wanted"]


class FileRules(ConnectorOptions):
    """The options of a source that takes files from a folder."""

    #: The characters that separate folders where the files live (a pattern has none).
    separators: ClassVar[str] = "/"

    pattern: str = Field("*", description='which file names to take, a glob such as "*.edi"')
    ignore: list[str] = Field(
        default_factory=lambda: ["*.tmp", "*.part", "*.partial", "*.filepart", "~*"],
        description="name globs never taken (files being written under a temporary name)",
    )
    settle_seconds: float = Field(
        2.0, ge=0, description="take a file only once it has not changed for this long"
    )
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=1, description="a bigger file is refused (moved to `error`)"
    )

    @field_validator("pattern")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if any(sep in value for sep in cls.separators):
            raise ValueError("the pattern matches names in the folder: no path separator")
        return value


class Listed(Protocol):
    """A file found in the folder; ``mtime`` in the source's own unit (its key has it)."""

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def mtime(self) -> int: ...


F = TypeVar("F", bound=Listed)


def wanted(name: str, rules: FileRules) -> bool:
    """Whether a name is one to take: not hidden, matching ``pattern``, no ``ignore`` glob."""
    if name.startswith(".") or not fnmatch.fnmatchcase(name, rules.pattern):
        return False
    return not any(fnmatch.fnmatchcase(name, glob) for glob in rules.ignore)


def settled_order(found: Iterable[F], rules: FileRules) -> tuple[list[F], list[F]]:
    """The settled files oldest first (then by name), as (to take, too big to take)."""
    ordered = sorted(found, key=lambda f: (f.mtime, f.name))
    return (
        [f for f in ordered if f.size <= rules.max_bytes],
        [f for f in ordered if f.size > rules.max_bytes],
    )


def too_big(file: Listed, rules: FileRules) -> str:
    """Why a file is refused unread, written beside it in ``error``."""
    return f"{file.size} bytes is more than max_bytes ({rules.max_bytes})"


def file_key(file: Listed) -> str:
    """Name, size and modification time: the same file found again is a repeat."""
    return f"{file.name}:{file.size}:{file.mtime}"
