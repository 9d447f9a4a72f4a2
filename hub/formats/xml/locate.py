"""Where the XSD violations of a big stream are, found in bounded memory.

libxml2 reports violations found while validating a stream without a line or a path.
Loading the document whole to validate it again would place them, at ten times the
file's size in memory. Instead the stream is read once more by a pull parser fed one
tag at a time (up to each ``>``): a violation shows up in the parser's log right after
the tag where libxml2 found it, and its message names the element (``Element
'{uri}Quantity': ...``), so it is placed at the latest element of that name. Elements
are freed as they end: memory stays that of one block and the open elements' paths.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any, BinaryIO

from lxml import etree

from hub.errors import Problem
from hub.formats.xml.convert import release
from hub.formats.xml.names import qname
from hub.formats.xml.parse import HARDENED, source_line
from hub.formats.xml.xsd import XsdSchema, readable_message

__all__ = ["locate_violations"]

_BLOCK = 64 * 1024
_RECENT = 512  # elements remembered to place a violation reported a little later
_ELEMENT = re.compile(r"^Element '([^']+)'")


class _Paths:
    """The open elements' paths (``/StockReport/Item[2]/Quantity``) and the latest events."""

    def __init__(self) -> None:
        self.open: list[tuple[str, dict[str, int]]] = []  # (path, child name -> count)
        #: (number, "start"/"end", Clark name, line, path) of the latest events.
        self.recent: deque[tuple[int, str, str, int | None, str]] = deque(maxlen=_RECENT)
        self.events = 0
        self.root: etree._Element | None = None

    def start(self, element: etree._Element) -> None:
        name = qname(element)
        if self.open:
            parent, counts = self.open[-1]
            number = counts[name] = counts.get(name, 0) + 1
            path = f"{parent}/{name}[{number}]" if number > 1 else f"{parent}/{name}"
        else:
            path, self.root = f"/{name}", element
        self.open.append((path, {}))
        self.remember("start", element, path)

    def end(self, element: etree._Element) -> None:
        path, _ = self.open.pop()
        self.remember("end", element, path)

    def remember(self, kind: str, element: etree._Element, path: str) -> None:
        self.recent.append((self.events, kind, element.tag, source_line(element), path))
        self.events += 1

    def place(self, message: str) -> str | None:
        """Where the violation is: the latest element of the name the message gives."""
        named = _ELEMENT.match(message)
        if named is None:
            return None
        for _, _, clark, line, path in reversed(self.recent):
            if clark == named.group(1):
                return f"line {line}, {path}" if line else path
        return None


def locate_violations(handle: BinaryIO, schema: XsdSchema, *, limit: int) -> list[Problem]:
    """The violations of the stream from ``handle``'s position, placed; at most ``limit``."""
    parser = etree.XMLPullParser(events=("start", "end"), schema=schema.schema, **HARDENED)
    paths = _Paths()
    problems: list[Problem] = []
    seen = 0

    def drain() -> None:
        nonlocal seen
        events: Any = parser.read_events()
        for event, element in events:
            if event == "start":
                paths.start(element)
            else:
                paths.end(element)
                if paths.open:
                    release(element)
        log: Any = parser.feed_error_log
        if len(log) > seen:
            for entry in list(log)[seen:]:
                if entry.domain_name == "SCHEMASV" and len(problems) < limit:
                    message = str(entry.message)
                    problems.append(
                        Problem(readable_message(message, paths.root), where=paths.place(message))
                    )
            seen = len(log)

    try:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            position = 0
            while position < len(block) and len(problems) < limit:
                end = block.find(b">", position)
                end = len(block) if end < 0 else end + 1
                parser.feed(block[position:end])
                position = end
                drain()
            if len(problems) >= limit:
                break
        else:
            parser.close()
    except etree.XMLSyntaxError:
        pass  # the end of the document: the violations were logged before
    drain()
    return problems
