"""X12 transaction set definitions: ``schemas/x12/<version>/`` (see its README.md).

``segments.json`` holds each segment's data elements (reference designator, usage,
type, min/max length; components for composites); ``<set>.json`` a transaction set's
table: segments ``{segment, usage, max}`` and loops ``{loop, usage, max, structure}``
whose first entry is the loop's trigger segment. A set is looked up by ST01 and the
first six characters of its version (ST03, else GS08): ``004010VICS`` reads ``004010``.

Loops become :class:`GroupDef` named ``<trigger>_loop`` (``N1_loop``, ``PO1_loop``,
``HL_loop``), so the walker EDIFACT uses nests X12 the same way.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import hub
from hub.errors import ConfigError, Problem
from hub.formats.edifact.definitions import GroupDef, SegmentRef

__all__ = [
    "DEFAULT_DEFINITIONS",
    "Component",
    "Definitions",
    "ElementDef",
    "SegmentDef",
    "TransactionDef",
    "bundled_definitions",
    "load_definitions",
]

DEFAULT_DEFINITIONS = Path("schemas") / "x12"
TYPES = frozenset({"AN", "ID", "R", "DT", "TM", "B"} | {f"N{n}" for n in range(10)})


def bundled_definitions() -> Path:
    return Path(hub.__file__).resolve().parents[1] / "schemas" / "x12"


@dataclass(frozen=True)
class Component:
    ref: str  # reference designator: BEG03, AK401.01
    usage: str  # M or O
    type: str  # AN ID R DT TM B N0..N9
    min: int
    max: int
    id: str | None = None  # data element number (AK402)
    name: str | None = None

    @property
    def mandatory(self) -> bool:
        return self.usage == "M"

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.name})" if self.name else self.ref


@dataclass(frozen=True)
class ElementDef(Component):
    components: tuple[Component, ...] = ()  # a composite when not empty


@dataclass(frozen=True)
class SegmentDef:
    tag: str
    elements: tuple[ElementDef, ...]


@dataclass(frozen=True)
class TransactionDef:
    type: str
    version: str
    name: str
    functional_group: str
    hierarchical: bool
    children: tuple[SegmentRef | GroupDef, ...]
    segments: dict[str, SegmentDef] = field(repr=False)

    @cached_property
    def index(self) -> dict[str, tuple[int, ...]]:
        found: dict[str, list[int]] = {}
        for k, child in enumerate(self.children):
            found.setdefault(child.trigger, []).append(k)
        return {tag: tuple(ks) for tag, ks in found.items()}

    @cached_property
    def tags(self) -> frozenset[str]:
        return frozenset(_tags(self.children))

    @property
    def label(self) -> str:
        return f"{self.type} {self.version}"


def _tags(children: tuple[SegmentRef | GroupDef, ...]) -> set[str]:
    found: set[str] = set()
    for child in children:
        if isinstance(child, GroupDef):
            found |= _tags(child.children)
        else:
            found.add(child.tag)
    return found


class Definitions:
    """Every version folder under one root; lazily loaded, cached, thread-safe."""

    def __init__(self, root: Path, *, missing_ok: bool = False) -> None:
        self.root = root
        self._lock = threading.RLock()
        self._segments: dict[str, dict[str, SegmentDef]] = {}
        self._sets: dict[tuple[str, str], TransactionDef | None] = {}
        if not root.is_dir() and not missing_ok:
            raise ConfigError(
                f"X12 definitions folder not found: {root}",
                hint="set the x12 option `definitions` to a folder like schemas/x12",
            )
        self.versions = (
            sorted(p.name for p in root.iterdir() if (p / "segments.json").is_file())
            if root.is_dir()
            else []
        )

    def transaction(self, type_: str, version: str) -> TransactionDef | None:
        """The definition for ST01 ``type_`` in ``version`` (ST03 or GS08), or None."""
        key = (version.strip()[:6], type_.strip())
        with self._lock:
            if key not in self._sets:
                self._sets[key] = self._load(*key)
            return self._sets[key]

    def transaction_types(self, version: str) -> list[str]:
        folder = self.root / version
        return sorted(p.stem for p in folder.glob("*.json") if p.stem != "segments")

    def check_all(self) -> list[str]:
        problems: list[str] = []
        for version in self.versions:
            for type_ in self.transaction_types(version):
                try:
                    self.transaction(type_, version)
                except ConfigError as exc:
                    problems.extend(str(p) for p in exc.problems or [Problem(exc.message)])
        return problems

    def _read(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise ConfigError(f"not valid JSON: {exc}", where=str(path)) from None

    def _dictionary(self, version: str) -> dict[str, SegmentDef]:
        found = self._segments.get(version)
        if found is not None:
            return found
        path = self.root / version / "segments.json"
        data = self._read(path)
        problems: list[str] = []
        segments: dict[str, SegmentDef] = {}
        raw = data.get("segments") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            _raise(path, ["the file holds {segments: {TAG: {elements: [...]}}}"])
            raw = {}
        for tag, seg in raw.items():
            elements = []
            for n, entry in enumerate((seg or {}).get("elements") or [], 1):
                element = _element(entry, f"{tag} element {n}", problems)
                if element is not None:
                    elements.append(element)
            segments[tag] = SegmentDef(tag, tuple(elements))
        _raise(path, problems)
        self._segments[version] = segments
        return segments

    def _load(self, version: str, type_: str) -> TransactionDef | None:
        path = self.root / version / f"{type_}.json"
        if not path.is_file() or not type_.isalnum():
            return None
        data = self._read(path)
        problems: list[str] = []
        if not isinstance(data, dict) or not isinstance(data.get("structure"), list):
            _raise(path, ["a transaction set file has `transaction` and a `structure` list"])
        dictionary = self._dictionary(version)
        children = _structure(data["structure"], "structure", problems, top=True)
        tags = _tags(children)
        for tag in sorted(tags - set(dictionary)):
            problems.append(f"segment {tag} is used but not in {version}/segments.json")
        _raise(path, problems)
        return TransactionDef(
            type=type_,
            version=version,
            name=str(data.get("name") or type_),
            functional_group=str(data.get("functional_group") or ""),
            hierarchical=bool(data.get("hierarchical")),
            children=children,
            segments={t: dictionary[t] for t in tags},
        )


def _raise(path: Path, problems: list[str]) -> None:
    if problems:
        raise ConfigError(
            f"{path.name}: {len(problems)} problem(s) in the X12 definitions: {problems[0]}",
            where=str(path),
            problems=[Problem(p, where=str(path)) for p in problems[:100]],
        )


def _component(entry: Any, where: str, problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, dict) or not entry.get("ref"):
        problems.append(f"{where}: needs `ref`, `usage` and a type or components")
        return None
    usage = entry.get("usage")
    if usage not in ("M", "O"):
        problems.append(f"{where} ({entry['ref']}): usage is M or O, not {usage!r}")
    return {
        "ref": str(entry["ref"]),
        "usage": str(usage),
        "id": str(entry["id"]) if entry.get("id") else None,
        "name": str(entry["name"]) if entry.get("name") else None,
    }


def _lengths(entry: dict[str, Any], where: str, problems: list[str]) -> tuple[str, int, int]:
    kind, low, high = entry.get("type"), entry.get("min"), entry.get("max")
    if kind not in TYPES:
        problems.append(f"{where} ({entry.get('ref')}): type {kind!r} is not one of AN ID R ...")
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        problems.append(f"{where} ({entry.get('ref')}): min and max are lengths, min <= max")
        low, high = 0, 0
    return str(kind), int(low), int(high)


def _element(entry: Any, where: str, problems: list[str]) -> ElementDef | None:
    base = _component(entry, where, problems)
    if base is None:
        return None
    if entry.get("components"):
        parts = []
        for k, raw in enumerate(entry["components"], 1):
            part = _component(raw, f"{where} component {k}", problems)
            if part is not None:
                kind, low, high = _lengths(raw, f"{where} component {k}", problems)
                parts.append(Component(type=kind, min=low, max=high, **part))
        return ElementDef(type="", min=0, max=0, components=tuple(parts), **base)
    kind, low, high = _lengths(entry, where, problems)
    return ElementDef(type=kind, min=low, max=high, **base)


def _structure(
    items: Any, where: str, problems: list[str], *, top: bool = False
) -> tuple[SegmentRef | GroupDef, ...]:
    out: list[SegmentRef | GroupDef] = []
    if not isinstance(items, list) or not items:
        problems.append(f"{where}: an empty structure")
        return ()
    for n, item in enumerate(items, 1):
        at = f"{where}, entry {n}"
        if not isinstance(item, dict):
            problems.append(f"{at}: a segment or a loop")
            continue
        usage, maximum = item.get("usage"), item.get("max")
        if usage not in ("M", "O"):
            problems.append(f"{at}: usage is M or O, not {usage!r}")
        if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum < 1:
            problems.append(f"{at}: max is a whole number of at least 1, not {maximum!r}")
            maximum = 1
        status = "M" if usage == "M" else "C"
        if "loop" in item:
            name = f"{item['loop']}_loop"
            children = _structure(item.get("structure"), f"{where} {name}", problems)
            first = children[0] if children else None
            if not isinstance(first, SegmentRef) or first.max != 1:
                problems.append(f"{where} {name}: the first entry is its trigger segment, max 1")
            if children:
                out.append(GroupDef(name, status, int(maximum), "", children))
        else:
            out.append(SegmentRef(str(item.get("segment", "")), status, int(maximum), ""))
    keys = [c.key for c in out]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"{where}: {key} appears twice at one level")
    if top and not (out and out[0].key == "ST" and out[-1].key == "SE"):
        problems.append(f"{where}: a transaction set starts with ST and ends with SE")
    return tuple(out)


_CACHE: dict[Path, Definitions] = {}
_CACHE_LOCK = threading.Lock()


def load_definitions(root: Path | None = None) -> Definitions:
    path = (root or bundled_definitions()).resolve()
    with _CACHE_LOCK:
        found = _CACHE.get(path)
        if found is None:
            found = _CACHE[path] = Definitions(path)
        return found
