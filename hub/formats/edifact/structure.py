"""Nest a message's flat segments into its segment groups, and flatten them back.

A decoded message keeps ``segments``, the flat list ``[["UNH", ...], ["BGM", ...], ...]``
the writer uses. When the message's definition is known the codec adds ``body``, the same
segments arranged by the message's segment table, so a mapping can say "for each line
item" instead of scanning::

    body = {
        "UNH": ["UNH", "1", ["ORDERS", "D", "96A", "UN"]],
        "BGM": ["BGM", "220", "PO-4711", "9"],      # max 1 in the table: the segment
        "DTM": [["DTM", ["137", "20261120", "102"]]],  # max > 1: a list of segments
        "SG2": [{"NAD": [...], "SG5": [{"CTA": [...], "COM": [[...]]}]}, ...],
        "SG25": [                                    # groups: always a list of dicts
            {"LIN": ["LIN", "1", "", ["4000862141404", "EN"]],
             "QTY": [["QTY", ["21", "48", "PCE"]]],
             "SG28": [{"PRI": ["PRI", ["AAA", "12.50"]]}]},
        ],
        "UNS": ["UNS", "S"],
        "UNT": ["UNT", "27", "1"],
    }

Segments are keyed by tag, holding the segment itself when the table allows it once and a
list when it allows more (even if only one came); groups are keyed by their name (SG1,
SG2 ...) and always hold a list of dicts. Keys appear only for what the message has. The
segments in ``body`` are the very lists in ``segments``. A segment the table has no place
for is left out of ``body`` (validation reports it); ``segments`` still has it.

:func:`walk` does the matching and also records what breaks the table (missing mandatory
segments and groups, too many repetitions, segments out of place) for validate.py.
:func:`flatten` turns a ``body`` (say, one a mapping built) back into segments in the
table's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.formats.edifact.definitions import GroupDef, SegmentRef

__all__ = ["FlattenError", "Issue", "Table", "Walk", "flatten", "nest", "walk"]

Node = SegmentRef | GroupDef


class Table(Protocol):
    """A segment table: an EDIFACT message definition, or an X12 transaction set's."""

    @property
    def children(self) -> tuple[SegmentRef | GroupDef, ...]: ...

    @property
    def index(self) -> dict[str, tuple[int, ...]]: ...

    @property
    def tags(self) -> frozenset[str]: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class Issue:
    """A broken rule of the segment table, found at segment ``index`` of the message.

    ``kind`` says which rule, so that each syntax can give its own code: ``missing``
    (a mandatory segment or group), ``undefined`` (a tag the table does not have),
    ``misplaced`` (a tag it has, elsewhere), ``repeats`` (a segment too often),
    ``group_repeats`` (a group too often). ``code`` is the UN/EDIFACT 0085 code.
    """

    index: int  # 0-based position in the message's segments (UNH = 0)
    code: str  # UN/EDIFACT 0085
    message: str
    kind: str = "misplaced"
    group: str | None = None  # the innermost group (loop) open where it was found


@dataclass
class Walk:
    body: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    matched: list[bool] = field(default_factory=list)  # per segment: placed in the table


def nest(definition: Table, segments: list[Any]) -> dict[str, Any]:
    """The ``body`` view of ``segments`` (best effort: misplaced segments are left out)."""
    return walk(definition, segments).body


def walk(definition: Table, segments: list[Any]) -> Walk:
    return _Walker(definition, segments).run()


def _at(node: Node) -> str:
    return f" at position {node.pos}" if node.pos else ""


