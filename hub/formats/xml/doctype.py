"""The DOCTYPE a document may carry: one that only names an external DTD, never read.

cXML documents all start with ``<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/...">``. The
DTD it names is never loaded (the parser has ``load_dtd=False`` and ``no_network``), so
such a DOCTYPE is harmless and let through. An internal subset (``[...]``) is where
entities are declared, the stuff of XXE and entity bombs: it stays refused, read here
from the DOCTYPE's text before the parser ever sees the subset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from hub.errors import DecodeError

__all__ = ["DOCTYPE_HINT", "Doctype", "doctype_line", "read_doctype"]

DOCTYPE_HINT = (
    "a DOCTYPE may only name an external DTD, which is never read "
    '(<!DOCTYPE cXML SYSTEM "cXML.dtd">); remove the internal subset [...] and its '
    "declarations, documents are checked with an XSD instead"
)
#: How far past the bytes already read a DOCTYPE's end is looked for.
_MAX_DOCTYPE = 64 * 1024
_LITERAL = r"(?:\"([^\"]*)\"|'([^']*)')"
_DOCTYPE = re.compile(
    rf"<!DOCTYPE\s+([^\s>\[]+)"
    rf"(?:\s+(?:SYSTEM\s+{_LITERAL}|PUBLIC\s+{_LITERAL}\s+{_LITERAL}))?"
    rf"\s*([>\[])"
)
# Comments and processing instructions may mention "<!DOCTYPE" before the real one.
_MARKUP = re.compile(r"<!--.*?-->|<\?.*?\?>|<!DOCTYPE", re.DOTALL)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


@dataclass(frozen=True)
class Doctype:
    """A DOCTYPE without internal subset: the root's name and the DTD's identifiers."""

    name: str
    system: str | None = None
    public: str | None = None


def _text(data: bytes) -> str:
    """The document's characters, enough to read markup (ASCII-compatible: as latin-1)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    return data.decode("latin-1")


def doctype_line(text: str) -> str | None:
    """Where the DOCTYPE is, for the message (the parser target is not told)."""
    found = _find(text)
    return None if found < 0 else f"line {text.count(chr(10), 0, found) + 1}"


def _find(text: str) -> int:
    for match in _MARKUP.finditer(text):
        if match.group() == "<!DOCTYPE":
            return match.start()
    return -1


def read_doctype(seen: list[bytes], rest: Iterator[bytes]) -> tuple[bytes, Doctype]:
    """The DOCTYPE the parser stopped at, reading on from ``rest`` to its end if needed.

    Returns every byte read and the DOCTYPE; raises DecodeError for an internal subset
    or a DOCTYPE that cannot be read.
    """
    data = b"".join(seen)
    limit = len(data) + _MAX_DOCTYPE
    while True:
        text = _text(data)
        start = _find(text)
        match = _DOCTYPE.match(text, start) if start >= 0 else None
        if match is not None:
            break
        chunk = next(rest, b"") if len(data) < limit else b""
        if not chunk:
            raise _refused(text)
        data += chunk
    if match.group(8) == "[":
        raise _refused(text)
    system = match.group(2) or match.group(3) or match.group(6) or match.group(7)
    public = match.group(4) or match.group(5)
    return data, Doctype(match.group(1), system=system, public=public)


def _refused(text: str) -> DecodeError:
    return DecodeError(
        "DTDs and entities are not allowed", where=doctype_line(text), hint=DOCTYPE_HINT
    )
