"""Find interchanges in a text, read ISA's separators, and split segments into elements.

An X12 segment is a list ``[tag, element, ...]`` as in the EDIFACT tree: an element is a
string, a list of strings when it has components (``PO1*1*10*EA***VP>ABC`` ->
``["VP", "ABC"]`` for a composite), or ``{"repeat": [...]}`` when it holds the repetition
separator (5010). ISA is kept apart: it is fixed width, and its ISA11 and ISA16 are the
separators themselves. X12 has no release character, so ``str.split`` is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.errors import DecodeError, LimitExceeded
from hub.formats.limits import DecodeLimits
from hub.formats.x12.envelope import Separators

__all__ = ["Lexed", "Segment", "find_isa", "lex", "line_of", "lines_of"]

Segment = list[Any]
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")


@dataclass(frozen=True)
class Isa:
    """ISA as found at ``start``: its 16 values, the separators, where it ends."""

    start: int
    end: int  # just after the segment terminator
    header: list[str]
    separators: Separators


@dataclass
class Lexed:
    segments: list[Segment]  # ISA first, as ["ISA", ISA01, ... ISA16]
    offsets: list[int]  # where each segment starts in the text
    newline: str | None  # the line break written after terminators, if any
    end: int  # where the interchange's last segment (and its line break) ends
    final: str  # the line break after the last segment ("" when there is none)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def lines_of(text: str, offsets: list[int]) -> list[int]:
    lines: list[int] = []
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def find_isa(text: str, start: int) -> Isa:
    """Read ISA at ``start`` (after blanks); raises DecodeError when there is none."""
    pos = start
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if text[pos : pos + 3] != "ISA":
        found = text[pos : pos + 20]
        raise DecodeError(
            f"an X12 interchange starts with ISA, found {found!r}",
            where=f"line {line_of(text, pos)}",
            hint="is this an X12 file? EDIFACT starts with UNA or UNB, XML with <",
        )
    elem = text[pos + 3 : pos + 4]
    if not elem or elem.isalnum() or elem in " \r\n":
        raise DecodeError(
            f"ISA is followed by {elem!r}, not a data element separator",
            where=f"segment 1 (ISA), line {line_of(text, pos)}",
            hint="ISA's fourth character is the element separator, e.g. ISA*00*...",
        )
    seps_at = [pos + 3]
    at = pos + 3
    limit = pos + 200  # a fixed-width ISA is 106 characters; a sloppy one a bit more
    while len(seps_at) < 16:
        at = text.find(elem, at + 1, limit)
        if at < 0:
            raise DecodeError(
                f"ISA is cut short: {len(seps_at) - 1} of its 16 data elements found",
                where=f"segment 1 (ISA), line {line_of(text, pos)}",
                hint="ISA has 16 fixed-width data elements, 106 characters with its terminator",
            )
        seps_at.append(at)
    isa16 = text[seps_at[-1] + 1 : seps_at[-1] + 2]
    term = text[seps_at[-1] + 2 : seps_at[-1] + 3]
    if not term or term.isalnum() or term in (elem, isa16, " "):
        raise DecodeError(
            f"ISA ends with {term!r} after ISA16 {isa16!r}: not a segment terminator",
            where=f"segment 1 (ISA), element 16, line {line_of(text, pos)}",
            hint="ISA16 (the component separator) is one character, then the segment "
            "terminator, e.g. ...*P*>~",
        )
    values = [*text[pos + 4 : seps_at[-1]].split(elem), isa16]
    repetition = values[10] if values[11] >= "00402" and not values[10].isalnum() else ""
    seps = Separators(element=elem, component=isa16, repetition=repetition, segment=term)
    problem = seps.problem()
    if problem:
        raise DecodeError(
            f"ISA declares unusable separators: {problem}",
            where=f"segment 1 (ISA), line {line_of(text, pos)}",
            hint="element separator (after ISA), repetition (ISA11, 00402 on), component "
            "(ISA16) and segment terminator must be four different characters",
        )
    return Isa(pos, seps_at[-1] + 3, values, seps)


def lex(text: str, isa: Isa, limits: DecodeLimits) -> Lexed:
    """The segments of the interchange starting with ``isa``, up to its IEA (or the end)."""
    seps = isa.separators
    term, elem, comp, rep = seps.segment, seps.element, seps.component, seps.repetition
    end = _interchange_end(text, isa, term, elem)
    chunks = text[isa.end : end].split(term)
    tail = chunks.pop()  # after the last terminator: layout only
    if tail.strip():
        begins = end - len(tail.lstrip())
        raise DecodeError(
            f"text after the last segment terminator {term!r}: {tail.strip()[:30]!r}",
            where=f"segment {len(chunks) + 2}, line {line_of(text, begins)}",
            hint=f"every segment ends with {term!r}; is the file cut short?",
        )
    if len(chunks) + 1 > limits.max_segments:
        raise LimitExceeded(
            "max_segments",
            found=len(chunks) + 1,
            maximum=limits.max_segments,
            what=f"the interchange goes on past segment {limits.max_segments}",
            where=f"segment {limits.max_segments + 1}",
        )
    long_segment = min(limits.max_segment_elements, limits.max_string_length)
    segments: list[Segment] = [["ISA", *isa.header]]
    offsets = [isa.start]
    newline: str | None = None
    pos = isa.end
    tags: set[str] = set()
    for number, chunk in enumerate(chunks, 2):
        offset = pos
        pos += len(chunk) + 1
        if chunk[:1] in ("\r", "\n"):
            stripped = chunk.lstrip("\r\n")
            if newline is None:
                newline = chunk[: len(chunk) - len(stripped)]
            offset += len(chunk) - len(stripped)
            chunk = stripped
        if rep and rep in chunk:
            segment = _split_repeats(chunk, elem, comp, rep)
        else:
            segment = [e.split(comp) if comp in e else e for e in chunk.split(elem)]
        tag = segment[0]
        if tag not in tags:
            if type(tag) is not str or not _TAG.match(tag):
                _indented(chunk, number, text, offset, term)
                raise DecodeError(
                    f"segment {number} does not start with a segment tag: {chunk[:20]!r}",
                    where=f"segment {number}, line {line_of(text, offset)}",
                    hint="a tag is two or three capital letters or digits, e.g. N1, PO1",
                )
            tags.add(tag)
        if len(chunk) > long_segment:
            _check_segment(segment, number, limits, text, offset)
        segments.append(segment)
        offsets.append(offset)
    _check_line_breaks(text, isa, end, segments, offsets, term)
    return Lexed(segments, offsets, newline, end, tail)


def _indented(chunk: str, number: int, text: str, offset: int, term: str) -> None:
    """A clearer error for a segment indented by spaces or tabs, or an empty one."""
    blank = chunk[: len(chunk) - len(chunk.lstrip(" \t"))]
    where = f"segment {number}, line {line_of(text, offset)}"
    if blank and chunk.lstrip(" \t")[:1].isalnum():
        raise DecodeError(
            f"segment {number} is indented by {blank!r} before "
            f"{re.match(r'[A-Za-z0-9]*', chunk.lstrip()).group(0)[:3]!r}",  # type: ignore[union-attr]
            where=where,
            hint=f"only line breaks may follow a segment terminator {term!r}; remove the "
            "indentation",
        )
    if not chunk.strip():
        raise DecodeError(
            f"segment {number} is empty: two segment terminators {term!r} in a row",
            where=where,
            hint="remove the extra terminator",
        )


def _interchange_end(text: str, isa: Isa, term: str, elem: str) -> int:
    """Where this interchange ends: after IEA's terminator and its line break, or at the
    next ISA, or at the end of the text."""
    pattern = re.compile(re.escape(term) + r"[\r\n]*(IEA|ISA)" + re.escape(elem))
    match = pattern.search(text, isa.end - 1)
    if match is None:
        return len(text)
    if match.group(1) == "ISA":
        return match.start() + 1
    stop = text.find(term, match.end())
    if stop < 0:
        return len(text)
    stop += 1
    while stop < len(text) and text[stop] in "\r\n":
        stop += 1
    return stop


def _split_repeats(chunk: str, elem: str, comp: str, rep: str) -> Segment:
    out: Segment = []
    for element in chunk.split(elem):
        if rep in element:
            out.append({"repeat": [e.split(comp) if comp in e else e for e in element.split(rep)]})
        elif comp in element:
            out.append(element.split(comp))
        else:
            out.append(element)
    return out


def _check_line_breaks(
    text: str, isa: Isa, end: int, segments: list[Segment], offsets: list[int], term: str
) -> None:
    """A line break that is not layout (right after a terminator) is inside a segment:
    X12 has no way to carry one in data, so it is refused, never read as data."""
    if term in "\r\n":
        return  # the terminator is the line break: checked by the tag of each segment
    breaks = text.count("\n", isa.start, end) + text.count("\r", isa.start, end)
    if not breaks:
        return
    layout = 0
    for offset in offsets[1:]:
        back = offset - 1
        while back >= 0 and text[back] in "\r\n":
            layout += 1
            back -= 1
    tail = end
    while tail > isa.start and text[tail - 1] in "\r\n":
        tail -= 1
        layout += 1
    if breaks <= layout:
        return
    for n, (segment, offset) in enumerate(zip(segments, offsets, strict=True), 1):
        stop = offsets[n] if n < len(offsets) else end
        body = text[offset:stop].rstrip("\r\n")
        if body.endswith(term):
            body = body[:-1]
        for mark in ("\n", "\r"):
            at = body.find(mark)
            if at >= 0:
                raise DecodeError(
                    f"a line break inside segment {n} ({segment[0]}): "
                    f"{body[max(0, at - 15) : at + 15]!r}",
                    where=f"segment {n} ({segment[0]}), line {line_of(text, offset + at)}",
                    hint="X12 data cannot hold line breaks; a line break only follows a "
                    f"segment terminator {term!r} (was the file wrapped at a fixed width?)",
                )


def _check_segment(
    segment: Segment, number: int, limits: DecodeLimits, text: str, offset: int
) -> None:
    most, longest = limits.max_segment_elements, limits.max_string_length

    def where() -> str:
        return f"segment {number} ({str(segment[0])[:3]}), line {line_of(text, offset)}"

    if len(segment) - 1 > most:
        raise LimitExceeded(
            "max_segment_elements",
            found=len(segment) - 1,
            maximum=most,
            what=f"the segment has {len(segment) - 1} data elements",
            where=where(),
        )
    for position, element in enumerate(segment[1:], 1):
        values = element["repeat"] if isinstance(element, dict) else [element]
        if len(values) > most:
            raise LimitExceeded(
                "max_segment_elements",
                found=len(values),
                maximum=most,
                what=f"data element {position} repeats {len(values)} times",
                where=where(),
            )
        for value in values:
            parts = value if isinstance(value, list) else [value]
            if len(parts) > most:
                raise LimitExceeded(
                    "max_segment_elements",
                    found=len(parts),
                    maximum=most,
                    what=f"data element {position} has {len(parts)} components",
                    where=where(),
                )
            for part in parts:
                if len(part) > longest:
                    raise LimitExceeded(
                        "max_string_length",
                        found=len(part),
                        maximum=longest,
                        what=f"a value of data element {position} has {len(part)} characters",
                        where=where(),
                    )
