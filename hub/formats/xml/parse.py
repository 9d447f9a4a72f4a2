"""Hardened XML parsing: no DTDs, no entities, no network, no huge trees.

Every document first goes through :func:`check_prolog`, a parse that stops at the
root's start tag. libxml2 reports a ``<!DOCTYPE`` to the parser target before it
reads the internal subset, so a document with a DTD is refused before a single
entity is declared, let alone expanded or fetched: external entities (XXE) and
entity bombs ("billion laughs") never get to run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lxml import etree

from hub.errors import DecodeError

__all__ = [
    "HARDENED",
    "check_prolog",
    "depth_error",
    "hardened_parser",
    "parse_document",
    "source_line",
    "syntax_error",
]

#: Parser settings used for every document, schema and stream.
HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "strip_cdata": True,
}

_DTD_HINT = "remove the <!DOCTYPE ...> declaration; documents are checked with an XSD instead"
_POSITION = re.compile(r", line \d+, column \d+$")
_SLICE = 64 * 1024  # the prolog check reads this much at a time


def source_line(element: etree._Element) -> int | None:
    """The element's line in the document (lxml-stubs leave ``sourceline`` untyped)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(**HARDENED)


class _Stop(Exception):
    """Raised from the parser target to end the prolog parse."""

    def __init__(self, doctype: bool) -> None:
        super().__init__()
        self.doctype = doctype


class _PrologTarget:
    """A parser target that stops at the DOCTYPE or at the root's start tag."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Stop(doctype=True)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _Stop(doctype=False)

    def close(self) -> None:
        return None


def check_prolog(chunks: Iterable[bytes]) -> bytes:
    """Read ``chunks`` up to the root's start tag; refuse a DOCTYPE. Returns the bytes read."""
    parser = etree.XMLParser(target=_PrologTarget(), **HARDENED)  # type: ignore[arg-type]
    seen: list[bytes] = []
    try:
        for chunk in chunks:
            seen.append(chunk)
            parser.feed(chunk)
        if not b"".join(seen).strip(b" \t\r\n"):
            raise DecodeError("the document is empty", hint="send one XML document")
        parser.close()
    except _Stop as stop:
        if stop.doctype:
            raise DecodeError(
                "DTDs and entities are not allowed",
                where=_doctype_line(b"".join(seen)),
                hint=_DTD_HINT,
            ) from None
        return b"".join(seen)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None
    raise DecodeError("the document has no root element", hint="send one XML document")


def _doctype_line(data: bytes) -> str | None:
    """Where the DOCTYPE is, for the message (the parser target is not told)."""
    text = None
    for bom, encoding in (
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace").encode("utf-8")
            break
    haystack = text if text is not None else data
    found = haystack.find(b"<!DOCTYPE")
    if found < 0:
        return None
    line = haystack.count(b"\n", 0, found) + 1
    return f"line {line}"


def syntax_error(exc: etree.XMLSyntaxError, *, max_depth: int | None = None) -> DecodeError:
    """A DecodeError from libxml2's report, with its line and column."""
    line, column = exc.position
    where = f"line {line}, column {column}" if line else None
    message = _POSITION.sub("", str(exc.msg or exc))
    if message.startswith("Excessive depth in document"):
        return depth_error(max_depth, line or None)
    return DecodeError(
        f"invalid XML: {message}", where=where, hint="check the markup at that position"
    )


def depth_error(max_depth: int | None, line: int | None) -> DecodeError:
    limit = f"{max_depth} levels" if max_depth else "the parser's limit"
    return DecodeError(
        f"the document nests elements deeper than {limit}",
        where=f"line {line}" if line else None,
        hint="raise max_depth (at most 256) if such documents are expected",
    )


def parse_document(data: bytes, *, max_depth: int) -> etree._Element:
    """The root element of ``data``, parsed by the hardened parser."""
    view = memoryview(data)
    check_prolog(bytes(view[i : i + _SLICE]) for i in range(0, len(data), _SLICE))
    parser = hardened_parser()
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, max_depth=max_depth) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None
