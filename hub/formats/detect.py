"""Guess a document's format from its name and first bytes, for the CLI."""

from __future__ import annotations

from pathlib import Path

from hub.errors import DecodeError

__all__ = ["guess_format"]

_BY_SUFFIX = {
    ".json": "json",
    ".xml": "xml",
    ".csv": "csv",
    ".tsv": "csv",
    ".edi": "edifact",
    ".edifact": "edifact",
    ".edi.txt": "edifact",
    ".x12": "x12",
}


def guess_format(path: Path, data: bytes) -> str:
    """``.json``/``.xml``/``.csv``/``.edi``/``.x12`` by name, else by content; raises if unsure."""
    suffix = "".join(path.suffixes[-2:]).lower()
    for ending, name in _BY_SUFFIX.items():
        if suffix.endswith(ending):
            return name
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3]
    if head in (b"UNA", b"UNB"):
        return "edifact"
    if head == b"ISA":
        return "x12"
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<":
        return "xml"
    raise DecodeError(
        f"cannot tell the format of {path.name}",
        hint="give it with --format (json, xml, csv, edifact, x12)",
    )
