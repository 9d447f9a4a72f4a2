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
_TAGS_SEEN: set[Any] = set()
#: A segment as element() reads it: an EDIFACT tag, or an X12 one (N1, BEG).
_ANY_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def element_text(value: Any) -> Any:
    """A value as a data element: text as it is, numbers as written, null as ''."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)  # as Decimal would write it, without the detour
    if value is None:
        return ""
    if isinstance(value, bool):
        raise FunctionError(f"a data element cannot be a boolean ({value})")
    if isinstance(value, Decimal | int | float):
        return format(Decimal(str(value)), "f")
    if isinstance(value, list):
        return value  # a composite
    return str(value)


def check_tag(tag: Any) -> None:
    """Refuse what is not a segment tag (three capital letters or digits)."""
    if type(tag) is str and tag in _TAGS_SEEN:
        return
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise FunctionError(f"{tag!r} is not a segment tag (three capital letters or digits)")
    _TAGS_SEEN.add(tag)  # at most 36**3 tags: the check runs once per tag


@function("segment", doc="segment('BGM', '220', number, '9') -> ['BGM', '220', '1001', '9']")
def segment(tag: str, *elements: Any) -> list[Any]:
    check_tag(tag)
    values = [element_text(e) for e in elements]
    while values and (values[-1] == "" or values[-1] == []):
        values.pop()
    return [tag, *values]


@function("composite", doc="composite('137', '20261120', '102') -> ['137', '20261120', '102']")
def composite(*components: Any) -> Any:
    parts = [element_text(c) for c in components]
    while parts and (parts[-1] == "" or parts[-1] == []):
        parts.pop()
    for part in parts:
        if type(part) is list:
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


def _qualifier(segment: Any) -> Any:
    if not isinstance(segment, list) or len(segment) < 2:
        return None
    first = segment[1]
    return first[0] if isinstance(first, list) and first else first


@function(
    "qualified",
    doc="qualified(body.DTM, '137') -> the DTM segment whose first element/component is 137",
)
def qualified(segments: Any, code: Any) -> Any:
    """The first segment qualified by ``code`` (DTM+137, MOA+77, RFF+ON, NAD+SU), or null."""
    if segments is None:
        return None
    if isinstance(segments, list) and segments and isinstance(segments[0], str):
        segments = [segments]  # a single segment (the definition allows only one)
    if not isinstance(segments, list):
        raise FunctionError(f"qualified() takes a list of segments, not {type(segments).__name__}")
    wanted = str(code)
    return next((s for s in segments if _qualifier(s) == wanted), None)


@function(
    "qualified_group",
    doc="qualified_group(body.SG2, 'NAD', 'SU') -> the SG2 group whose NAD is qualified SU",
)
def qualified_group(groups: Any, tag: str, code: Any) -> Any:
    """The first segment group whose trigger segment ``tag`` is qualified by ``code``, or null."""
    if groups is None:
        return None
    if not isinstance(groups, list):
        raise FunctionError(
            f"qualified_group() takes a list of groups, not {type(groups).__name__}"
        )
    wanted = str(code)
    for group in groups:
        if isinstance(group, dict) and _qualifier(group.get(tag)) == wanted:
            return group
    return None


@function(
    "element",
    doc="element(segment, 1, 2) -> component 2 of data element 1 (null when absent)",
)
def element(segment: Any, position: Any, component: Any = None) -> Any:
    """A data element (or one of its components) from a segment, whatever its shape."""
    if segment is None:
        return None
    if not isinstance(segment, list):
        raise FunctionError(f"element() takes a segment list, not {type(segment).__name__}")
    if not segment or not isinstance(segment[0], str) or not _ANY_TAG.fullmatch(segment[0]):
        raise FunctionError(
            f"element() takes a segment ['TAG', element, ...], not {segment!r:.60} (a "
            "composite?); read a component with element(segment, position, component)"
        )
    try:
        index = int(position)
    except (TypeError, ValueError):
        raise FunctionError(f"element position {position!r} is not a number") from None
    if index < 1 or index >= len(segment):
        return None
    value = segment[index]
    if component is None:
        return value if not isinstance(value, list) else (value[0] if value else None)
    part = int(component)
    parts = value if isinstance(value, list) else [value]
    found = parts[part - 1] if 1 <= part <= len(parts) else None
    return None if found == "" else found
