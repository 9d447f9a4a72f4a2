"""Where the XSD violations of a big stream are, found in bounded memory.

libxml2 reports violations found while validating a stream without a line or a path.
Loading the document whole to validate it again would place them, at ten times the
file's size in memory. Instead the stream is read once more by a pull parser fed one
tag at a time (up to each ``>``): a violation shows up in the parser's log right after
the tag where libxml2 found it, and its message names the element (``Element
'{uri}Quantity': ...``), so it is placed at the element of that name just parsed.
Elements are freed as they end: memory stays that of one block and the open elements.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from lxml import etree

from hub.errors import Problem
from hub.formats.xml.convert import release
from hub.formats.xml.names import qname
from hub.formats.xml.parse import HARDENED, source_line
from hub.formats.xml.xsd import XsdSchema, readable_message

__all__ = ["locate_violations"]

_BLOCK = 64 * 1024
_ELEMENT = re.compile(r"^Element '([^']+)'")


def _place(
    message: str,
    open_elements: list[tuple[etree._Element, dict[str, int], int]],
    ended: tuple[etree._Element, int] | None,
) -> str | None:
    """``line N, /path`` of the element the message names: open, or the one just ended."""
    named = _ELEMENT.match(message)
    if named is None:
        return None
    chain = [(element, index) for element, _, index in open_elements]
    if ended is not None:
        chain.append(ended)
    while chain and chain[-1][0].tag != named.group(1):
        chain.pop()
    if not chain:
        return None
    path = "".join(f"/{qname(e)}[{i}]" if i > 1 else f"/{qname(e)}" for e, i in chain)
    line = source_line(chain[-1][0])
    return f"line {line}, {path}" if line else path


def locate_violations(handle: BinaryIO, schema: XsdSchema, *, limit: int) -> list[Problem]:
    """The violations of the stream from ``handle``'s position, placed; at most ``limit``."""
    parser = etree.XMLPullParser(events=("start", "end"), schema=schema.schema, **HARDENED)
    #: The open elements: (element, child Clark name -> count, its number among its kind).
    stack: list[tuple[etree._Element, dict[str, int], int]] = []
    root: etree._Element | None = None
    problems: list[Problem] = []
    seen = 0
    read_events: Any = parser.read_events

    def drain() -> None:
        nonlocal seen, root
        ended: tuple[etree._Element, int] | None = None
        for event, element in read_events():
            if event == "start":
                if stack:
                    counts = stack[-1][1]
                    number = counts[element.tag] = counts.get(element.tag, 0) + 1
                else:
                    number, root = 1, element
                stack.append((element, {}, number))
                ended = None
            else:
                _, _, number = stack.pop()
                ended = (element, number)
        log: Any = parser.feed_error_log  # a snapshot: read it each time
        if len(log) > seen:
            for entry in list(log)[seen:]:
                if entry.domain_name == "SCHEMASV" and len(problems) < limit:
                    message = str(entry.message)
                    problems.append(
                        Problem(
                            readable_message(message, root), where=_place(message, stack, ended)
                        )
                    )
            seen = len(log)
        if ended is not None and stack:
            release(ended[0])

    try:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            position, size = 0, len(block)
            while position < size:
                end = block.find(b">", position)
                end = size if end < 0 else end + 1
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
