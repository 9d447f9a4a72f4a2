"""Write an X12 tree: ISA at its fixed widths, counts and control numbers computed.

X12 has no release character: a value holding a separator (or a line break) cannot be
written, and is refused with the value and its place rather than escaped or changed.
decode -> encode gives the input bytes back: ISA keeps its padding, the line breaks and
the end of the file stay as they were, and counts that were right stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hub.errors import EncodeError
from hub.formats.x12.envelope import Separators, pad_isa

__all__ = ["write_tree"]

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
#: Tags seen to be well formed.
_GOOD_TAGS: set[str] = set()
#: How the fast path writes a value that is not text, as :meth:`_Writer.value` does.
_SCALAR: dict[type, Callable[[Any], str]] = {int: str, float: str, type(None): lambda _: ""}


class _Writer:
    def __init__(self, seps: Separators) -> None:
        self.seps = seps
        specials = [*seps.chars(), "\r", "\n"]
        self._special = re.compile("|".join(re.escape(c) for c in specials))
        #: What a value may not hold besides the separators the fast path counts.
        self._others = tuple(
            c for c in {*specials} - {seps.element, seps.component, seps.segment} if c
        )
        used = (seps.element, seps.component, seps.segment)
        self._fast = all(used) and len(set(used)) == len(used)

    def many(self, segments: list[Any]) -> list[str] | None:
        """The texts of many segments in one pass, or None when something needs the careful
        path (:meth:`segment`): a value holding a separator (refused there, with its place),
        a repetition, a value that is not text or a number, an odd tag.

        Values are joined as they are; they held no separator exactly when the text holds
        as many separators and terminators as were put in, and nothing else special.
        """
        if not self._fast:
            return None
        component, element_sep, terminator = (
            self.seps.component,
            self.seps.element,
            self.seps.segment,
        )
        scalar, good = _SCALAR, _GOOD_TAGS
        lines: list[str] = []
        elements_put = components_put = 0
        try:
            for segment in segments:
                if type(segment) is not list or not segment:
                    return None
                if segment[0] not in good:
                    tag = segment[0]
                    if type(tag) is not str or not _TAG.match(tag):
                        return None
                    good.add(tag)
                end = len(segment)
                while segment[end - 1] is None:  # trailing absent elements are not written
                    end -= 1
                parts: list[str] = []
                for n in range(end):
                    element = segment[n]
                    kind = type(element)
                    if kind is str:
                        parts.append(element)
                    elif kind is list:
                        last = len(element)
                        while last and element[last - 1] is None:
                            last -= 1
                        parts.append(
                            component.join(
                                [
                                    c if type(c) is str else scalar[type(c)](c)
                                    for c in element[:last]
                                ]
                            )
                        )
                        if last:
                            components_put += last - 1
                    else:
                        parts.append(scalar[kind](element))
                elements_put += len(parts) - 1
                lines.append(element_sep.join(parts) + terminator)
        except (KeyError, TypeError):
            return None
        text = "".join(lines)
        if (
            text.count(element_sep) != elements_put
            or text.count(component) != components_put
            or text.count(terminator) != len(lines)
        ):
            return None
        for char in self._others:
            if char in text:
                return None
        return lines

    def value(self, value: Any, where: Callable[[], str]) -> str:
        if type(value) is str:
            if self._special.search(value) is None:
                return value
            text = value
        elif value is None:
            return ""
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise EncodeError(
                f"a data element must be text or a number, not {type(value).__name__}",
                where=where(),
            )
        else:
            text = str(value)
        found = self._special.search(text)
        if found is not None:
            char = found.group(0)
            name = _separator_name(char, self.seps)
            raise EncodeError(
                f"the value {text[:60]!r} holds the {name} {char!r}, and X12 has no release "
                "character to escape it",
                where=where(),
                hint="change the value (a mapping can replace the character), or write with "
                "other separators (the x12 option `separators`)",
            )
        return text

    def element(self, element: Any, where: Callable[[], str]) -> str:
        if type(element) is list:
            parts = _trimmed(element)
            return self.seps.component.join(
                [self.value(c, _place(where, "component", k)) for k, c in enumerate(parts, 1)]
            )
        if isinstance(element, dict) and "repeat" in element:
            if not self.seps.repetition:
                raise EncodeError(
                    "a repeated data element needs a repetition separator (ISA11, version "
                    "00402 and later)",
                    where=where(),
                )
            return self.seps.repetition.join([self.element(e, where) for e in element["repeat"]])
        return self.value(element, where)

    def segment(self, segment: Any, where: str) -> str:
        if not isinstance(segment, list) or not segment or not isinstance(segment[0], str):
            raise EncodeError("a segment must be a list starting with its tag", where=where)
        tag = segment[0]
        if not _TAG.match(tag):
            raise EncodeError(f"{tag!r} is not an X12 segment tag", where=where)
        elements = _trimmed(segment[1:])
        out = [tag]
        for n, element in enumerate(elements, 1):
            out.append(self.element(element, _place(lambda: f"{where} ({tag})", "element", n)))
        return self.seps.element.join(out) + self.seps.segment


def _place(where: Callable[[], str], what: str, n: int) -> Callable[[], str]:
    """A place named only when an error needs it (building names up front is slow)."""
    return lambda: f"{where()}, {what} {n}"


def _trimmed(values: list[Any]) -> list[Any]:
    """Trailing ``None`` (absent, as a mapping writes it) is dropped; ``""`` is kept."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return values[:end]


