"""Read X12 interchanges: separators from ISA, envelopes checked, layout kept.

One interchange becomes::

    {"separators": {"element": "*", "component": ">", "repetition": "^", "segment": "~"},
     "newline": "\\n" | null,
     "header": [ISA01 ... ISA16, at their fixed widths],
     "ta1": [[TA101 ... TA105], ...],     (only when the interchange carries TA1s)
     "groups": [{"header": [GS01 ... GS08],
                 "messages": [{"type": "850", "version": "004010", "reference": "0001",
                               "segments": [["ST", "850", "0001"], ..., ["SE", "12", "0001"]]}],
                 "trailer": [GE01, GE02]}],
     "trailer": [IEA01, IEA02]}

``final_newline`` is there when the last segment is followed by something else than
``newline`` (a file without a line break at its end), ``bom`` when a UTF-8 byte order mark
came first. A file of several interchanges is ``{"interchanges": [tree, tree, ...]}``, each
checked on its own. Every envelope fault is collected with its TA1/997/999 code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from hub.errors import DecodeError
from hub.formats.limits import DecodeLimits
from hub.formats.x12.envelope import isa_check
from hub.formats.x12.faults import Fault
from hub.formats.x12.lexer import Segment, find_isa, lex, lines_of

__all__ = ["Reading", "decode_text", "read_interchanges"]

BOM = "\ufeff"


@dataclass
class Reading:
    """The tree and every envelope fault found (empty when the envelopes are sound)."""

    tree: dict[str, Any]
    faults: list[Fault] = field(default_factory=list)
    interchanges: list[dict[str, Any]] = field(default_factory=list)
    lines: list[Callable[[], list[int]]] = field(default_factory=list, repr=False)

    def located(self, faults: list[Fault]) -> list[Fault]:
        """``faults`` with the line of their segment (counted only now, when needed)."""
        counted: dict[int, list[int]] = {}
        out = []
        for fault in faults:
            number = fault.interchange
            if fault.line is None and 0 < number <= len(self.lines):
                if number not in counted:
                    counted[number] = self.lines[number - 1]()
                lines = counted[number]
                if 0 < fault.segment <= len(lines):
                    fault = replace(fault, line=lines[fault.segment - 1])
            out.append(fault)
        return out


def decode_text(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DecodeError(
            f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid {charset}",
            where=f"line {line}",
            hint="set the x12 option `charset` to the file's encoding (e.g. latin-1)",
        ) from None


def read_interchanges(
    data: bytes, *, charset: str = "utf-8", limits: DecodeLimits | None = None
) -> Reading:
    """Decode every interchange of a file; syntax errors raise, envelope faults collect."""
    limits = limits or DecodeLimits()
    text = decode_text(data, charset)
    bom = text.startswith(BOM)
    start = 1 if bom else 0
    trees: list[dict[str, Any]] = []
    faults: list[Fault] = []
    counters: list[Callable[[], list[int]]] = []
    several = False
    while True:
        try:
            isa = find_isa(text, start)
            lexed = lex(text, isa, limits)
        except DecodeError as exc:
            if not trees:
                raise
            line = text.count("\n", 0, start) + 1
            raise DecodeError(
                exc.message,
                where=f"interchange {len(trees) + 1} (from line {line}): {exc.where}",
                hint=exc.hint,
            ) from None
        rest = text[lexed.end :]
        several = several or bool(rest.strip())
        offsets = lexed.offsets
        counter = partial(lines_of, text, offsets)
        counters.append(counter)
        envelope = _Envelope(lexed.segments, counter, len(trees) + 1, several)
        tree = envelope.read()
        tree["separators"] = isa.separators.to_tree()
        tree["newline"] = lexed.newline
        if lexed.final != (lexed.newline or ""):
            tree["final_newline"] = lexed.final
        if isa.start > start:
            tree["leading"] = text[start : isa.start]
        trees.append(tree)
        faults += envelope.faults
        start = lexed.end
        if not rest.strip():
            if rest:
                trees[-1]["final_newline"] = lexed.final + rest
            break
    if len(trees) > 1:  # say which interchange each fault is in
        faults = [_several(f) for f in faults]
    result: dict[str, Any] = trees[0] if len(trees) == 1 else {"interchanges": trees}
    if bom:
        result["bom"] = True
    return Reading(result, faults, trees, counters)


def _several(fault: Fault) -> Fault:
    return replace(fault, several=True)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else ""


def _element(segment: Segment, position: int) -> str:
    return _text(segment[position]) if len(segment) > position else ""


class _Envelope:
    """Walk ISA (GS (ST ... SE)* GE)* IEA, checking counts and control numbers."""

    def __init__(
        self,
        segments: list[Segment],
        lines: Callable[[], list[int]],
        number: int,
        several: bool,
    ) -> None:
        self.segments = segments
        self._lines = lines
        self.lines: list[int] = []
        self.faults: list[Fault] = []
        self.number = number
        self.several = several
        self.i = 0

    def fault(
        self,
        index: int,
        level: str,
        code: str,
        message: str,
        element: int | None = None,
        **extra: Any,
    ) -> None:
        index = min(index, len(self.segments) - 1)
        if not self.lines:
            self.lines = self._lines()
        self.faults.append(
            Fault(
                message,
                level,
                code,
                index + 1,
                str(self.segments[index][0]),
                element,
                line=self.lines[index],
                interchange=self.number,
                several=self.several,
                **extra,
            )
        )

    def read(self) -> dict[str, Any]:
        segs = self.segments
        isa = segs[0]
        header = [str(v) for v in isa[1:]]
        tree: dict[str, Any] = {"header": header}
        for position, code, reason in isa_check(header):
            self.fault(0, "interchange", code, reason, element=position)
        self.i = 1
        ta1 = self.ta1()
        if ta1:
            tree["ta1"] = ta1
        groups: list[dict[str, Any]] = []
        while self.i < len(segs) and segs[self.i][0] != "IEA":
            if segs[self.i][0] == "GS":
                groups.append(self.group())
            else:
                self.fault(
                    self.i,
                    "interchange",
                    "024",
                    f"{segs[self.i][0]} outside a functional group: expected GS or IEA",
                )
                self.i += 1
        tree["groups"] = groups
        if self.i >= len(segs):
            self.fault(
                len(segs) - 1,
                "interchange",
                "023",
                "the interchange has no IEA: the file ends too early",
                hint="is the file cut short?",
            )
            tree["trailer"] = []
            return tree
        iea = segs[self.i]
        tree["trailer"] = iea[1:]
        if _element(iea, 1) != str(len(groups)):
            self.fault(
                self.i,
                "interchange",
                "021",
                f"IEA01 says {_element(iea, 1) or '(empty)'} functional groups, "
                f"the interchange has {len(groups)}",
                element=1,
            )
        if _element(iea, 2) != (header[12] if len(header) > 12 else ""):
            self.fault(
                self.i,
                "interchange",
                "001",
                f"IEA02 {_element(iea, 2)!r} differs from ISA13 "
                f"{header[12] if len(header) > 12 else ''!r}",
                element=2,
            )
        return tree

    def ta1(self) -> list[list[Any]]:
        """The TA1 segments (interchange acknowledgements) between ISA and the first GS:
        TA101 control number, TA102 date, TA103 time, TA104 A/E/R, TA105 note code (I18)."""
        segs = self.segments
        found: list[list[Any]] = []
        while self.i < len(segs) and segs[self.i][0] == "TA1":
            values = segs[self.i][1:]
            ack = _element(segs[self.i], 4)
            if ack not in ("A", "E", "R"):
                self.fault(
                    self.i,
                    "interchange",
                    "024",
                    f"TA104 (acknowledgement code) is A, E or R, not {ack!r}",
                    element=4,
                )
            found.append(values)
            self.i += 1
        return found

    def group(self) -> dict[str, Any]:
        segs = self.segments
        gs_at = self.i
        gs = segs[gs_at]
        control = _element(gs, 6)
        version = _element(gs, 8)
        group: dict[str, Any] = {"header": gs[1:], "messages": [], "trailer": []}
        if not control.isdigit() or len(control) > 9:
            self.fault(
                gs_at,
                "group",
                "6",
                f"GS06 (group control number) is 1-9 digits, not {control!r}",
                element=6,
                group_control=control,
            )
        self.i += 1
        seen: set[str] = set()
        while self.i < len(segs) and segs[self.i][0] not in ("GE", "GS", "IEA"):
            if segs[self.i][0] != "ST":
                self.fault(
                    self.i,
                    "interchange",
                    "024",
                    f"{segs[self.i][0]} outside a transaction set: expected ST or GE",
                    group_control=control,
                )
                self.i += 1
                continue
            message = self.message(control, version, seen)
            group["messages"].append(message)
        if self.i < len(segs) and segs[self.i][0] == "GE":
            ge = segs[self.i]
            group["trailer"] = ge[1:]
            count = len(group["messages"])
            if _element(ge, 1) != str(count):
                self.fault(
                    self.i,
                    "group",
                    "5",
                    f"GE01 says {_element(ge, 1) or '(empty)'} transaction sets, "
                    f"the group has {count}",
                    element=1,
                    group_control=control,
                )
            if _element(ge, 2) != control:
                self.fault(
                    self.i,
                    "group",
                    "4",
                    f"GE02 {_element(ge, 2)!r} differs from GS06 {control!r}",
                    element=2,
                    group_control=control,
                )
            self.i += 1
        else:
            found = segs[self.i][0] if self.i < len(segs) else "the end of the interchange"
            self.fault(
                self.i if self.i < len(segs) else len(segs) - 1,
                "group",
                "3",
                f"functional group {control!r} has no GE (found {found})",
                group_control=control,
            )
        return group

    def message(self, control: str, version: str, seen: set[str]) -> dict[str, Any]:
        segs = self.segments
        start = self.i
        st = segs[start]
        kind, reference = _element(st, 1), _element(st, 2)
        extra: dict[str, Any] = {
            "group_control": control,
            "transaction_type": kind or None,
            "transaction_ref": reference or None,
        }
        message: dict[str, Any] = {
            "type": kind,
            "version": _element(st, 3) or version,
            "reference": reference,
        }
        if not kind:
            self.fault(start, "transaction", "6", "ST01 (transaction set identifier) is empty", 1)
        if not 4 <= len(reference) <= 9:
            self.fault(
                start,
                "transaction",
                "7",
                f"ST02 (transaction set control number) is 4-9 characters, not {reference!r}",
                2,
                **extra,
            )
        elif reference in seen:
            self.fault(
                start,
                "transaction",
                "23",
                f"transaction set control number {reference!r} is used twice in group {control!r}",
                2,
                **extra,
            )
        seen.add(reference)
        end = start + 1
        while end < len(segs) and segs[end][0] not in ("SE", "ST", "GE", "GS", "IEA"):
            end += 1
        if end < len(segs) and segs[end][0] == "SE":
            se = segs[end]
            count = end - start + 1
            if _element(se, 1) != str(count):
                self.fault(
                    end,
                    "transaction",
                    "4",
                    f"SE01 says {_element(se, 1) or '(empty)'} segments, the transaction set "
                    f"has {count} from ST to SE",
                    1,
                    transaction_segment=count,
                    **extra,
                )
            if _element(se, 2) != reference:
                self.fault(
                    end,
                    "transaction",
                    "3",
                    f"SE02 {_element(se, 2)!r} differs from ST02 {reference!r}",
                    2,
                    transaction_segment=count,
                    **extra,
                )
            message["segments"] = segs[start : end + 1]
            self.i = end + 1
        else:
            found = segs[end][0] if end < len(segs) else "the end of the interchange"
            self.fault(
                min(end, len(segs) - 1),
                "transaction",
                "2",
                f"transaction set {reference!r} has no SE (found {found})",
                **extra,
            )
            message["segments"] = segs[start:end]
            self.i = end
        return message
