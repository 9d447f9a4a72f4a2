"""Check decoded messages against their definitions; every violation becomes a Fault.

What is checked, with the UN/EDIFACT 0085 code each violation carries:

* the segment table (structure.py): segment order and unexpected segments (15), missing
  mandatory segments and groups (13), too many repetitions of a segment (35) or a
  group (36);
* each segment against its definition: too many data elements or components (16; empty
  trailing ones are tolerated), a repeated element where the directory has none (35),
  missing mandatory elements and components (13);
* each value against its format: ``a`` takes no digits and ``n`` only digits, an
  optional leading minus and one decimal mark, the one UNA declares (37; a mark with no
  digit before it 38, a second or trailing mark 19); too long (39) or, for fixed
  formats like ``an3``, too short (40), counting digits only for ``n``.

Code lists are not checked. Positions follow CONTRL: ``segment`` counts from UNB = 1
through the interchange, ``message_segment`` from UNH = 1, element and component from 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from hub.formats.edifact.definitions import (
    CompositeDef,
    Definitions,
    ElementDef,
    Format,
    MessageDef,
)
from hub.formats.edifact.faults import Fault
from hub.formats.edifact.structure import Walk, walk

__all__ = [
    "MAX_FAULTS",
    "check_format",
    "definition_for",
    "each_message",
    "undefined_fault",
    "validate_interchange",
    "validate_message",
]

MAX_FAULTS = 100


def each_message(tree: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int]]:
    """Every message with the interchange position of the segment before its UNH."""
    at = 1  # UNB
    if "groups" in tree:
        for group in tree.get("groups") or []:
            at += 1  # UNG
            for message in group.get("messages") or []:
                yield message, at
                at += len(message.get("segments") or [])
            at += 1  # UNE
    else:
        for message in tree.get("messages") or []:
            yield message, at
            at += len(message.get("segments") or [])


def _ident(message: dict[str, Any]) -> tuple[str, str, str, str]:
    fields = [str(message.get(k) or "") for k in ("type", "version", "release", "agency")]
    if not all(fields):  # a message built by a mapping may only have UNH in body/segments
        unh = None
        segments = message.get("segments")
        body = message.get("body")
        if isinstance(segments, list) and segments and _tag(segments[0]) == "UNH":
            unh = segments[0]
        elif isinstance(body, dict) and _tag(body.get("UNH")) == "UNH":
            unh = body["UNH"]
        if unh is not None and len(unh) > 2:
            s009 = unh[2] if isinstance(unh[2], list) else [unh[2]]
            s009 = [str(v) for v in s009] + ["", "", "", ""]
            fields = [f or s for f, s in zip(fields, s009[:4], strict=True)]
    return fields[0], fields[1], fields[2], fields[3]


def definition_for(
    definitions: Definitions, message: dict[str, Any], syntax: str = "3"
) -> MessageDef | None:
    """The message's definition, with the service segments of syntax version ``syntax``."""
    return definitions.message(*_ident(message), syntax=syntax)


def validate_interchange(
    tree: dict[str, Any],
    definitions: Definitions,
    *,
    require_definition: bool = False,
    limit: int = MAX_FAULTS,
) -> list[Fault]:
    """Every violation in every message whose definition is known (at most ``limit``)."""
    decimal = str((tree.get("separators") or {}).get("decimal") or ".")
    syntax = str((tree.get("syntax") or {}).get("version") or "3")
    faults: list[Fault] = []
    for message, before in each_message(tree):
        if len(faults) >= limit:
            break
        definition = definition_for(definitions, message, syntax)
        if definition is None:
            if require_definition:
                faults.append(undefined_fault(definitions, message, before))
            continue
        faults += validate_message(
            definition, message, decimal=decimal, before=before, limit=limit - len(faults)
        )
    return faults[:limit]


def undefined_fault(definitions: Definitions, message: dict[str, Any], before: int) -> Fault:
    """The fault for a message whose definition is unknown (option require_definition)."""
    type_, version, release, agency = _ident(message)
    ident = f"{type_}:{version}:{release}:{agency}"
    directory = definitions.directory_for(version, release, agency)
    if directory is None:
        text = f"{ident}: no message definitions for directory {version}:{release}:{agency}"
        component = 3
    else:
        text = f"{ident}: no definition of message type {type_} in {directory.key}"
        component = 1
    return Fault(
        text,
        before + 1,
        "UNH",
        "12",
        element=2,
        component=component,
        message_ref=str(message.get("reference") or "") or None,
        message_segment=1,
        hint="add the message's definition, or set the edifact option require_definition: false",
    )


