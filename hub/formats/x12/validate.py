"""Check transaction sets against their definitions; every violation becomes a Fault.

The table (hub/formats/edifact/structure.py's walker, loops by ``<trigger>_loop``), with
the 997/999 segment codes (AK304/IK304): mandatory segment missing 3, loop over its
maximum 4, segment over its maximum use 5, segment not in the transaction set 6 (1 when
the version does not know the tag at all), segment out of sequence 7. HL loops: each
HL01 unique, each HL02 naming an HL01 that came before (element code 7).

Each data element (AK403/IK403 codes): mandatory missing 1, too many data elements 3,
too short 4 and too long 5 (digits only for N and R, as X12 counts them), invalid
character 6 (a control character anywhere; a non-digit in N, R, DT, TM), invalid date 8,
invalid time 9, a repetition where the element does not repeat 12, components in a
simple element or too many in a composite 13. Code values (ID) are not checked: the
definitions carry no code lists. Element relational conditions (paired, required,
exclusion) are not checked either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hub.formats.edifact.structure import Issue, Walk
from hub.formats.x12.definitions import Component, Definitions, ElementDef, TransactionDef
from hub.formats.x12.faults import Fault
from hub.formats.x12.structure import HL, walk_set

__all__ = ["MAX_FAULTS", "each_message", "validate_message"]

MAX_FAULTS = 100

_SEGMENT_CODES = {"missing": "3", "group_repeats": "4", "repeats": "5", "misplaced": "7"}
_DIGITS = re.compile(r"-?[0-9]+\Z")
_REAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def each_message(
    tree: dict[str, Any],
) -> Iterator[tuple[dict[str, Any], dict[str, Any], int]]:
    """Every message with its group and the interchange position of the segment before
    its ST (ISA = 1)."""
    at = 1
    for group in tree.get("groups") or []:
        at += 1  # GS
        for message in group.get("messages") or []:
            yield message, group, at
            at += len(message.get("segments") or [])
        at += 1  # GE


def _value(element: Any) -> str:
    return element if isinstance(element, str) else ""


def validate_message(
    definition: TransactionDef,
    message: dict[str, Any],
    group: dict[str, Any],
    *,
    before: int,
    interchange: int = 1,
    several: bool = False,
    limit: int = MAX_FAULTS,
    walked: Walk | None = None,
    known: frozenset[str] = frozenset(),
) -> list[Fault]:
    segments = message.get("segments") or []
    found = walked or walk_set(definition, segments)
    header = group.get("header") or []
    extra: dict[str, Any] = {
        "interchange": interchange,
        "several": several,
        "group_control": _value(header[5]) if len(header) > 5 else None,
        "transaction_type": str(message.get("type") or "") or None,
        "transaction_ref": str(message.get("reference") or "") or None,
    }
    located: list[tuple[int, int, Fault]] = []

    def add(
        index: int,
        level: str,
        code: str,
        text: str,
        element: int | None = None,
        **more: Any,
    ) -> None:
        tag = segments[index][0] if index < len(segments) else "SE"
        fault = Fault(
            text,
            level,
            code,
            before + index + 1,
            str(tag),
            element,
            transaction_segment=index + 1,
            **extra,
            **more,
        )
        located.append((index, element or 0, fault))

    for issue in found.issues:
        add(issue.index, "segment", _segment_code(issue, known), issue.message, loop=_loop(issue))
    checker = _Checker(definition, add)
    for index, segment in enumerate(segments):
        if len(located) >= limit:
            break
        seg_def = definition.segments.get(str(segment[0]))
        if seg_def is not None and found.matched[index]:
            checker.segment(index, segment, seg_def.elements)
    if definition.hierarchical:
        _check_hl(segments, add)
    located.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in located[:limit]]


def _segment_code(issue: Issue, known: frozenset[str]) -> str:
    if issue.kind == "undefined":
        tag = issue.message.split(":", 1)[0]
        return "6" if tag in known else "1"
    return _SEGMENT_CODES.get(issue.kind, "2")


def _loop(issue: Issue) -> str | None:
    return issue.group[: -len("_loop")] if issue.group else None


def _check_hl(segments: list[Any], add: Any) -> None:
    seen: set[str] = set()
    for index, segment in enumerate(segments):
        if segment[0] != "HL":
            continue
        ident = _value(segment[1]) if len(segment) > 1 else ""
        parent = _value(segment[2]) if len(segment) > 2 else ""
        if ident in seen:
            add(
                index,
                "element",
                "7",
                f"HL01 (Hierarchical ID Number) {ident!r} is used twice",
                1,
                data_element="628",
                value=ident,
                loop="HL",
            )
        if parent and parent not in seen:
            add(
                index,
                "element",
                "7",
                f"HL02 (Hierarchical Parent ID Number) {parent!r} names no HL before it",
                2,
                data_element="734",
                value=parent,
                loop="HL",
                hint="an HL's parent is an HL that came earlier in the transaction set",
            )
        seen.add(ident)


class _Checker:
    def __init__(self, definition: TransactionDef, add: Any) -> None:
        self.label = definition.label
        self.add = add

    def segment(self, index: int, segment: list[Any], elements: tuple[ElementDef, ...]) -> None:
        tag = segment[0]
        values = segment[1:]
        if len(values) > len(elements):
            extra = [n for n in range(len(elements), len(values)) if _present(values[n])]
            if extra:
                self.add(
                    index,
                    "element",
                    "3",
                    f"{tag}: too many data elements: {len(values)} > {len(elements)} defined "
                    f"in {self.label}",
                    extra[0] + 1,
                )
        for n, definition in enumerate(elements):
            value = values[n] if n < len(values) else ""
            if type(value) is str:  # the common case
                if value == "":
                    if definition.mandatory:
                        self.missing(index, n + 1, definition)
                    continue
                if not definition.components:
                    self.value(index, n + 1, None, definition, value)
                    continue
            self.element(index, n + 1, definition, value)

    def missing(
        self, index: int, position: int, definition: Component, component: int | None = None
    ) -> None:
        what = "component" if component else "data element"
        self.add(
            index,
            "element",
            "1",
            f"{definition.label}: mandatory {what} missing in {self.label}",
            position,
            component=component,
            data_element=definition.id,
        )

    def element(self, index: int, position: int, definition: ElementDef, value: Any) -> None:
        if isinstance(value, dict):
            repeats = [r for r in value.get("repeat") or [] if _present(r)]
            if len(repeats) > 1:
                self.add(
                    index,
                    "element",
                    "12",
                    f"{definition.label}: too many repetitions: {len(repeats)} > 1 in {self.label}",
                    position,
                    data_element=definition.id,
                )
            value = repeats[0] if repeats else ""
        if not _present(value):
            if definition.mandatory:
                self.missing(index, position, definition)
            return
        if not definition.components:
            if isinstance(value, list):
                extra = [k for k in range(1, len(value)) if _present(value[k])]
                if extra:
                    self.add(
                        index,
                        "element",
                        "13",
                        f"{definition.label}: too many components: {len(value)} in a simple "
                        f"data element in {self.label}",
                        position,
                        component=extra[0] + 1,
                        data_element=definition.id,
                    )
                value = value[0]
            self.value(index, position, None, definition, str(value))
            return
        parts = value if isinstance(value, list) else [value]
        comps = definition.components
        extra = [k for k in range(len(comps), len(parts)) if _present(parts[k])]
        if extra:
            self.add(
                index,
                "element",
                "13",
                f"{definition.label}: too many components: {len(parts)} > {len(comps)} "
                f"defined in {self.label}",
                position,
                component=extra[0] + 1,
                data_element=definition.id,
            )
        for k, comp in enumerate(comps):
            part = parts[k] if k < len(parts) else ""
            if not isinstance(part, str) or part == "":
                if comp.mandatory:
                    self.missing(index, position, comp, k + 1)
                continue
            self.value(index, position, k + 1, comp, part)

    def value(
        self, index: int, position: int, component: int | None, definition: Component, text: str
    ) -> None:
        kind = definition.type
        if (
            kind in ("AN", "ID")
            and definition.min <= len(text) <= definition.max
            and not _CONTROL.search(text)
        ):
            return  # the common case, quickly
        broken = check_value(text, definition)
        if broken is not None:
            code, rule = broken
            self.add(
                index,
                "element",
                code,
                f"{definition.label}: {rule} in {self.label}",
                position,
                component=component,
                data_element=definition.id,
                value=text[:99],
            )


def check_value(text: str, definition: Component) -> tuple[str, str] | None:
    """The AK403/IK403 code and the rule ``text`` breaks, or None when it fits."""
    kind = definition.type
    bad = _CONTROL.search(text)
    if bad is not None:
        return "6", f"invalid character {bad.group(0)!r} in {text[:30]!r}"
    spec = f"{kind} {definition.min}/{definition.max}"
    count = len(text)
    unit = "characters"
    if kind.startswith("N"):
        if not _DIGITS.match(text):
            return "6", f"invalid character: {text!r} is not a whole number ({spec})"
        count = len(text.lstrip("-"))
        unit = "digits"
    elif kind == "R":
        if not _REAL.match(text):
            return "6", f"invalid character: {text!r} is not a decimal number ({spec})"
        count = sum(c.isdigit() for c in text)
        unit = "digits"
    elif kind == "DT" and not (text.isdigit() and len(text) in (6, 8) and _date(text)):
        return "8", f"invalid date: {text!r} is not a date (CCYYMMDD or YYMMDD)"
    elif kind == "TM" and not (text.isdigit() and 4 <= len(text) <= 8 and _time(text)):
        return "9", f"invalid time: {text!r} is not a time (HHMM[SS[dd]])"
    if count > definition.max:
        return "5", f"data element too long: {count} {unit} > {definition.max} ({spec})"
    if count < definition.min:
        return "4", f"data element too short: {count} {unit} < {definition.min} ({spec})"
    return None


def _date(text: str) -> bool:
    year = int(text[:-4])
    month, day = int(text[-4:-2]), int(text[-2:])
    if not 1 <= month <= 12 or day < 1:
        return False
    days = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30]
    days += [31, 30, 31, 31, 30, 31, 30, 31]
    return day <= days[month - 1]


def _time(text: str) -> bool:
    hours, minutes = int(text[:2]), int(text[2:4])
    seconds = int(text[4:6]) if len(text) >= 6 else 0
    return hours < 24 and minutes < 60 and seconds < 60


def _present(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, list):
        return any(_present(v) for v in value)
    if isinstance(value, dict):
        return any(_present(v) for v in value.get("repeat") or [])
    return True


def undefined_fault(
    definitions: Definitions, message: dict[str, Any], before: int, **extra: Any
) -> Fault:
    version = str(message.get("version") or "")[:6]
    kind = str(message.get("type") or "")
    if version not in definitions.versions:
        text = f"{kind} {version}: no X12 definitions for version {version!r}"
    else:
        text = f"{kind} {version}: no definition of transaction set {kind} in {version}"
    return Fault(
        text,
        "transaction",
        "1",
        before + 1,
        "ST",
        1,
        transaction_segment=1,
        hint="add the definition to schemas/x12, or set the x12 option require_definition: false",
        **extra,
    )


__all__ += ["HL", "check_value", "undefined_fault"]
