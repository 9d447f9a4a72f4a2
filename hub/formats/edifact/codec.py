"""The ``edifact`` codec: UN/EDIFACT interchanges <-> trees (see interchange.py for the shape)."""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Literal

from pydantic import Field

from hub.errors import DecodeError
from hub.formats.base import CodecOptions, Tree
from hub.formats.edifact.interchange import Reading, read_interchange
from hub.formats.edifact.syntax import Separators
from hub.formats.edifact.writer import write_interchange

__all__ = ["EdifactCodec", "EdifactOptions"]


class SeparatorOptions(CodecOptions):
    component: str = Field(":", min_length=1, max_length=1)
    element: str = Field("+", min_length=1, max_length=1)
    decimal: str = Field(".", min_length=1, max_length=1)
    release: str = Field("?", min_length=1, max_length=1)
    repetition: str = Field(" ", min_length=1, max_length=1)
    segment: str = Field("'", min_length=1, max_length=1)


class EdifactOptions(CodecOptions):
    # decoding
    strict_charset: bool = Field(
        True, description="refuse characters outside UNOA/UNOB instead of passing them on"
    )
    check_envelope: bool = Field(
        True, description="UNB/UNZ, UNG/UNE and UNH/UNT counts and references must agree"
    )
    # encoding
    charset: str | None = Field(None, description="write with this UNB syntax identifier")
    separators: SeparatorOptions | None = Field(None, description="write with these separators")
    newline: Literal["", "\n", "\r\n"] | None = Field(
        None, description="line break after each segment; default: as in the tree"
    )
    una: Literal["auto", "always", "never"] = "auto"
    transliterate: bool = Field(
        False, description="fold characters the charset lacks (é -> e, ß -> ss) instead of failing"
    )


class EdifactCodec:
    name: ClassVar[str] = "edifact"
    content_type: ClassVar[str] = "application/EDIFACT"
    extension: ClassVar[str] = "edi"
    options_model: ClassVar[type[CodecOptions]] = EdifactOptions

    def __init__(self, options: EdifactOptions | None = None) -> None:
        self.options = options or EdifactOptions()

    def read(self, data: bytes) -> Reading:
        """The tree and every envelope fault, without raising for faults (for CONTRL)."""
        try:
            return read_interchange(data, strict_charset=self.options.strict_charset)
        except DecodeError:
            raise
        except (ValueError, IndexError, RecursionError) as exc:  # a defect here must stay typed
            raise DecodeError(f"unreadable EDIFACT: {exc}") from None

    def decode(self, data: bytes) -> Tree:
        reading = self.read(data)
        if reading.faults and self.options.check_envelope:
            first = reading.faults[0]
            count = len(reading.faults)
            raise DecodeError(
                f"the interchange envelope has {count} fault{'s' if count > 1 else ''}: "
                f"{first.message}",
                where=first.where,
                hint=first.hint,
                problems=[f.problem() for f in reading.faults],
            )
        return reading.tree

    def encode(self, tree: Tree) -> bytes:
        seps = None
        if self.options.separators is not None:
            seps = Separators(**self.options.separators.model_dump())
        return write_interchange(
            tree,
            charset=self.options.charset,
            separators=seps,
            newline=self.options.newline,
            una=self.options.una,
            transliterate_text=self.options.transliterate,
        )

    def split(self, data: bytes) -> list[bytes]:
        """One interchange per message, each in a copy of the original envelope."""
        tree = self.decode(data)
        parts: list[bytes] = []
        for group, message in _each_message(tree):
            single = {k: v for k, v in tree.items() if k not in ("messages", "groups")}
            if group is None:
                single["messages"] = [message]
            else:
                single["groups"] = [{**group, "messages": [message]}]
            parts.append(
                write_interchange(copy.deepcopy(single), una="auto", newline=tree.get("newline"))
            )
        return parts


def _each_message(tree: dict[str, Any]) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    if "groups" in tree:
        return [(g, m) for g in tree["groups"] for m in g.get("messages", [])]
    return [(None, m) for m in tree.get("messages", [])]