def validate_message(
    definition: MessageDef,
    message: dict[str, Any],
    *,
    decimal: str = ".",
    before: int = 1,
    limit: int = MAX_FAULTS,
    walked: Walk | None = None,
) -> list[Fault]:
    segments = message.get("segments") or []
    reference = str(message.get("reference") or "") or None
    found = walked or walk(definition, segments)
    located: list[tuple[int, int, int, Fault]] = []

    def add(
        index: int, code: str, text: str, element: int | None = None, comp: int | None = None
    ) -> None:
        fault = Fault(
            text,
            before + index + 1,
            _tag(segments[index]) if index < len(segments) else "UNT",
            code,
            element=element,
            component=comp,
            message_ref=reference,
            message_segment=index + 1,
        )
        located.append((index, element or 0, comp or 0, fault))

    for issue in found.issues:
        add(issue.index, issue.code, issue.message)
    checker = _Checker(definition, decimal, add)
    for index, segment in enumerate(segments):
        if len(located) >= limit:
            break
        seg_def = definition.segments.get(_tag(segment))
        if seg_def is not None:
            checker.segment(index, segment, seg_def.elements)
    located.sort(key=lambda item: (item[0], item[1], item[2]))
    return [item[3] for item in located[:limit]]


class _Checker:
    def __init__(self, definition: MessageDef, decimal: str, add: Any) -> None:
        self.label = definition.label
        self.decimal = decimal
        self.faults = 0

        def counted(*args: Any) -> None:
            self.faults += 1
            add(*args)

        self.add = counted

    def segment(
        self, index: int, segment: list[Any], elements: tuple[ElementDef | CompositeDef, ...]
    ) -> None:
        """Check one segment; a segment seen clean before (``DTM+137:...``) is not re-checked."""
        key = _hashable(segment)
        if key is not None:
            seen = (id(elements), self.decimal, key)
            if seen in _CLEAN:
                return
            before = self.faults
            self._segment(index, segment, elements)
            if self.faults == before:
                if len(_CLEAN) >= _CLEAN_MAX:
                    _CLEAN.clear()
                _CLEAN[seen] = None
            return
        self._segment(index, segment, elements)

    def _segment(
        self, index: int, segment: list[Any], elements: tuple[ElementDef | CompositeDef, ...]
    ) -> None:
        tag = segment[0]
        values = segment[1:]
        extra = [n for n in range(len(elements), len(values)) if _present(values[n])]
        if extra:
            self.add(
                index,
                "16",
                f"{tag}: too many data elements: {len(values)} > {len(elements)} defined "
                f"in {self.label}",
                extra[0] + 1,
            )
        for n, definition in enumerate(elements):
            value = values[n] if n < len(values) else None
            self.element(index, tag, n + 1, definition, value)

    def element(
        self, index: int, tag: str, position: int, definition: ElementDef | CompositeDef, value: Any
    ) -> None:
        if isinstance(value, dict):
            raw = value.get("repeat")
            repeats: list[Any] = raw if isinstance(raw, list) else []
            present = [r for r in repeats if _present(r)]
            if len(present) > 1:
                self.add(
                    index,
                    "35",
                    f"{_name(tag, definition)}: too many repetitions: {len(present)} > 1 "
                    f"allowed in {self.label}",
                    position,
                )
            value = present[0] if present else ""
        if value is None or value == "" or (isinstance(value, list) and not _present(value)):
            if definition.mandatory:
                self.add(
                    index,
                    "13",
                    f"{_name(tag, definition)}: mandatory data element missing in {self.label}",
                    position,
                )
            return
        if isinstance(definition, ElementDef):
            if isinstance(value, list):
                extra = [k for k in range(1, len(value)) if _present(value[k])]
                if extra:
                    self.add(
                        index,
                        "16",
                        f"{_name(tag, definition)}: too many components: {len(value)} > 1 in a "
                        f"simple data element in {self.label}",
                        position,
                        extra[0] + 1,
                    )
                value = value[0]
            self.value(index, tag, definition, None, value, position, None)
            return
        parts = value if isinstance(value, list) else [value]
        comps = definition.components
        if len(parts) > len(comps):
            extra = [k for k in range(len(comps), len(parts)) if _present(parts[k])]
            if extra:
                self.add(
                    index,
                    "16",
                    f"{_name(tag, definition)}: too many components: {len(parts)} > "
                    f"{len(comps)} defined in {self.label}",
                    position,
                    extra[0] + 1,
                )
        for k, comp in enumerate(comps):
            part = parts[k] if k < len(parts) else None
            if part is None or part == "":
                if comp.mandatory:
                    self.add(
                        index,
                        "13",
                        f"{_name(tag, definition, comp)}: mandatory component missing "
                        f"in {self.label}",
                        position,
                        k + 1,
                    )
                continue
            self.value(index, tag, comp, definition, part, position, k + 1)

    def value(
        self,
        index: int,
        tag: str,
        element: ElementDef,
        composite: CompositeDef | None,
        value: Any,
        position: int,
        component: int | None,
    ) -> None:
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        fmt = element.format
        if fmt.kind == "an" and fmt.min <= len(value) <= fmt.max:
            return  # the common case, quickly
        broken = check_format(value, fmt, self.decimal)
        if broken is not None:
            code, rule = broken
            name = _name(tag, composite, element) if composite else _name(tag, element)
            self.add(index, code, f"{name}: {rule} in {self.label}", position, component)