class _Walker:
    """Match segments against the table, innermost open group first.

    After a structural error the walk recovers the way Bots reports it: a segment that
    fits the table only by jumping ahead, past where the segment after it belongs, is
    "not allowed here" and skipped, and the walk goes on where it was, so one misplaced
    segment is one error (not an error for every segment after it).
    """

    def __init__(self, definition: Table, segments: list[Any]) -> None:
        self.definition = definition
        self.label = definition.label
        self.segments = segments
        self.tags = [_tag(s) for s in segments]
        self.issues: list[Issue] = []
        self.matched = [False] * len(segments)
        self.i = 0

    def run(self) -> Walk:
        body: dict[str, Any] = {}
        self.level(self.definition.children, self.definition.index, 0, body, None, _nowhere)
        return Walk(body, self.issues, self.matched)

    def issue(self, index: int, code: str, message: str, kind: str, group: GroupDef | None) -> None:
        at = min(index, max(len(self.segments) - 1, 0))
        self.issues.append(Issue(at, code, message, kind, group.name if group else None))

    def level(
        self,
        children: tuple[Node, ...],
        index: dict[str, tuple[int, ...]],
        start: int,
        into: dict[str, Any],
        group: GroupDef | None,
        outer: Callable[[str], bool],
    ) -> None:
        """Match segments against ``children[start:]`` until one belongs further out."""
        pos = start
        counts = [0] * len(children)
        if start:
            counts[0] = 1  # the trigger, already matched by the caller

        def takes(tag: str) -> bool:
            return _find(index, pos, tag) is not None or outer(tag)

        while self.i < len(self.segments):
            tag = self.tags[self.i]
            j = _find(index, pos, tag)
            if j is None:
                if outer(tag):
                    break
                self.unexpected(children, pos, counts, group, tag)
                self.i += 1
                continue
            if self.skips_mandatory(children, pos, j, counts) and self.jumps_too_far(
                children, index, pos, j, outer
            ):
                self.unexpected(children, pos, counts, group, tag)
                self.i += 1
                continue
            self.missing(children, pos, j, counts, group)
            pos = j
            child = children[j]
            counts[j] += 1
            if isinstance(child, SegmentRef):
                if counts[j] > child.max:
                    self.issue(
                        self.i,
                        "35",
                        f"{tag}: too many repetitions: {counts[j]} > {child.max} allowed "
                        f"in {self.label}{_at(child)}",
                        "repeats",
                        group,
                    )
                self.place(into, child, self.segments[self.i])
                self.matched[self.i] = True
                self.i += 1
            else:
                if counts[j] > child.max:
                    self.issue(
                        self.i,
                        "36",
                        f"{child.name} ({child.trigger}): too many segment group repetitions: "
                        f"{counts[j]} > {child.max} allowed in {self.label}{_at(child)}",
                        "group_repeats",
                        child,
                    )
                instance: dict[str, Any] = {}
                into.setdefault(child.name, []).append(instance)
                trigger = child.children[0]
                assert isinstance(trigger, SegmentRef)
                self.place(instance, trigger, self.segments[self.i])
                self.matched[self.i] = True
                self.i += 1
                self.level(child.children, child.index, 1, instance, child, takes)
        self.missing(children, pos, len(children), counts, group)

    @staticmethod
    def skips_mandatory(children: tuple[Node, ...], pos: int, j: int, counts: list[int]) -> bool:
        """Whether matching ``children[j]`` passes a mandatory entry that never came.

        The walk only moves forward, so entries after ``pos`` never came: counting the
        mandatory entries in between (by prefix sums) tells."""
        first = pos + (counts[pos] > 0)
        if j <= first:
            return False
        before = _mandatory_before(children)
        return before[j] > before[first]

    def jumps_too_far(
        self,
        children: tuple[Node, ...],
        index: dict[str, tuple[int, ...]],
        pos: int,
        j: int,
        outer: Callable[[str], bool],
    ) -> bool:
        """Whether taking the segment at ``children[j]`` (passing a mandatory entry)
        strands the one after it: the next segment fits from ``pos`` on but neither at
        ``j`` (or inside it), nor after it, nor further out. Then this segment, not all
        that follow, is out of place."""
        if self.i + 1 >= len(self.segments):
            return False
        after = self.tags[self.i + 1]
        child = children[j]
        if isinstance(child, GroupDef) and after in child.index:
            return False
        if _find(index, j, after) is not None or outer(after):
            return False
        return _find(index, pos, after) is not None

    def place(self, into: dict[str, Any], ref: SegmentRef, segment: Any) -> None:
        if ref.max > 1:
            into.setdefault(ref.tag, []).append(segment)
        elif ref.tag not in into:
            into[ref.tag] = segment

    def missing(
        self,
        children: tuple[Node, ...],
        pos: int,
        end: int,
        counts: list[int],
        group: GroupDef | None,
    ) -> None:
        """Mandatory entries in ``children[pos:end]`` that never came."""
        first = pos + (counts[pos] > 0) if pos < end else end
        before = _mandatory_before(children)
        if before[end] == before[first]:
            return  # the usual case: nothing mandatory was passed
        for k in range(pos, end):
            child = children[k]
            if counts[k] or not child.mandatory:
                continue
            if isinstance(child, SegmentRef):
                text = f"{child.tag}: mandatory segment missing"
            else:
                text = f"{child.name} ({child.trigger}): mandatory segment group missing"
            self.issue(self.i, "13", f"{text} in {self.label}{_at(child)}", "missing", group)

    def unexpected(
        self,
        children: tuple[Node, ...],
        pos: int,
        counts: list[int],
        group: GroupDef | None,
        tag: str,
    ) -> None:
        inside = f" ({group.name})" if group is not None else ""
        if tag not in self.definition.tags:
            text = f"{tag}: segment not defined in {self.label}"
            kind = "undefined"
        else:
            last = pos if counts[pos] else (0 if group is not None else None)
            where = (
                "here" if last is None else f"after {children[last].trigger}{_at(children[last])}"
            )
            text = f"{tag}: segment not allowed {where} in {self.label}{inside}"
            kind = "misplaced"
        self.issue(self.i, "15", text, kind, group)


