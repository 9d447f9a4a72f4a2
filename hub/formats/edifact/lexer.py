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
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hub.errors import DecodeError
from hub.formats.edifact.syntax import Separators

__all__ = ["Lexed", "Segment", "lex", "line_of"]

Segment = list[Any]
_TAG = re.compile(r"[A-Z][A-Z0-9]{2}\Z")


@dataclass(frozen=True)
class Lexed:
    segments: list[Segment]
    offsets: list[int]  # character offset of each segment, for line numbers in errors
    newline: str | None  # the line break written after terminators, if any


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


@lru_cache(maxsize=64)
def _segment_pattern(release: str, terminator: str) -> re.Pattern[str]:
    r, t = re.escape(release), re.escape(terminator)
    return re.compile(rf"((?:[^{r}{t}]|{r}.)*){t}", re.S)


def lex(text: str, seps: Separators, start: int = 0, version: str = "3") -> Lexed:
    """Tokenize ``text[start:]``; raises :class:`DecodeError` naming segment and line."""
    term, rel = seps.segment, seps.release
    raw: list[tuple[int, str]] = []
    if not rel or rel not in text:
        pos = start
        for chunk in text[start:].split(term):
            raw.append((pos, chunk))
            pos += len(chunk) + 1
        last_pos, tail = raw.pop()
    else:
        pos = start
        for match in _segment_pattern(rel, term).finditer(text, start):
            if match.start() != pos:
                break
            raw.append((pos, match.group(1)))
            pos = match.end()
        last_pos, tail = pos, text[pos:]
    if tail.strip():
        number = len(raw) + 1
        raise DecodeError(
            f"text after the last segment terminator {term!r}: {tail.strip()[:30]!r}",
            where=f"segment {number}, line {line_of(text, last_pos)}",
            hint=f"every segment must end with {term!r}; is the file cut short?",
        )
    segments: list[Segment] = []
    offsets: list[int] = []
    newline: str | None = None
    repetition = seps.repetition if version == "4" and seps.repetition.strip() else ""
    for number, (offset, chunk) in enumerate(raw, 1):
        if chunk[:1] in ("\r", "\n"):
            stripped = chunk.lstrip("\r\n")
            if newline is None:
                newline = chunk[: len(chunk) - len(stripped)]
            offset += len(chunk) - len(stripped)
            chunk = stripped
        segment = (
            _split(chunk, seps, repetition)
            if rel and rel in chunk
            else _fast(chunk, seps, repetition)
        )
        tag = segment[0]
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise DecodeError(
                f"segment {number} does not start with a segment tag: {chunk[:20]!r}",
                where=f"segment {number}, line {line_of(text, offset)}",
                hint="a tag is three upper-case letters or digits, e.g. BGM",
            )
        segments.append(segment)
        offsets.append(offset)
    return Lexed(segments, offsets, newline)


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
