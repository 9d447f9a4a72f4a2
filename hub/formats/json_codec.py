"""JSON: strict decoding (UTF-8, one document, no NaN) with line and column in errors."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import Field

from hub.errors import DecodeError, EncodeError
from hub.formats.base import CodecOptions, Tree

__all__ = ["JsonCodec", "JsonOptions"]


class JsonOptions(CodecOptions):
    indent: int | None = Field(None, ge=0, le=8, description="pretty-print on encode")
    ensure_ascii: bool = Field(False, description="escape non-ASCII characters on encode")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class JsonCodec:
    name: ClassVar[str] = "json"
    content_type: ClassVar[str] = "application/json"
    extension: ClassVar[str] = "json"
    options_model: ClassVar[type[CodecOptions]] = JsonOptions

    def __init__(self, options: JsonOptions | None = None) -> None:
        self.options = options or JsonOptions()

    def decode(self, data: bytes) -> Tree:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        try:
            text = data[bom:].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = bom + exc.start
            raise DecodeError(
                f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset} is not valid here",
                where=f"byte {offset}",
                hint="JSON must be UTF-8 encoded",
            ) from None
        if not text.strip():
            raise DecodeError("the body is empty", hint="send one JSON document")
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise DecodeError(
                f"invalid JSON: {exc.msg}",
                where=f"line {exc.lineno}, column {exc.colno}",
                hint="check the character at that position",
            ) from None
        except (ValueError, RecursionError) as exc:
            raise DecodeError(f"invalid JSON: {exc}") from None

    def encode(self, tree: Tree) -> bytes:
        try:
            text = json.dumps(
                tree,
                ensure_ascii=self.options.ensure_ascii,
                indent=self.options.indent,
                allow_nan=False,
            )
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"cannot encode as JSON: text holds a character UTF-8 cannot carry ({exc.reason})",
                hint="a lone surrogate usually comes from a broken source; fix it in the mapping",
            ) from None
        except (TypeError, ValueError, RecursionError) as exc:
            raise EncodeError(f"cannot encode as JSON: {exc}") from None
