"""Hardened XML parsing: no DTDs read, no entities, no network, no huge trees.

Every document first goes through :func:`check_prolog`, a parse that stops at the
root's start tag. libxml2 reports a ``<!DOCTYPE`` to the parser target before it
reads the internal subset, so the parse stops there and the DOCTYPE's own text is
read by :mod:`hub.formats.xml.doctype`: one that only names an external DTD (cXML's
``<!DOCTYPE cXML SYSTEM "...">``) is let through, since the DTD is never loaded;
one with an internal subset is refused before a single entity is declared, let
alone expanded or fetched: external entities (XXE) and entity bombs ("billion
laughs") never get to run. In a document with a DOCTYPE, a reference to an entity
the (unread) DTD would declare is refused too, instead of silently vanishing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from hub.errors import DecodeError, LimitExceeded
from hub.formats.limits import MAX_DEPTH_CEILING, shorten
from hub.formats.xml.charset import check_charset
from hub.formats.xml.doctype import Doctype, read_doctype

__all__ = [
    "EVENTS",
    "HARDENED",
    "Prolog",
    "check_prolog",
    "depth_limit",
    "document_events",
    "hardened_parser",
    "parse_document",
    "source_line",
    "stream_context",
    "stream_events",
    "syntax_error",
    "undeclared_entities",
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

#: The iterparse events the converter reads.
EVENTS = ("start-ns", "start", "end")

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


class Prolog:
    """What :func:`check_prolog` read: the bytes, and the DOCTYPE if there is one."""

    __slots__ = ("doctype", "head")

    def __init__(self, head: bytes, doctype: Doctype | None) -> None:
        self.head = head
        self.doctype = doctype


def check_prolog(chunks: Iterable[bytes]) -> Prolog:
    """Read ``chunks`` up to the root's start tag (or the DOCTYPE); refuse a DTD subset."""
    parser = etree.XMLParser(target=_PrologTarget(), **HARDENED)  # type: ignore[arg-type]
    seen: list[bytes] = []
    source = iter(chunks)
    try:
        for chunk in source:
            seen.append(chunk)
            parser.feed(chunk)
        if not b"".join(seen).strip(b" \t\r\n"):
            raise DecodeError("the document is empty", hint="send one XML document")
        parser.close()
    except _Stop as stop:
        if stop.doctype:
            return Prolog(*read_doctype(seen, source))
        return Prolog(b"".join(seen), None)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None
    raise DecodeError("the document has no root element", hint="send one XML document")


def syntax_error(exc: etree.XMLSyntaxError, *, max_depth: int = MAX_DEPTH_CEILING) -> DecodeError:
    """A DecodeError from libxml2's report, with its line and column."""
    line, column = exc.position
    message = _POSITION.sub("", str(exc.msg or exc))
    if not line:  # iterparse may raise a summary ("no element found"): the log has the fault
        log: Any = exc.error_log
        entries: list[Any] = [e for e in log if e.level_name in ("ERROR", "FATAL") and e.line]
        if entries:
            line, column, message = entries[-1].line, entries[-1].column, entries[-1].message
    where = f"line {line}, column {column}" if line else None
    if message.startswith("Excessive depth in document"):
        return depth_limit(max_depth, line or None)
    return DecodeError(
        f"invalid XML: {message}", where=where, hint="check the markup at that position"
    )


def depth_limit(maximum: int, line: int | None, name: str | None = None) -> LimitExceeded:
    """The ``max_depth`` error; libxml2's own limit (256) is the largest ``max_depth``."""
    element = f"<{shorten(name)}> " if name else ""
    return LimitExceeded(
        "max_depth",
        found=maximum + 1,
        maximum=maximum,
        what=f"the element {element}nests deeper than {maximum} levels",
        where=f"line {line}" if line else None,
        hint="if such documents are expected, raise `limits.max_depth` (hub-wide) or "
        "`input.limits.max_depth` (this route); at most 256",
    )


def _slices(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    return (bytes(view[i : i + _SLICE]) for i in range(0, len(data), _SLICE))


def parse_document(data: bytes, *, max_depth: int) -> etree._Element:
    """The root element of ``data``, parsed whole by the hardened parser.

    Decoding uses :func:`document_events`; this is for checking a document that has
    been decoded (or streamed) already, e.g. to locate XSD violations.
    """
    check_prolog(_slices(data))  # the body was decoded already: its entities are known fine
    parser = hardened_parser()
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, max_depth=max_depth) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None


def document_events(data: bytes, *, max_depth: int) -> Iterator[tuple[str, Any]]:
    """The parser events of ``data`` (a DTD subset refused first); errors are DecodeErrors."""
    prolog = check_prolog(_slices(data))
    context = etree.iterparse(io.BytesIO(data), events=EVENTS, **HARDENED)
    return _events(context, max_depth=max_depth, doctype=prolog.doctype is not None)


def stream_context(handle: BinaryIO, **options: Any) -> tuple[Any, Prolog]:
    """lxml's ``iterparse`` over a stream, read in slices, once the DOCTYPE check passed."""
    prolog = check_prolog(iter(lambda: handle.read(_SLICE), b""))
    context = etree.iterparse(_Replay(prolog.head, handle), events=EVENTS, **HARDENED, **options)
    return context, prolog


def stream_events(
    handle: BinaryIO, *, max_depth: int, charset_mismatch: str = "ignore"
) -> Iterator[tuple[str, Any]]:
    """The parser events of a stream (a DTD subset refused first); errors are DecodeErrors."""
    context, prolog = stream_context(handle)
    check_charset(prolog.head, policy=charset_mismatch, whole=False)
    return _events(context, max_depth=max_depth, doctype=prolog.doctype is not None)


def _events(context: Any, *, max_depth: int, doctype: bool) -> Iterator[tuple[str, Any]]:
    try:
        if not doctype:
            yield from context
            return
        # With a DOCTYPE, libxml2 takes an undeclared entity for one the external DTD
        # declares: it drops it with a warning. Each element is checked before it is used.
        for item in context:
            if item[0] == "end":
                undeclared_entities(context.error_log)
            yield item
        undeclared_entities(context.error_log)
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, max_depth=max_depth) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None


def undeclared_entities(log: Any) -> None:
    """Raise for the first entity reference libxml2 could not expand (it drops them)."""
    for entry in log:
        if entry.type_name == "WAR_UNDECLARED_ENTITY":
            raise DecodeError(
                f"the document refers to an entity its DTD would declare: {entry.message}",
                where=f"line {entry.line}" if entry.line else None,
                hint="DTDs are never read, so such entities cannot be expanded; "
                "write the characters themselves or a character reference (&#233;)",
            )


class _Replay:
    """A reader that gives back the bytes the prolog check read, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
        else:
            data, self.head = self.head[:size], self.head[size:]
        return data
