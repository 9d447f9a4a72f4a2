"""Read an interchange: charset from UNB, separators from UNA, envelopes checked.

The tree keeps everything needed to write the same segments back::

    {"una": true, "separators": {...}, "syntax": {"identifier": "UNOC", "version": "3"},
     "newline": "\\n" | null,
     "header": [UNB elements], "trailer": [UNZ elements],
     "messages": [{"type": "ORDERS", "version": "D", "release": "96A", "agency": "UN",
                   "reference": "1", "segments": [["UNH", ...], ..., ["UNT", ...]]}]}

With functional groups (UNG/UNE), ``groups`` replaces ``messages``:
``[{"header": [...], "trailer": [...], "messages": [...]}]``.

Layout is kept so that writing gives the same bytes: ``final_newline`` when the last
segment is followed by something else than ``newline`` (no line break at the end of the
file), ``bom`` when a UTF-8 byte order mark came first (stripped and recorded, under
every character set). A file of several interchanges is ``{"interchanges": [tree, ...]}``,
each read and checked on its own (its own UNA, charset and counts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hub.errors import DecodeError
from hub.formats.edifact.faults import Fault
from hub.formats.edifact.lexer import Segment, lex, line_of, lines_of
from hub.formats.edifact.syntax import Charset, Separators, charset_for
from hub.formats.limits import DecodeLimits

__all__ = ["Reading", "read_interchange"]

_UNB_HEAD = re.compile(rb"\s*UNB(.)([A-Za-z0-9]{4})", re.S)
BOM = b"\xef\xbb\xbf"


@dataclass
class Reading:
    """The tree, and every envelope fault found (empty when the interchange is sound).

    For a file of several interchanges ``tree`` is ``{"interchanges": [...]}`` and
    ``interchanges`` holds the reading of each one.
    """

    tree: dict[str, Any]
    faults: list[Fault] = field(default_factory=list)
    charset: Charset | None = None
    interchanges: list[Reading] = field(default_factory=list)


def _detect(data: bytes) -> tuple[Separators, bool, int, str]:
    """Separators, whether UNA is present, where UNB starts, and the UNB syntax identifier."""
    # UNA and UNB up to the syntax identifier are plain ASCII in every character set.
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while data[start : start + 1] in (b"\r", b"\n", b" ", b"\t"):
        start += 1
    una = data[start : start + 3] == b"UNA"
    if una:
        try:
            seps = Separators.from_una(data[start : start + 9].decode("latin-1"))
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise DecodeError("UNA is not readable") from None
        start += 9
        while data[start : start + 1] in (b"\r", b"\n"):
            start += 1
    match = _UNB_HEAD.match(data, start)
    if match is None:
        found = data[start : start + 20]
        if data[start : start + 3] == b"UNB":
            term = seps.segment.encode("latin-1") if una else b"'"
            head = data[start : start + 12].split(term)[0]
            reason = (
                "a line break inside UNB"
                if b"\n" in head or b"\r" in head
                else "UNB does not begin with its syntax identifier (e.g. UNOC:3)"
            )
            raise DecodeError(
                f"{reason}: {found!r}",
                where="segment 1 (UNB), line 1",
                hint="UNB's first data element names the character set and syntax version; "
                "a file wrapped at a fixed width needs the edifact option `line_breaks: strip`",
            )
        raise DecodeError(
            f"an interchange starts with UNA or UNB, found {found!r}",
            where="segment 1, line 1",
            hint="is this an EDIFACT file? X12 starts with ISA, XML with <",
        )
    if not una:
        sep = match.group(1).decode("latin-1")
        seps = Separators.level_b_defaults() if sep == "\x1d" else Separators()
    return seps, una, match.start(), match.group(2).decode("ascii")


def read_interchange(
    data: bytes,
    *,
    strict_charset: bool = True,
    limits: DecodeLimits | None = None,
    line_breaks: str = "refuse",
) -> Reading:
    """Decode bytes to a tree; syntax errors raise, envelope faults are collected.

    A UTF-8 byte order mark is stripped and recorded (``bom``) whatever the declared
    character set. Several interchanges in one file are read one after the other, each
    with its own separators and character set. ``line_breaks``: ``refuse`` (a line
    break inside a segment is an error) or ``strip`` (every line break is layout, as in
    a file wrapped at a fixed width; they are not written back).
    """
    bom = data.startswith(BOM)
    if bom:
        data = data[len(BOM) :]
    if line_breaks == "strip":
        data = data.replace(b"\r", b"").replace(b"\n", b"")
    readings: list[Reading] = []
    starts: list[int] = []
    start = 0
    while True:
        end = _interchange_end(data, start)
        try:
            reading = _read_one(data[start:end], strict_charset, limits)
        except DecodeError as exc:
            if not readings:
                raise
            line = data.count(b"\n", 0, start) + 1
            raise DecodeError(
                exc.message,
                where=f"interchange {len(readings) + 1} (from line {line}): {exc.where}",
                hint=exc.hint,
            ) from None
        readings.append(reading)
        starts.append(start)
        rest = data[end:]
        if not rest.strip():
            if rest:
                final = reading.tree.get("final_newline", reading.tree.get("newline") or "")
                reading.tree["final_newline"] = final + rest.decode("latin-1")
            break
        start = end
    if len(readings) == 1:
        result = readings[0]
        result.interchanges = [readings[0]]
    else:
        faults = []
        for n, (one, begins) in enumerate(zip(readings, starts, strict=True), 1):
            lines = data.count(b"\n", 0, begins)  # lines before this interchange
            faults += [
                replace(f, interchange=n, line=f.line + lines if f.line else f.line)
                for f in one.faults
            ]
        result = Reading(
            {"interchanges": [r.tree for r in readings]}, faults, readings[0].charset, readings
        )
    if bom:
        result.tree["bom"] = True
    return result


def _interchange_end(data: bytes, start: int) -> int:
    """Where the interchange beginning at ``start`` ends: after UNZ's terminator and the
    line breaks after it, before a UNA or UNB that starts another, or at the end."""
    seps, _una, unb_at, _identifier = _detect(data[start:])
    term = seps.segment.encode("latin-1")
    elem = seps.element.encode("latin-1")
    rel = seps.release.encode("latin-1")
    pattern = re.compile(re.escape(term) + rb"[\r\n]*(UNZ" + re.escape(elem) + rb"|UNA|UNB)")
    at = start + unb_at
    while True:
        match = pattern.search(data, at)
        if match is None:
            return len(data)
        if rel and _released(data, match.start(), rel):
            at = match.start() + 1
            continue
        if match.group(1) != b"UNZ" + elem:
            return match.start() + 1  # another interchange, this one has no UNZ
        stop = match.end()
        while True:
            stop = data.find(term, stop)
            if stop < 0:
                return len(data)
            if not (rel and _released(data, stop, rel)):
                break
            stop += 1
        stop += 1
        while data[stop : stop + 1] in (b"\r", b"\n"):
            stop += 1
        following = data[stop:].lstrip()
        if following and not following.startswith((b"UNA", b"UNB")):
            return len(data)  # not another interchange: the reader reports what it is
        return stop


def _released(data: bytes, at: int, rel: bytes) -> bool:
    """Whether the character at ``at`` follows an odd run of release characters."""
    run = 0
    while at - run - 1 >= 0 and data[at - run - 1 : at - run] == rel:
        run += 1
    return run % 2 == 1


def _read_one(data: bytes, strict_charset: bool, limits: DecodeLimits | None) -> Reading:
    seps, una, unb_at, identifier = _detect(data)
    charset = charset_for(identifier)
    try:
        text = data.decode(charset.codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DecodeError(
            f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid {charset.identifier}"
            f" ({charset.codec})",
            where=f"line {line}",
            hint="the sender's UNB must declare the character set the file is really in",
        ) from None
    text_start = len(data[:unb_at].decode(charset.codec, errors="replace"))
    if strict_charset:
        bad = charset.first_disallowed(text[text_start:], seps)
        if bad is not None:
            offset = text_start + bad
            char = text[offset]
            raise DecodeError(
                f"character {char!r} (U+{ord(char):04X}) is not allowed in {charset.identifier}",
                where=f"line {line_of(text, offset)}, character {offset + 1}",
                hint="the sender should declare a wider character set (UNOB, UNOC or UNOW)",
            )
    version = _syntax_version(text, text_start, seps)
    if version == "4" and not una and seps == Separators():
        seps = Separators.version_4_defaults()  # ISO 9735-1:2002: the repetition separator *
    lexed = lex(text, seps, text_start, version, limits)
    reading = _Envelope(lexed.segments, lambda: lines_of(text, lexed.offsets)).read()
    reading.tree.update(una=una, separators=seps.to_tree(), newline=lexed.newline)
    if lexed.final != (lexed.newline or ""):
        reading.tree["final_newline"] = lexed.final
    if una and lexed.newline and data[unb_at - 1 : unb_at] not in (b"\n", b"\r"):
        reading.tree["una_newline"] = False  # UNA directly followed by UNB
    reading.charset = charset
    return reading


def _syntax_version(text: str, start: int, seps: Separators) -> str:
    head = text[start : start + 40].split(seps.element)
    if len(head) > 1:
        parts = head[1].split(seps.component)
        if len(parts) > 1 and parts[1][:1].isdigit():
            return parts[1][:1]
    return "3"


def _text(value: Any) -> str:
    return (
        value if isinstance(value, str) else (value[0] if isinstance(value, list) and value else "")
    )


def _element(segment: Segment, position: int) -> Any:
    return segment[position] if len(segment) > position else ""


class _Envelope:
    """Walk UNB (UNG (UNH ... UNT)* UNE)* or UNB (UNH ... UNT)* UNZ, checking as it goes."""

    def __init__(self, segments: list[Segment], lines: Callable[[], list[int]]) -> None:
        self.segments = segments
        self._lines = lines  # counted when the first fault needs them
        self.lines: list[int] = []
        self.faults: list[Fault] = []
        self.i = 0

    def fault(
        self,
        index: int,
        message: str,
        code: str,
        element: int | None = None,
        hint: str | None = None,
        **extra: Any,
    ) -> None:
        tag = self.segments[index][0] if index < len(self.segments) else "(end)"
        if not self.lines:
            self.lines = self._lines()
        line = self.lines[index] if index < len(self.lines) else None
        self.faults.append(
            Fault(message, index + 1, tag, code, element, line=line, hint=hint, **extra)
        )

    def read(self) -> Reading:
        segs = self.segments
        unb = segs[0]
        syntax = _element(unb, 1)
        syntax_parts = syntax if isinstance(syntax, list) else [syntax]
        tree: dict[str, Any] = {
            "syntax": {
                "identifier": syntax_parts[0],
                "version": syntax_parts[1] if len(syntax_parts) > 1 else "",
            },
            "header": unb[1:],
        }
        self.i = 1
        units = 0
        if self.i < len(segs) and segs[self.i][0] == "UNG":
            groups = []
            while self.i < len(segs) and segs[self.i][0] == "UNG":
                groups.append(self.group())
                units += 1
            tree["groups"] = groups
        else:
            messages = self.messages(stop=("UNZ",))
            tree["messages"] = messages
            units = len(messages)
        if self.i >= len(segs) or segs[self.i][0] != "UNZ":
            at = min(self.i, len(segs) - 1)
            found = segs[self.i][0] if self.i < len(segs) else "the end of the file"
            self.fault(
                at,
                f"expected UNZ to close the interchange, found {found}",
                "13",
                hint="is the file cut short?",
            )
            tree["trailer"] = []
        else:
            unz = segs[self.i]
            tree["trailer"] = unz[1:]
            self.check_count(self.i, unz, units, "messages" if "messages" in tree else "groups")
            self.check_ref(self.i, unz, _text(_element(unb, 5)), "UNB")
            if self.i + 1 < len(segs):
                self.fault(self.i + 1, "segments after UNZ", "33")
        return Reading(tree, self.faults)

    def group(self) -> dict[str, Any]:
        ung_at = self.i
        ung = self.segments[ung_at]
        self.i += 1
        messages = self.messages(stop=("UNE", "UNZ"))
        group: dict[str, Any] = {"header": ung[1:], "messages": messages, "trailer": []}
        if self.i < len(self.segments) and self.segments[self.i][0] == "UNE":
            une = self.segments[self.i]
            group["trailer"] = une[1:]
            self.check_count(self.i, une, len(messages), "messages")
            self.check_ref(self.i, une, _text(_element(ung, 5)), "UNG")
            self.i += 1
        else:
            self.fault(min(self.i, len(self.segments) - 1), "expected UNE to close the group", "13")
        return group

    def messages(self, stop: tuple[str, ...]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        segs = self.segments
        while self.i < len(segs) and segs[self.i][0] not in stop:
            if segs[self.i][0] != "UNH":
                self.fault(self.i, f"{segs[self.i][0]} outside a message: expected UNH", "33")
                self.i += 1
                continue
            out.append(self.message())
        return out

    def message(self) -> dict[str, Any]:
        segs = self.segments
        start = self.i
        unh = segs[start]
        reference = _text(_element(unh, 1))
        ident = _element(unh, 2)
        ident = ident if isinstance(ident, list) else [ident]
        ident = [*ident, "", "", "", ""]
        end = start + 1
        while end < len(segs) and segs[end][0] not in ("UNT", "UNH", "UNZ", "UNE", "UNG"):
            end += 1
        message = {
            "type": ident[0],
            "version": ident[1],
            "release": ident[2],
            "agency": ident[3],
            "reference": reference,
        }
        if end < len(segs) and segs[end][0] == "UNT":
            unt = segs[end]
            count = end - start + 1
            self.check_count(end, unt, count, "segments from UNH to UNT", message_ref=reference)
            self.check_ref(end, unt, reference, "UNH", message_ref=reference)
            message["segments"] = segs[start : end + 1]
            self.i = end + 1
        else:
            found = segs[end][0] if end < len(segs) else "the end of the file"
            self.fault(
                min(end, len(segs) - 1),
                f"message {reference!r} has no UNT (found {found})",
                "13",
                message_ref=reference,
            )
            message["segments"] = segs[start:end]
            self.i = end
        return message

    def check_count(
        self, index: int, segment: Segment, actual: int, what: str, **extra: Any
    ) -> None:
        declared = _text(_element(segment, 1))
        if declared != str(actual):
            self.fault(
                index,
                f"control count {declared or '(empty)'} does not match the {actual} {what}",
                "29",
                element=1,
                **extra,
            )

    def check_ref(
        self, index: int, segment: Segment, expected: str, opener: str, **extra: Any
    ) -> None:
        found = _text(_element(segment, 2))
        if found != expected:
            self.fault(
                index,
                f"control reference {found!r} differs from {expected!r} in {opener}",
                "28",
                element=2,
                **extra,
            )
