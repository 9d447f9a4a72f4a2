"""Read an interchange: charset from UNB, separators from UNA, envelopes checked.

The tree keeps everything needed to write the same segments back::

    {"una": true, "separators": {...}, "syntax": {"identifier": "UNOC", "version": "3"},
     "newline": "\\n" | null,
     "header": [UNB elements], "trailer": [UNZ elements],
     "messages": [{"type": "ORDERS", "version": "D", "release": "96A", "agency": "UN",
                   "reference": "1", "segments": [["UNH", ...], ..., ["UNT", ...]]}]}

With functional groups (UNG/UNE), ``groups`` replaces ``messages``:
``[{"header": [...], "trailer": [...], "messages": [...]}]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.errors import DecodeError
from hub.formats.edifact.faults import Fault
from hub.formats.edifact.lexer import Segment, lex, line_of, lines_of
from hub.formats.edifact.syntax import Charset, Separators, charset_for
from hub.formats.limits import DecodeLimits

__all__ = ["Reading", "read_interchange"]

_UNB_HEAD = re.compile(rb"\s*UNB(.)([A-Za-z0-9]{4})", re.S)


@dataclass
class Reading:
    """The tree, and every envelope fault found (empty when the interchange is sound)."""

    tree: dict[str, Any]
    faults: list[Fault] = field(default_factory=list)
    charset: Charset | None = None


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
    data: bytes, *, strict_charset: bool = True, limits: DecodeLimits | None = None
) -> Reading:
    """Decode bytes to a tree; syntax errors raise, envelope faults are collected."""
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
    if text.startswith("\ufeff"):
        text = text[1:]
        text_start -= 1
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
    lexed = lex(text, seps, text_start, version, limits)
    reading = _Envelope(lexed.segments, lambda: lines_of(text, lexed.offsets)).read()
    reading.tree.update(una=una, separators=seps.to_tree(), newline=lexed.newline)
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
