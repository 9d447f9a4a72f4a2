"""UN/EDIFACT message definitions: load a directory's YAML files and pick one by UNH.

The files (see ``schemas/edifact/README.md``) follow the UN directory's own split:

* ``<dir>/directory.yaml`` says which UNH version/release/agency the folder answers
  (``D``/``96A``/``UN``), and may name a ``base`` directory it overlays;
* ``<dir>/segments.yaml`` holds ``segments`` (EDSD), ``composites`` (EDCD) and
  ``elements`` (EDED); a segment lists element ids with their status, a composite its
  component ids, an element its name and format (``an..35``, ``n..15``, ``a3``);
* ``<dir>/messages/<TYPE>.yaml`` holds a message's segment table: segments
  ``{pos, tag, status, max}`` and groups ``{group, pos, status, max, segments}`` whose
  first segment is the group's trigger;
* ``service.yaml`` (beside the folders) defines the service segments for every directory.

Everything is checked when loaded; a broken file raises :class:`ConfigError` naming the
file and every problem. Loading is lazy (a directory's segments on first use, a message
on first use) and cached per definitions folder for the life of the process.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

import hub
from hub.errors import ConfigError, Problem

__all__ = [
    "DEFAULT_DEFINITIONS",
    "CompositeDef",
    "Definitions",
    "DirectoryInfo",
    "ElementDef",
    "Format",
    "GroupDef",
    "MessageDef",
    "SegmentDef",
    "SegmentRef",
    "bundled_definitions",
    "load_definitions",
]

#: The codec option's default: relative, so make_codec resolves it against the config.
DEFAULT_DEFINITIONS = Path("schemas") / "edifact"

_FORMAT = re.compile(r"(an|a|n)(\.\.)?([1-9][0-9]*)\Z")
_TAG = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_GROUP = re.compile(r"SG[1-9][0-9]*\Z")
_ELEMENT_ID = re.compile(r"[0-9]{4}\Z")
_COMPOSITE_ID = re.compile(r"[CES][0-9]{3}\Z")
_STATUS = ("M", "C")

try:  # libyaml is several times faster; PyYAML falls back to pure Python without it
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def bundled_definitions() -> Path:
    """The definitions shipped with the hub (``schemas/edifact`` beside the package)."""
    return Path(hub.__file__).resolve().parents[1] / "schemas" / "edifact"


@dataclass(frozen=True)
class Format:
    """A data element format from the directory: ``an..35``, ``n..15``, ``a3``."""

    text: str
    kind: str  # "a" alphabetic, "n" numeric, "an" alphanumeric
    max: int
    fixed: bool  # "a3" is exactly 3; "a..3" up to 3

    @property
    def min(self) -> int:
        return self.max if self.fixed else 0

    @classmethod
    def parse(cls, text: str) -> Format:
        match = _FORMAT.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a data element format (an..35, n..15, a3)")
        kind, dots, length = match.groups()
        return cls(text, kind, int(length), fixed=not dots)


@dataclass(frozen=True)
class ElementDef:
    """A simple data element at one position of a segment or composite."""

    id: str
    name: str
    status: str
    format: Format

    @property
    def mandatory(self) -> bool:
        return self.status == "M"


@dataclass(frozen=True)
class CompositeDef:
    id: str
    name: str
    status: str
    components: tuple[ElementDef, ...]

    @property
    def mandatory(self) -> bool:
        return self.status == "M"


@dataclass(frozen=True)
class SegmentDef:
    tag: str
    name: str
    elements: tuple[ElementDef | CompositeDef, ...]


@dataclass(frozen=True)
class SegmentRef:
    """A segment's place in a message's segment table."""

    tag: str
    status: str
    max: int
    pos: str

    @property
    def mandatory(self) -> bool:
        return self.status == "M"

    @property
    def key(self) -> str:
        return self.tag

    @property
    def trigger(self) -> str:
        return self.tag


@dataclass(frozen=True)
class GroupDef:
    """A segment group: ``children[0]`` is its trigger segment (M 1)."""

    name: str
    status: str
    max: int
    pos: str
    children: tuple[SegmentRef | GroupDef, ...]

    @property
    def mandatory(self) -> bool:
        return self.status == "M"

    @property
    def key(self) -> str:
        return self.name

    @property
    def trigger(self) -> str:
        first = self.children[0]
        assert isinstance(first, SegmentRef)  # checked when loaded
        return first.tag

    @cached_property
    def index(self) -> dict[str, tuple[int, ...]]:
        """Positions in ``children`` that each tag starts (a segment, or a group's trigger)."""
        return _index(self.children)


@dataclass(frozen=True)
class MessageDef:
    type: str
    name: str
    directory: str  # the folder that answered, e.g. "D96A"
    children: tuple[SegmentRef | GroupDef, ...]
    segments: dict[str, SegmentDef] = field(repr=False)

    @cached_property
    def index(self) -> dict[str, tuple[int, ...]]:
        return _index(self.children)

    @cached_property
    def tags(self) -> frozenset[str]:
        """Every segment tag the segment table has, at any depth."""
        return frozenset(_tags(self.children))

    @property
    def label(self) -> str:
        return f"{self.type} {self.directory}"


def _index(children: tuple[SegmentRef | GroupDef, ...]) -> dict[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for k, child in enumerate(children):
        found.setdefault(child.trigger, []).append(k)
    return {tag: tuple(ks) for tag, ks in found.items()}


@dataclass(frozen=True)
class DirectoryInfo:
    key: str  # folder name
    version: str
    release: str
    agency: str
    title: str
    base: str | None
    only: frozenset[str] | None  # message types this folder offers, when restricted
    path: Path


class _Dictionary:
    """Merged segments/composites/elements of a directory (and its bases and service)."""

    def __init__(self) -> None:
        self.segments: dict[str, dict[str, Any]] = {}
        self.composites: dict[str, dict[str, Any]] = {}
        self.elements: dict[str, dict[str, Any]] = {}
        self.resolved: dict[str, SegmentDef] = {}


class Definitions:
    """All directories under one folder; thread-safe, lazily loaded, cached."""

    def __init__(self, root: Path, *, missing_ok: bool = False) -> None:
        self.root = root
        self._lock = threading.RLock()
        self._dictionaries: dict[tuple[str, bool], _Dictionary] = {}
        self._messages: dict[tuple[str, str, bool], MessageDef | None] = {}
        self._by_files: dict[tuple[Path, ...], _Dictionary] = {}
        self._files: dict[Path, dict[str, Any]] = {}
        self._parsed: dict[Path, Any] = {}
        self.directories = {} if missing_ok and not root.is_dir() else self._index()

    # -- lookup ---------------------------------------------------------------

    def directory_for(self, version: str, release: str, agency: str) -> DirectoryInfo | None:
        want = (version.strip().upper(), release.strip().upper(), agency.strip().upper())
        for info in self.directories.values():
            if (info.version.upper(), info.release.upper(), info.agency.upper()) == want:
                return info
        return None

    def message(
        self, type_: str, version: str, release: str, agency: str, *, syntax: str = "3"
    ) -> MessageDef | None:
        """The definition UNH's S009 names, or None when the directory or type is unknown.

        ``syntax`` is the interchange's syntax version: version 4 reads the service
        segments with ``service.v4.yaml`` over ``service.yaml`` (0051 is an..3 there).
        """
        info = self.directory_for(version, release, agency)
        if info is None:
            return None
        return self.message_in(info.key, type_.strip().upper(), syntax=syntax)

    def message_in(self, directory: str, type_: str, *, syntax: str = "3") -> MessageDef | None:
        key = (directory, type_, syntax == "4")
        with self._lock:
            if key not in self._messages:
                self._messages[key] = self._load_message(directory, type_, v4=key[2])
            return self._messages[key]

    def message_types(self, directory: str) -> list[str]:
        """Every message type a directory offers, its own and its base's."""
        info = self.directories[directory]
        found: set[str] = set()
        chain = self._chain(info.key)
        for key in chain:
            folder = self.directories[key].path / "messages"
            if folder.is_dir():
                found.update(p.stem.upper() for p in folder.glob("*.yaml"))
        if info.only is not None:
            found &= info.only
        return sorted(found)

    def segment(self, directory: str, tag: str, *, syntax: str = "3") -> SegmentDef | None:
        with self._lock:
            return self._segment(self._dictionary(directory, syntax == "4"), tag, directory)

    # -- loading --------------------------------------------------------------

    def _index(self) -> dict[str, DirectoryInfo]:
        if not self.root.is_dir():
            raise ConfigError(
                f"EDIFACT definitions folder not found: {self.root}",
                hint="set the edifact option `definitions` to a folder like schemas/edifact",
            )
        found: dict[str, DirectoryInfo] = {}
        for path in sorted(self.root.glob("*/directory.yaml")):
            data = self._read(path)
            problems: list[str] = []
            if not isinstance(data, dict):
                raise ConfigError("a directory.yaml holds a mapping", where=str(path))
            for name in ("version", "release", "agency"):
                if not isinstance(data.get(name), str | int) or not str(data.get(name)).strip():
                    problems.append(f"`{name}` is missing")
            base = data.get("base")
            only = data.get("messages")
            if base is not None and not isinstance(base, str):
                problems.append("`base` names a directory folder")
            if only is not None and not (
                isinstance(only, list) and all(isinstance(t, str) for t in only)
            ):
                problems.append("`messages` is a list of message types")
            self._raise(path, problems)
            key = path.parent.name
            found[key] = DirectoryInfo(
                key=key,
                version=str(data["version"]),
                release=str(data["release"]),
                agency=str(data["agency"]),
                title=str(data.get("title") or key),
                base=base,
                only=frozenset(t.upper() for t in only) if only is not None else None,
                path=path.parent,
            )
        for info in found.values():
            if info.base is not None and info.base not in found:
                raise ConfigError(
                    f"base directory {info.base!r} not found",
                    where=str(info.path / "directory.yaml"),
                )
            self._chain_of(found, info.key)
        return found

    @staticmethod
    def _chain_of(found: dict[str, DirectoryInfo], key: str) -> list[str]:
        chain = [key]
        while (base := found[chain[-1]].base) is not None:
            if base in chain:
                raise ConfigError(
                    f"directories {' -> '.join([*chain, base])} form a loop",
                    where=str(found[key].path / "directory.yaml"),
                )
            chain.append(base)
        return chain

    def _chain(self, key: str) -> list[str]:
        return self._chain_of(self.directories, key)

    def _read(self, path: Path) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 (byte {exc.start})") from None
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(f"not valid YAML: {exc}", where=where) from None

    @staticmethod
    def _raise(path: Path, problems: list[str]) -> None:
        if problems:
            raise ConfigError(
                f"{path.name}: {len(problems)} problem(s) in the EDIFACT definitions: "
                f"{problems[0]}",
                where=str(path),
                problems=[Problem(p, where=str(path)) for p in problems[:100]],
            )

    def _dictionary(self, directory: str, v4: bool = False) -> _Dictionary:
        found = self._dictionaries.get((directory, v4))
        if found is not None:
            return found
        files = [self.root / "service.yaml"]
        if v4:
            files.append(self.root / "service.v4.yaml")
        files += [
            self.directories[key].path / "segments.yaml" for key in reversed(self._chain(directory))
        ]
        present = tuple(path for path in files if path.is_file())
        shared = self._by_files.get(present)  # an overlay without segments of its own (D3)
        if shared is not None:
            self._dictionaries[(directory, v4)] = shared
            return shared
        merged = _Dictionary()
        for path in present:
            data = self._dictionary_file(path)
            for section in ("segments", "composites", "elements"):
                getattr(merged, section).update(data.get(section) or {})
        problems = []
        for tag in merged.segments:
            try:
                self._segment(merged, tag, directory)
            except _Unresolved as exc:
                problems.append(str(exc))
        if problems:
            folder = self.directories[directory].path
            self._raise(folder / "segments.yaml", problems)
        self._dictionaries[(directory, v4)] = self._by_files[present] = merged
        return merged

    def _message_file(self, path: Path) -> Any:
        """A message file as read, once for both syntax versions."""
        if path not in self._parsed:
            self._parsed[path] = self._read(path)
        return self._parsed[path]

    def _dictionary_file(self, path: Path) -> dict[str, Any]:
        """A checked segments file, read once however many directories build on it."""
        found = self._files.get(path)
        if found is None:
            data = self._read(path) or {}
            self._raise(path, _check_dictionary(data))
            found = self._files[path] = data
        return found

    def _segment(self, merged: _Dictionary, tag: str, directory: str) -> SegmentDef | None:
        done = merged.resolved.get(tag)
        if done is not None:
            return done
        raw = merged.segments.get(tag)
        if raw is None:
            return None
        elements: list[ElementDef | CompositeDef] = []
        for entry in raw["elements"]:
            ident, status = str(entry["id"]), str(entry["status"])
            if ident in merged.composites:
                comp = merged.composites[ident]
                parts = tuple(
                    self._element(merged, str(c["id"]), str(c["status"]), f"{tag} {ident}")
                    for c in comp["components"]
                )
                elements.append(CompositeDef(ident, str(comp["name"]), status, parts))
            else:
                elements.append(self._element(merged, ident, status, tag))
        resolved = SegmentDef(tag, str(raw["name"]), tuple(elements))
        merged.resolved[tag] = resolved
        return resolved

    @staticmethod
    def _element(merged: _Dictionary, ident: str, status: str, where: str) -> ElementDef:
        raw = merged.elements.get(ident)
        if raw is None:
            kind = "composite or data element" if _COMPOSITE_ID.match(ident) else "data element"
            raise _Unresolved(f"{where}: unknown {kind} {ident}")
        return ElementDef(ident, str(raw["name"]), status, Format.parse(str(raw["format"])))

    def _load_message(self, directory: str, type_: str, v4: bool = False) -> MessageDef | None:
        info = self.directories[directory]
        if info.only is not None and type_ not in info.only:
            return None
        for key in self._chain(directory):
            path = self.directories[key].path / "messages" / f"{type_}.yaml"
            if path.is_file():
                break
        else:
            return None
        data = self._message_file(path)
        problems: list[str] = []
        if not isinstance(data, dict) or not isinstance(data.get("structure"), list):
            self._raise(path, ["a message file has `message`, `name` and a `structure` list"])
        if str(data.get("message", "")).upper() != type_:
            problems.append(f"`message` is {data.get('message')!r}, the file name says {type_}")
        dictionary = self._dictionary(directory, v4)
        groups: set[str] = set()
        children = _structure(data["structure"], "structure", problems, groups, top=True)
        known = dictionary.segments
        for tag in sorted(_tags(children)):
            if tag not in known:
                problems.append(f"segment {tag} is used but not defined for {directory}")
        self._raise(path, problems)
        segments = {tag: self._segment(dictionary, tag, directory) for tag in _tags(children)}
        return MessageDef(
            type=type_,
            name=str(data.get("name") or type_),
            directory=directory,
            children=children,
            segments={k: v for k, v in segments.items() if v is not None},
        )

    def warm(self, syntaxes: tuple[str, ...] = ("3", "4")) -> int:
        """Load every message of every directory now, for interchanges of ``syntaxes``, so
        that no message waits for its definition; the number of definitions loaded.
        A broken definition is skipped: the first message that needs it reports it."""
        count = 0
        for key in self.directories:
            for type_ in self.message_types(key):
                for syntax in syntaxes:
                    try:
                        found = self.message_in(key, type_, syntax=syntax)
                    except ConfigError:
                        continue
                    count += found is not None
        return count

    def check_all(self) -> list[str]:
        """Load every directory and message; the problems found (for tests and tools)."""
        problems: list[str] = []
        for key in self.directories:
            for type_ in self.message_types(key):
                try:
                    self.message_in(key, type_)
                    self.message_in(key, type_, syntax="4")
                except ConfigError as exc:
                    problems.extend(str(p) for p in exc.problems or [Problem(exc.message)])
        return problems


class _Unresolved(Exception):
    pass


def _check_dictionary(data: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["the file holds a mapping with `segments`, `composites` and `elements`"]
    unknown = set(data) - {"segments", "composites", "elements"}
    if unknown:
        problems.append(f"unknown sections: {', '.join(sorted(map(str, unknown)))}")
    for ident, raw in (data.get("elements") or {}).items():
        if not _ELEMENT_ID.match(str(ident)):
            problems.append(f'element id {ident!r} is not four digits (quote it: "1004")')
        if not isinstance(raw, dict) or not raw.get("name"):
            problems.append(f"element {ident}: needs `name` and `format`")
            continue
        try:
            Format.parse(str(raw.get("format")))
        except ValueError as exc:
            problems.append(f"element {ident}: {exc}")
    for ident, raw in (data.get("composites") or {}).items():
        if not _COMPOSITE_ID.match(str(ident)):
            problems.append(f"composite id {ident!r} is not like C002 or S009")
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("components"):
            problems.append(f"composite {ident}: needs `name` and `components`")
            continue
        problems += _entries(raw["components"], f"composite {ident}", _ELEMENT_ID)
    for tag, raw in (data.get("segments") or {}).items():
        if not _TAG.match(str(tag)):
            problems.append(f"segment tag {tag!r} is not three capitals/digits")
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("elements"):
            problems.append(f"segment {tag}: needs `name` and `elements`")
            continue
        problems += _entries(raw["elements"], f"segment {tag}", None)
    return problems


def _entries(entries: Any, where: str, pattern: re.Pattern[str] | None) -> list[str]:
    if not isinstance(entries, list):
        return [f"{where}: a list of {{id, status}}"]
    problems = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or "id" not in entry:
            problems.append(f"{where}, entry {n}: needs `id` and `status`")
            continue
        if entry.get("status") not in _STATUS:
            problems.append(f"{where}, entry {n} ({entry['id']}): status is M or C")
        if pattern is not None and not pattern.match(str(entry["id"])):
            problems.append(f"{where}, entry {n}: {entry['id']!r} is not a simple data element")
    return problems


def _structure(
    items: Any, where: str, problems: list[str], groups: set[str], *, top: bool = False
) -> tuple[SegmentRef | GroupDef, ...]:
    out: list[SegmentRef | GroupDef] = []
    if not isinstance(items, list) or not items:
        problems.append(f"{where}: an empty segment list")
        return ()
    last_pos = ""
    for n, item in enumerate(items, 1):
        at = f"{where}, entry {n}"
        if not isinstance(item, dict):
            problems.append(f"{at}: a segment {{tag, status, max}} or a group")
            continue
        status, maximum, pos = item.get("status"), item.get("max"), str(item.get("pos", ""))
        if status not in _STATUS:
            problems.append(f"{at}: status is M or C, not {status!r}")
        if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum < 1:
            problems.append(f"{at}: max is a whole number of at least 1, not {maximum!r}")
            maximum = 1
        if not re.fullmatch(r"[0-9]{4}", pos):
            problems.append(f'{at}: pos is four digits like "0030", not {pos!r}')
        elif pos <= last_pos:
            problems.append(f"{at}: pos {pos} does not follow {last_pos}")
        last_pos = pos or last_pos
        if "group" in item:
            name = str(item["group"])
            if not _GROUP.match(name):
                problems.append(f"{at}: group name {name!r} is not like SG1")
            if name in groups:
                problems.append(f"{at}: group name {name} is used twice")
            groups.add(name)
            children = _structure(item.get("segments"), f"{where} {name}", problems, groups)
            first = children[0] if children else None
            if not isinstance(first, SegmentRef) or first.status != "M" or first.max != 1:
                problems.append(f"{where} {name}: the first entry is its trigger segment, M 1")
            if children:
                out.append(GroupDef(name, str(status), int(maximum), pos, children))
        else:
            tag = str(item.get("tag", ""))
            if not _TAG.match(tag):
                problems.append(f"{at}: segment tag {tag!r} is not three capitals/digits")
            out.append(SegmentRef(tag, str(status), int(maximum), pos))
    if top:
        first, last = (out[0], out[-1]) if out else (None, None)
        if not (
            isinstance(first, SegmentRef)
            and first.tag == "UNH"
            and isinstance(last, SegmentRef)
            and last.tag == "UNT"
        ):
            problems.append(f"{where}: a message starts with UNH and ends with UNT")
    seen: set[str] = set()
    for child in out:
        if isinstance(child, SegmentRef):
            if child.tag in seen:
                problems.append(f"{where}: segment {child.tag} appears twice at one level")
            seen.add(child.tag)
    return tuple(out)


def _tags(children: tuple[SegmentRef | GroupDef, ...]) -> set[str]:
    found: set[str] = set()
    for child in children:
        if isinstance(child, GroupDef):
            found |= _tags(child.children)
        else:
            found.add(child.tag)
    return found


_CACHE: dict[Path, Definitions] = {}
_CACHE_LOCK = threading.Lock()


def load_definitions(root: Path | None = None) -> Definitions:
    """The definitions under ``root`` (default: the bundled ones), cached per folder."""
    path = (root or bundled_definitions()).resolve()
    with _CACHE_LOCK:
        found = _CACHE.get(path)
        if found is None:
            found = _CACHE[path] = Definitions(path)
        return found