def _separator_name(char: str, seps: Separators) -> str:
    for name in ("element", "component", "repetition", "segment"):
        if getattr(seps, name) == char:
            return f"{name} separator" if name != "segment" else "segment terminator"
    return "line break"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def write_tree(
    tree: Any,
    *,
    separators: Separators | None = None,
    newline: str | None = None,
    charset: str = "utf-8",
) -> bytes:
    """Tree -> bytes; a tree of several interchanges writes them one after the other."""
    if not isinstance(tree, dict):
        raise EncodeError("an X12 tree is an object with `header` and `groups`")
    bom = "\ufeff" if tree.get("bom") else ""
    if "interchanges" in tree:
        items = tree["interchanges"]
        if not isinstance(items, list):
            raise EncodeError("`interchanges` is a list of interchanges", where="/interchanges")
        text = "".join(
            _interchange(t, separators, newline, f"/interchanges/{n}") for n, t in enumerate(items)
        )
    else:
        text = _interchange(tree, separators, newline, "")
    try:
        return (bom + text).encode(charset)
    except UnicodeEncodeError as exc:
        char = (bom + text)[exc.start]
        line = (bom + text).count("\n", 0, exc.start) + 1
        raise EncodeError(
            f"character {char!r} (U+{ord(char):04X}) cannot be written in {charset}",
            where=f"line {line}",
            hint="set the x12 option `charset` (utf-8 writes every character)",
        ) from None


