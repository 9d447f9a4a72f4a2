"""What a codec is: bytes in one format <-> a document tree of plain Python values."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

__all__ = ["Codec", "CodecOptions", "Tree"]

#: A document tree: dicts with string keys, lists, str, int, float, bool and None.
Tree = Any


class CodecOptions(BaseModel):
    """Base for a codec's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@runtime_checkable
class Codec(Protocol):
    """Decodes bytes into a tree and encodes a tree into bytes.

    ``decode`` raises :class:`hub.errors.DecodeError` naming the position of the
    fault; ``encode`` raises :class:`hub.errors.EncodeError`. Nothing else escapes.
    """

    name: ClassVar[str]
    content_type: ClassVar[str]
    extension: ClassVar[str]
    options_model: ClassVar[type[CodecOptions]]

    def decode(self, data: bytes) -> Tree: ...

    def encode(self, tree: Tree) -> bytes: ...
