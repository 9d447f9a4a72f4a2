"""Building EDIFACT segments in a mapping: ``segment('DTM', composite('137', d, '102'))``.

A segment in the EDIFACT tree is a list ``[tag, element, ...]`` and a composite a list
of components (see docs/formats.md); these build them from expressions. Null becomes
an empty element, and trailing empty elements and components are dropped, as a
sender would write them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from hub.mapping.functions.registry import FunctionError, function

_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise FunctionError(f"a data element cannot be a boolean ({value})")
    if isinstance(value, Decimal | int | float):
        return format(Decimal(str(value)), "f")
    if isinstance(value, list):
        return value  # a composite
    return str(value)


def _trim(values: list[Any]) -> list[Any]:
    while values and values[-1] in ("", []):
        values.pop()
    return values


@function("segment", doc="segment('BGM', '220', number, '9') -> ['BGM', '220', '1001', '9']")
def segment(tag: str, *elements: Any) -> list[Any]:
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise FunctionError(f"{tag!r} is not a segment tag (three capital letters or digits)")
    return [tag, *_trim([_text(e) for e in elements])]


@function("composite", doc="composite('137', '20261120', '102') -> ['137', '20261120', '102']")
def composite(*components: Any) -> Any:
    parts = _trim([_text(c) for c in components])
    if any(isinstance(p, list) for p in parts):
        raise FunctionError("a component cannot itself have components")
    return parts[0] if len(parts) == 1 else parts


@function("array", doc="array(a, b, c) -> [a, b, c]; array() -> []")
def array(*items: Any) -> list[Any]:
    return list(items)


@function("compact", doc="compact(array(seg1, null, seg2)) -> [seg1, seg2]: drops nulls")
def compact(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise FunctionError(f"compact() takes a list, not {type(items).__name__}")
    return [i for i in items if i is not None and i != []]