#: Each table level's count of mandatory entries before each position (and at the end),
#: by the level's id; the level is kept in the value, so the id is never another's.
_MANDATORY: dict[int, tuple[tuple[Node, ...], list[int]]] = {}


def _mandatory_before(children: tuple[Node, ...]) -> list[int]:
    found = _MANDATORY.get(id(children))
    if found is None or found[0] is not children:
        counts = [0]
        for child in children:
            counts.append(counts[-1] + child.mandatory)
        if len(_MANDATORY) >= 10_000:  # definitions loaded again and again (tests)
            _MANDATORY.clear()
        found = _MANDATORY[id(children)] = (children, counts)
    return found[1]


def _tag(segment: Any) -> str:
    if isinstance(segment, list) and segment and isinstance(segment[0], str):
        return segment[0]
    return ""


def _find(index: dict[str, tuple[int, ...]], pos: int, tag: str) -> int | None:
    """The first entry from ``pos`` on that ``tag`` starts."""
    for k in index.get(tag, ()):
        if k >= pos:
            return k
    return None


def _nowhere(tag: str) -> bool:
    return False


class FlattenError(ValueError):
    """``body`` does not fit the segment table; ``where`` is a JSON pointer into it."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


def flatten(definition: Table, body: Any, where: str = "body") -> list[Any]:
    """Segments from a ``body``, in the order of the segment table.

    Raises :class:`FlattenError` when ``body`` has something the table lacks or a value
    of the wrong shape; the codec turns that into an EncodeError.
    """
    out: list[Any] = []
    _flatten(definition.children, body, where, out, definition.label)
    return out


#: Where in the body a level is: the path text, or (the parent's place, key, index), made
#: into text only for an error (a large order has thousands of group instances).
Place = str | tuple[Any, str, int]


def _text(place: Place) -> str:
    if isinstance(place, str):
        return place
    parent, key, n = place
    return f"{_text(parent)}/{key}/{n}"


def _flatten(
    children: tuple[Node, ...], body: Any, where: Place, out: list[Any], label: str
) -> None:
    if not isinstance(body, dict):
        raise FlattenError(_text(where), "a body level is an object keyed by segment tag and group")
    found = _PLANS.get((id(children), tuple(body)))  # _plan's lookup, inlined: the hot path
    plan = (
        found[1]
        if found is not None and found[0] is children
        else _plan(children, body, where, label)
    )
    for key, tag, group in plan:
        value = body[key]
        if value is None:
            continue
        if group is not None:
            if isinstance(value, list):
                for n, instance in enumerate(value):
                    _flatten(group, instance, (where, key, n), out, label)
            else:
                _flatten(group, value, (where, key, 0), out, label)
        elif not isinstance(value, list):
            raise FlattenError(f"{_text(where)}/{key}", "a segment is a list starting with its tag")
        elif value and isinstance(value[0], str):
            if value[0] != tag:
                _refuse(tag, where, key)
            out.append(value)
        else:
            for segment in value:
                if not (isinstance(segment, list) and segment and segment[0] == tag):
                    n = next(  # located only now: enumerating every list costs the hot path
                        n
                        for n, one in enumerate(value)
                        if not (isinstance(one, list) and one and one[0] == tag)
                    )
                    _refuse(tag, where, key, n)
            out += value


def _refuse(tag: str, where: Place, key: str, n: int | None = None) -> None:
    path = f"{_text(where)}/{key}" if n is None else f"{_text(where)}/{key}/{n}"
    raise FlattenError(path, f"expected a {tag} segment, a list starting with {tag!r}")


Plan = tuple[tuple[str, str, "tuple[Node, ...] | None"], ...]

#: (id of a table level, its body's keys in their order) -> how to write that body: its
#: keys in the table's order, each with the segment's tag or the group's level. Bodies a
#: mapping builds have the same keys instance after instance, so this is worked out once.
#: The level is kept in the value, so its id is never another's; definitions live for the
#: process.
_PLANS: dict[tuple[int, tuple[Any, ...]], tuple[tuple[Node, ...], Plan]] = {}


def _plan(children: tuple[Node, ...], body: dict[Any, Any], where: Place, label: str) -> Plan:
    keys = tuple(body)
    found = _PLANS.get((id(children), keys))
    if found is not None and found[0] is children:
        return found[1]
    order = {child.key: (k, child) for k, child in enumerate(children)}
    extra = [key for key in keys if not isinstance(key, str) or key not in order]
    if extra:
        raise FlattenError(f"{_text(where)}/{extra[0]}", f"not a segment or group here in {label}")
    ranked = sorted((order[key] for key in keys), key=lambda entry: entry[0])
    plan: Plan = tuple(
        (child.key, child.trigger, child.children if isinstance(child, GroupDef) else None)
        for _, child in ranked
    )
    if len(_PLANS) >= 10_000:  # bodies of ever new shapes, or definitions loaded again
        _PLANS.clear()
    _PLANS[(id(children), keys)] = (children, plan)
    return plan
