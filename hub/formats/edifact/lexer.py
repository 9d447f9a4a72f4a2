"""Split EDIFACT text into segments, elements and components, honouring the release character.

The common case (no release character in a segment) uses ``str.split``, which is
what makes this tokenizer tens of times faster than reading one character at a
time. A segment is a list ``[tag, element, ...]``; an element is a string, or a
list of strings when it has components (``DTM+137:20261120:102`` ->
``["DTM", ["137", "20261120", "102"]]``). Empty trailing elements are kept, so
writing the list back gives the same segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from hub.errors import DecodeError, LimitExceeded
from hub.formats.edifact.syntax import Separators
from hub.formats.limits import DecodeLimits

__all__ = ["Lexed", "Segment", "lex", "line_of", "lines_of"]

Segment = list[Any]
_TAG = re.compile(r"[A-Z][A-Z0-9]{2}\Z")


@dataclass(frozen=True)
class Lexed:
    segments: list[Segment]
    offsets: list[int]  # character offset of each segment, for line numbers in errors
    newline: str | None  # the line break written after terminators, if any
    final: str = ""  # what follows the last terminator (a line break, or nothing)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def lines_of(text: str, offsets: list[int]) -> list[int]:
    """Line numbers of ascending offsets in one pass (``line_of`` for each is quadratic)."""
    lines: list[int] = []
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def lex(
    text: str,
    seps: Separators,
    start: int = 0,
    version: str = "3",
    limits: DecodeLimits | None = None,
) -> Lexed:
    """Tokenize ``text[start:]``; raises :class:`DecodeError` naming segment and line.

    ``limits`` bound the segments, the elements of a segment and the length of a
    value; a segment is looked at closely only when it is long enough to break one.
    """
    limits = limits or DecodeLimits()
    term, rel = seps.segment, seps.release
    released = bool(rel) and text.find(rel, start) >= 0  # not `in text`: UNA holds one
    chunks = text[start:].split(term)
    if released:
        chunks = _glue(chunks, term, rel)
    if len(chunks) - 1 > limits.max_segments:
        offset = start + sum(len(chunk) + 1 for chunk in chunks[: limits.max_segments])
        following = chunks[limits.max_segments]
        offset += len(following) - len(following.lstrip("\r\n"))  # the line break before it
        raise LimitExceeded(
            "max_segments",
            found=len(chunks) - 1,
            maximum=limits.max_segments,
            what=f"the interchange goes on past segment {limits.max_segments}",
            where=f"segment {limits.max_segments + 1}, line {line_of(text, offset)}",
        )
    long_segment = min(limits.max_segment_elements, limits.max_string_length)
    # a line break not right after a terminator (or another line break) is inside a segment
    inner = re.compile(f"[^{re.escape(term)}\r\n][\r\n]").search(text, start) is not None
    tail = chunks.pop()  # what follows the last (unreleased) terminator
    if tail.strip():
        number = len(chunks) + 1
        begins = len(text) - len(tail.lstrip())  # the line the stray text is on
        where = f"segment {number}, line {line_of(text, begins)}"
        if rel and tail.rstrip().endswith(term):  # any terminator left here was released
            raise DecodeError(
                "a release character escapes the terminator of the last segment: "
                f"{tail.strip()[-30:]!r}",
                where=where,
                hint=f"a literal {rel!r} at the end of a value is written {rel + rel!r}",
            )
        raise DecodeError(
            f"text after the last segment terminator {term!r}: {tail.strip()[:30]!r}",
            where=where,
            hint=f"every segment must end with {term!r}; is the file cut short?",
        )
    segments: list[Segment] = []
    offsets: list[int] = []
    newline: str | None = None
    repetition = seps.repetition if version == "4" and seps.repetition.strip() else ""
    elem, comp = seps.element, seps.component
    tags: set[str] = set()  # tags already checked: a set lookup is cheaper than the pattern
    pos = start
    for number, chunk in enumerate(chunks, 1):
        offset = pos
        pos += len(chunk) + 1
        if chunk.startswith(("\r", "\n")):
            stripped = chunk.lstrip("\r\n")
            if newline is None:
                newline = chunk[: len(chunk) - len(stripped)]
            offset += len(chunk) - len(stripped)
            chunk = stripped
        if released and rel in chunk:
            if newline is not None and term + newline in chunk:
                _check_run_on(text, number, offset, chunk, seps, newline)
            segment = _split(chunk, seps, repetition)
        elif repetition:
            segment = _fast(chunk, seps, repetition)
        else:  # _fast without repetitions, inlined: this line is most of the decoding
            segment = [e.split(comp) if comp in e else e for e in chunk.split(elem)]
        if len(chunk) > long_segment:
            _check_segment(segment, number, partial(line_of, text, offset), limits)
        if inner and ("\n" in chunk or "\r" in chunk):
            _line_break(segment, number, text, offset, chunk)
        tag = segment[0]
        if type(tag) is not str or tag not in tags:
            if not isinstance(tag, str) or not _TAG.match(tag):
                _indented(chunk, number, text, offset, term)
                raise DecodeError(
                    f"segment {number} does not start with a segment tag: {chunk[:20]!r}",
                    where=f"segment {number}, line {line_of(text, offset)}",
                    hint="a tag is three upper-case letters or digits, e.g. BGM",
                )
            tags.add(tag)
        segments.append(segment)
        offsets.append(offset)
    return Lexed(segments, offsets, newline, tail)


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


def _line_break(segment: Segment, number: int, text: str, offset: int, chunk: str) -> None:
    """Refuse a line break inside a segment, naming the data element that holds it."""
    at = min(i for i in (chunk.find("\n"), chunk.find("\r")) if i >= 0)
    line = line_of(text, offset + at)
    tag = str(segment[0])[:3]
    place = f"segment {number} ({tag})"
    for position, element in enumerate(segment[1:], 1):
        values = element["repeat"] if isinstance(element, dict) else [element]
        for value in values:
            parts = value if isinstance(value, list) else [value]
            for k, part in enumerate(parts, 1):
                if "\n" in part or "\r" in part:
                    comp = f", component {k}" if len(parts) > 1 else ""
                    place = f"segment {number} ({tag}), element {position}{comp}"
                    break
            else:
                continue
            break
        else:
            continue
        break
    raise DecodeError(
        f"a line break inside a segment, in data: {chunk[max(0, at - 20) : at + 20]!r}",
        where=f"{place}, line {line}",
        hint="a line break is layout only after a segment terminator; it is never read "
        "into data (levels A and B cannot carry it). For a file wrapped at a fixed width "
        "set the edifact option `line_breaks: strip`",
    )


def _check_segment(
    segment: Segment, number: int, line: Callable[[], int], limits: DecodeLimits
) -> None:
    """Refuse a segment with too many elements, components or repeats, or a long value.

    ``line`` counts the segment's line only for the error: counting it for every long
    segment would make a file of many long segments quadratic.
    """
    most, longest = limits.max_segment_elements, limits.max_string_length

    def where() -> str:
        return f"segment {number} ({str(segment[0])[:3]}), line {line()}"

    def too_many(found: int, what: str) -> LimitExceeded:
        return LimitExceeded(
            "max_segment_elements", found=found, maximum=most, what=what, where=where()
        )

    if len(segment) - 1 > most:
        raise too_many(len(segment) - 1, f"the segment has {len(segment) - 1} data elements")
    for position, element in enumerate(segment[1:], 1):
        values = element["repeat"] if isinstance(element, dict) else [element]
        if len(values) > most:
            raise too_many(len(values), f"data element {position} repeats {len(values)} times")
        for value in values:
            parts = value if isinstance(value, list) else [value]
            if len(parts) > most:
                raise too_many(len(parts), f"data element {position} has {len(parts)} components")
            for part in parts:
                if len(part) > longest:
                    raise LimitExceeded(
                        "max_string_length",
                        found=len(part),
                        maximum=longest,
                        what=f"a value of data element {position} has {len(part)} characters",
                        where=where(),
                    )


def _glue(pieces: list[str], term: str, rel: str) -> list[str]:
    """Pieces split at every terminator, glued back where the terminator was released.

    An odd run of release characters at the end of a piece releases the terminator after
    it (``??`` is a literal ``?``). Linear and nearly as fast as the split itself; the
    regular expression used before was several times slower, and quadratic on an
    unterminated tail (finditer() retried from every character of it).
    """
    out: list[str] = []
    held: list[str] = []  # the pieces of a segment whose terminators were released
    for piece in pieces:
        if piece.endswith(rel) and (len(piece) - len(piece.rstrip(rel))) % 2:
            held.append(piece)
        elif held:
            held.append(piece)
            out.append(term.join(held))
            held = []
        else:
            out.append(piece)
    if held:  # the text ends inside a segment: it becomes the tail
        out.append(term.join(held))
    return out


def _check_run_on(
    text: str, number: int, offset: int, chunk: str, seps: Separators, newline: str
) -> None:
    """A released terminator, then the line break and a tag: a release character ended a
    value by mistake and the segment swallowed the next one. Every terminator inside a
    lexed segment is a released one, so only what follows needs looking at."""
    marker = seps.segment + newline
    at = chunk.find(marker)
    while at >= 0:
        after = chunk[at + len(marker) :]
        if _TAG.match(after[:3]) and after[3:4] == seps.element:
            rel = seps.release
            raise DecodeError(
                f"a release character escapes the terminator of segment {number} "
                f"({chunk[:3]}), which runs on into {after[:20]!r}",
                where=f"segment {number} ({chunk[:3]}), line {line_of(text, offset)}",
                hint=f"a literal {rel!r} at the end of a value is written {rel + rel!r}",
            )
        at = chunk.find(marker, at + 1)


def _fast(chunk: str, seps: Separators, repetition: str) -> Segment:
    comp = seps.component
    out: Segment = []
    for element in chunk.split(seps.element):
        if repetition and repetition in element:
            out.append(
                {"repeat": [e.split(comp) if comp in e else e for e in element.split(repetition)]}
            )
        elif comp in element:
            out.append(element.split(comp))
        else:
            out.append(element)
    return out


def _split(chunk: str, seps: Separators, repetition: str) -> Segment:
    """Character by character, for the rare segment holding a release character."""
    rel, elem, comp = seps.release, seps.element, seps.component
    segment: Segment = []
    repeats: list[Any] = []
    components: list[str] = []
    buf: list[str] = []
    i, n = 0, len(chunk)

    def end_component() -> None:
        components.append("".join(buf))
        buf.clear()

    def end_element() -> None:
        end_component()
        value: Any = components[0] if len(components) == 1 else list(components)
        components.clear()
        if repeats:
            repeats.append(value)
            segment.append({"repeat": list(repeats)})
            repeats.clear()
        else:
            segment.append(value)

    while i < n:
        ch = chunk[i]
        if ch == rel:
            if i + 1 >= n:
                raise DecodeError(
                    "a release character ends the segment",
                    hint=f"escape a literal {rel!r} as {rel}{rel}",
                )
            buf.append(chunk[i + 1])
            i += 2
            continue
        if ch == elem:
            end_element()
        elif ch == comp:
            end_component()
        elif repetition and ch == repetition:
            end_component()
            repeats.append(components[0] if len(components) == 1 else list(components))
            components.clear()
        else:
            buf.append(ch)
        i += 1
    end_element()
    return segment
