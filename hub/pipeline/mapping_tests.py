"""Test cases kept next to mappings: ``mappings/tests/NAME/CASE.input.* -> CASE.expected.*``.

For ``mappings/NAME.yaml`` the folder ``mappings/tests/NAME/`` holds cases::

    CASE.input.<ext>                the input document, in the mapping's ``source.format``
    CASE.expected.<ext>             the whole expected output, in ``target.format``
    CASE.expected.fragment.json     or: {"path.in[0].output": expected value, ...}

Formats default to json. ``case.yaml`` in the folder, or ``CASE.case.yaml`` for one case,
may set ``input: {format, options}`` and ``output: {format, options}`` for the codecs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hub.errors import ConfigError, HubError, Problem
from hub.formats import Codec, Tree, make_codec
from hub.mapping import Mapping, load_mapping
from hub.mapping.paths import MISSING, PathSyntaxError, compile_path

__all__ = ["CaseResult", "MappingCase", "discover", "run_all", "run_case"]

_FRAGMENT = ".expected.fragment.json"


@dataclass(frozen=True)
class MappingCase:
    """One case: the mapping file it tests, its input, and what it expects."""

    mapping_path: Path
    name: str
    input_path: Path
    expected_path: Path | None
    settings: tuple[Path, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.mapping_path.stem}/{self.name}"

    @property
    def fragment(self) -> bool:
        return self.expected_path is not None and self.expected_path.name.endswith(_FRAGMENT)


@dataclass
class CaseResult:
    case: MappingCase
    passed: bool
    message: str = ""
    diff: str = ""
    problems: list[Problem] = field(default_factory=list)


def discover(directory: Path) -> list[MappingCase]:
    """Every case under ``directory/tests``; a folder without a mapping file is an error."""
    tests_dir = directory / "tests"
    if not tests_dir.is_dir():
        return []
    cases: list[MappingCase] = []
    for folder in sorted(p for p in tests_dir.iterdir() if p.is_dir()):
        mapping_path = _mapping_file(directory, folder.name)
        if mapping_path is None:
            raise ConfigError(
                f"test folder {folder} has no mapping {folder.name}.yaml in {directory}",
                hint="name each folder under tests/ after a mapping file",
            )
        shared = folder / "case.yaml"
        for input_path in sorted(folder.glob("*.input.*")):
            name = input_path.name.split(".input.", 1)[0]
            own = folder / f"{name}.case.yaml"
            settings = tuple(p for p in (shared, own) if p.is_file())
            cases.append(
                MappingCase(mapping_path, name, input_path, _expected(folder, name), settings)
            )
    return cases


def _mapping_file(directory: Path, name: str) -> Path | None:
    for suffix in (".yaml", ".yml"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _expected(folder: Path, name: str) -> Path | None:
    fragment = folder / f"{name}{_FRAGMENT}"
    if fragment.is_file():
        return fragment
    full = [p for p in sorted(folder.glob(f"{name}.expected.*")) if p.name != fragment.name]
    return full[0] if full else None


def run_all(directory: Path) -> Iterator[CaseResult]:
    """Run every case, loading each mapping once."""
    loaded: dict[Path, Mapping | ConfigError] = {}
    for case in discover(directory):
        if case.mapping_path not in loaded:
            try:
                loaded[case.mapping_path] = load_mapping(case.mapping_path)
            except ConfigError as exc:
                loaded[case.mapping_path] = exc
        yield run_case(case, loaded[case.mapping_path])


def run_case(case: MappingCase, mapping: Mapping | ConfigError | None = None) -> CaseResult:
    if mapping is None:
        try:
            mapping = load_mapping(case.mapping_path)
        except ConfigError as exc:
            mapping = exc
    if isinstance(mapping, ConfigError):
        problems = mapping.problems or [Problem(mapping.message, mapping.where, mapping.hint)]
        return CaseResult(case, False, f"mapping does not load: {mapping.message}", "", problems)
    if case.expected_path is None:
        return CaseResult(
            case,
            False,
            f"no {case.name}.expected.<ext> or {case.name}{_FRAGMENT} beside the input",
        )
    try:
        in_codec, out_codec = _codecs(case)
        tree = in_codec.decode(case.input_path.read_bytes())
        actual = mapping.apply(tree)
        if case.fragment:
            return _check_fragment(case, actual)
        expected = out_codec.decode(case.expected_path.read_bytes())
        actual = out_codec.decode(out_codec.encode(actual))  # compare as the output reads back
    except HubError as exc:
        problems = exc.problems or ([Problem(exc.message, exc.where, exc.hint)])
        return CaseResult(case, False, f"{exc.code}: {exc.message}", "", problems)
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError) as exc:
        return CaseResult(case, False, f"mapping_error: {exc}")
    if expected == actual:
        return CaseResult(case, True)
    return CaseResult(
        case,
        False,
        "output differs from the expected output",
        json_diff(expected, actual, str(case.expected_path), "actual output"),
    )


def _check_fragment(case: MappingCase, actual: Tree) -> CaseResult:
    assert case.expected_path is not None
    try:
        fragment = json.loads(case.expected_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {case.expected_path}: {exc}") from None
    if not isinstance(fragment, dict):
        raise ConfigError(
            f"{case.expected_path} must be a JSON object of output path -> expected value"
        )
    found: dict[str, Any] = {}
    for path in fragment:
        try:
            read: Callable[[Any], Any] = compile_path(path)
        except PathSyntaxError as exc:
            raise ConfigError(f"{case.expected_path}: bad path {path!r}: {exc}") from None
        value = read(actual)
        found[path] = "<missing>" if value is MISSING else value
    if found == fragment:
        return CaseResult(case, True)
    wrong = ", ".join(p for p in fragment if found[p] != fragment[p])
    return CaseResult(
        case,
        False,
        f"fragment differs at {wrong}",
        json_diff(fragment, found, str(case.expected_path), "actual output"),
    )


def json_diff(expected: Any, actual: Any, expected_name: str, actual_name: str) -> str:
    """A unified diff of two trees as pretty-printed JSON."""

    def lines(tree: Any) -> list[str]:
        text = json.dumps(tree, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        return text.splitlines(keepends=True)

    diff = difflib.unified_diff(lines(expected), lines(actual), expected_name, actual_name, n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


def _codecs(case: MappingCase) -> tuple[Codec, Codec]:
    mapping_doc = _yaml(case.mapping_path)
    settings: dict[str, Any] = {"input": {}, "output": {}}
    for side, key in (("input", "source"), ("output", "target")):
        spec = mapping_doc.get(key)
        if isinstance(spec, dict) and isinstance(spec.get("format"), str):
            settings[side]["format"] = spec["format"]
    for path in case.settings:
        data = _yaml(path)
        for side in ("input", "output"):
            spec = data.get(side)
            if spec is not None and not isinstance(spec, dict):
                raise ConfigError(f"{path}: `{side}` must be a mapping with format and options")
            settings[side].update(spec or {})
    codecs = []
    for side in ("input", "output"):
        spec = settings[side]
        name = str(spec.get("format", "json"))
        try:
            codecs.append(
                make_codec(name, spec.get("options") or {}, base_dir=case.input_path.parent)
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"bad {side} {name} options for {case.label}: {problems}") from None
    return codecs[0], codecs[1]


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return data if isinstance(data, dict) else {}