# Segments already found clean, by (definition, decimal mark, content). Element
# definitions live as long as the process (definitions are cached), so their id is stable.
_CLEAN: dict[tuple[int, str, tuple[Any, ...]], None] = {}
_CLEAN_MAX = 50_000


def _hashable(segment: list[Any]) -> tuple[Any, ...] | None:
    out: list[Any] = []
    for element in segment:
        if type(element) is str:
            out.append(element)
        elif type(element) is list:
            out.append(tuple(element))
        else:
            return None  # repetitions and odd values are always checked
    return tuple(out)


def _name(tag: str, definition: ElementDef | CompositeDef, part: ElementDef | None = None) -> str:
    """``NAD 3035 (Party qualifier)``, ``DTM C507/2005 (Date/time/period qualifier)``."""
    if part is None:
        return f"{tag} {definition.id} ({definition.name})"
    return f"{tag} {definition.id}/{part.id} ({part.name})"


def check_format(text: str, fmt: Format, decimal: str = ".") -> tuple[str, str] | None:
    """The 0085 code and the rule ``text`` breaks in ``fmt``, or None when it fits."""
    if fmt.kind == "n":
        if _number(decimal).fullmatch(text):  # the common case, quickly
            count = len(text) - text.startswith("-") - (decimal in text)
            if fmt.min <= count <= fmt.max:
                return None
        digits = text[1:] if text.startswith("-") else text
        if not digits or any(not (c.isdigit() and c.isascii()) and c != decimal for c in digits):
            return "37", f"invalid type of characters: {text!r} is not numeric ({fmt.text})"
        if digits.count(decimal) > 1:
            return "19", f"invalid decimal notation: {text!r} has more than one decimal mark"
        if digits.startswith(decimal):
            return "38", f"missing digit in front of decimal sign: {text!r}"
        if digits.endswith(decimal):
            return "19", f"invalid decimal notation: {text!r} ends with the decimal mark"
        count = len(digits) - digits.count(decimal)
        unit = "digits"
    else:
        if fmt.kind == "a" and any(c.isdigit() for c in text):
            return "37", f"invalid type of characters: {text!r} has digits ({fmt.text})"
        count = len(text)
        unit = "characters"
    if count > fmt.max:
        return "39", f"data element too long: {count} {unit} > {fmt.max} allowed ({fmt.text})"
    if count < fmt.min:
        return "40", f"data element too short: {count} {unit} < {fmt.min} required ({fmt.text})"
    return None


@lru_cache(maxsize=8)
def _number(decimal: str) -> re.Pattern[str]:
    return re.compile(rf"-?[0-9]+(?:{re.escape(decimal)}[0-9]+)?")


def _present(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, list):
        return any(_present(v) for v in value)
    if isinstance(value, dict):
        return any(_present(v) for v in value.get("repeat") or [])
    return True


def _tag(segment: Any) -> str:
    if isinstance(segment, list) and segment and isinstance(segment[0], str):
        return segment[0]
    return ""