def _interchange(tree: Any, separators: Separators | None, newline: str | None, path: str) -> str:
    if not isinstance(tree, dict):
        raise EncodeError("an interchange is an object with `header` and `groups`", where=path)
    try:
        seps = separators or Separators.from_tree(tree.get("separators"))
    except (TypeError, ValueError) as exc:
        raise EncodeError(f"bad `separators`: {exc}", where=f"{path}/separators") from None
    problem = seps.problem()
    if problem:
        raise EncodeError(f"bad separators: {problem}", where=f"{path}/separators")
    header = list(tree.get("header") or [])
    if len(header) < 13:
        raise EncodeError(
            f"ISA needs its 16 data elements, the tree's `header` has {len(header)}",
            where=f"{path}/header",
        )
    header = (header + [""] * 16)[:16]
    version = _text(header[11]).strip()
    if seps.repetition:
        if version < "00402":
            raise EncodeError(
                f"ISA12 {version!r} has no repetition separator (from 00402 on)",
                where=f"{path}/separators/repetition",
            )
        header[10] = seps.repetition
    elif version >= "00402":
        raise EncodeError(
            f"ISA12 {version!r} needs a repetition separator in ISA11",
            where=f"{path}/separators/repetition",
        )
    header[15] = seps.component
    try:
        isa = [pad_isa(n, _text(v)) for n, v in enumerate(header, 1)]
    except ValueError as exc:
        raise EncodeError(
            f"ISA does not fit its fixed widths: {exc}", where=f"{path}/header"
        ) from None
    w = _Writer(seps)
    isa_text = "ISA" + seps.element + seps.element.join(isa[:15])
    if any(seps.element in v or seps.segment in v for v in isa[:15]):
        raise EncodeError(
            "an ISA value holds the element separator or the segment terminator",
            where=f"{path}/header",
        )
    lines = [isa_text + seps.element + isa[15] + seps.segment]
    ta1s = tree.get("ta1") or []
    if not isinstance(ta1s, list):
        raise EncodeError("`ta1` is a list of TA1 segments' elements", where=f"{path}/ta1")
    for t, ta1 in enumerate(ta1s):
        if not isinstance(ta1, list):
            raise EncodeError("a TA1 is a list of its elements", where=f"{path}/ta1/{t}")
        lines.append(w.segment(["TA1", *ta1], f"{path}/ta1/{t}"))
    groups = tree.get("groups") or []
    if not isinstance(groups, list):
        raise EncodeError("`groups` is a list of functional groups", where=f"{path}/groups")
    for g, group in enumerate(groups):
        where = f"{path}/groups/{g}"
        if not isinstance(group, dict):
            raise EncodeError("a functional group is an object", where=where)
        gs = list(group.get("header") or [])
        lines.append(w.segment(["GS", *gs], f"{where}/header"))
        messages = group.get("messages") or []
        for m, message in enumerate(messages):
            lines.extend(_message(w, message, f"{where}/messages/{m}", m))
        control = _text(gs[5]) if len(gs) > 5 else ""
        lines.append(w.segment(["GE", str(len(messages)), control], f"{where}/trailer"))
    lines.append(w.segment(["IEA", str(len(groups)), isa[12]], f"{path}/trailer"))
    sep = newline if newline is not None else (tree.get("newline") or "")
    final = tree.get("final_newline", sep) if newline is None else sep
    return str(tree.get("leading") or "") + sep.join(lines) + str(final or "")


def _message(w: _Writer, message: Any, where: str, m: int) -> list[str]:
    if not isinstance(message, dict):
        raise EncodeError("a transaction set is an object with `segments`", where=where)
    segments = list(message.get("segments") or [])
    reference = str(message.get("reference") or f"{m + 1:04d}")
    if segments and isinstance(segments[0], list) and segments[0][:1] == ["ST"]:
        reference = _text(segments[0][2]) if len(segments[0]) > 2 else reference
    else:
        kind = message.get("type")
        if not kind:
            raise EncodeError("a transaction set without ST needs `type` (ST01)", where=where)
        segments.insert(0, ["ST", str(kind), reference])
    declared = None
    if isinstance(segments[-1], list) and segments[-1][:1] == ["SE"]:
        declared = _text(segments.pop()[1:2])
    count = len(segments) + 1
    # a count written with leading zeros stays as written when it is right
    se01 = declared if declared and declared.isdigit() and int(declared) == count else str(count)
    out = w.many(segments)
    if out is None:  # something to refuse (with its place) or write the careful way
        out = [w.segment(s, f"{where}/segments/{n}") for n, s in enumerate(segments)]
    out.append(w.segment(["SE", se01, reference], f"{where}/segments/{len(segments)}"))
    return out
