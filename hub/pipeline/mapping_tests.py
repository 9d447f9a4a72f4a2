"""Test cases kept next to mappings: ``mappings/tests/NAME/CASE.input.* -> CASE.expected.*``.

For ``mappings/NAME.yaml`` the folder ``mappings/tests/NAME/`` holds cases::

    CASE.input.<ext>                the input document, in the mapping's ``source.format``
    CASE.expected.<ext>             the whole expected output, in ``target.format``
    CASE.expected.fragment.json     or: {"path.in[0].output": expected value, ...}
    CASE.expected.error.txt         or: the mapping must fail; every line of the file must
                                    occur in the error (message, where it happened, hint)

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

from pydantic import ValidationError

from hub.errors import ConfigError, HubError, Problem
from hub.formats import Codec, Tree, make_codec
from hub.mapping import Mapping, MappingLimits, load_mapping
from hub.mapping.paths import MISSING, PathSyntaxError, compile_path
from hub.paths import FileRoots
from hub.yamlsource import parse_yaml

__all__ = [
    "CaseResult",
    "MappingCase",
    "cases_for",
    "discover",
    "run_all",
    "run_case",
    "update_expected",
]

_FRAGMENT = ".expected.fragment.json"
_ERROR = ".expected.error.txt"


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

    @property
    def error(self) -> bool:
        """The case expects the mapping to fail (``CASE.expected.error.txt``)."""
        return self.expected_path is not None and self.expected_path.name.endswith(_ERROR)


@dataclass
class CaseResult:
    case: MappingCase
    passed: bool
    message: str = ""
    diff: str = ""
    problems: list[Problem] = field(default_factory=list)
    #: The mapping's output (MISSING when it made none), for ``--update``.
    actual: Any = MISSING


def discover(directory: Path) -> list[MappingCase]:
    """Every case under ``directory/tests``; a folder without a mapping file is an error."""
    tests_dir = directory / "tests"
    if not tests_dir.is_dir():
        return []
    cases: list[MappingCase] = []
    for folder in sorted(p for p in tests_dir.iterdir() if p.is_dir()):
        mapping_path = _mapping_file(directory, folder.name)
        if mapping_path is None:
            names = sorted(p.stem for p in directory.glob("*.y*ml"))
            close = difflib.get_close_matches(folder.name, names, n=3)
            raise ConfigError(
                f"test folder {folder} has no mapping {folder.name}.yaml in {directory}",
                hint=("did you mean " + ", ".join(close) + "?")
                if close
                else "name each folder under tests/ after a mapping file",
            )
        cases.extend(_folder_cases(folder, mapping_path))
    return cases


def cases_for(mapping_path: Path) -> list[MappingCase]:
    """The cases of one mapping file: ``tests/NAME/`` beside it (none if there is no folder)."""
    folder = mapping_path.parent / "tests" / mapping_path.stem
    return _folder_cases(folder, mapping_path) if folder.is_dir() else []


def _folder_cases(folder: Path, mapping_path: Path) -> list[MappingCase]:
    shared = folder / "case.yaml"
    cases = []
    for input_path in sorted(folder.glob("*.input.*")):
        name = input_path.name.split(".input.", 1)[0]
        own = folder / f"{name}.case.yaml"
        settings = tuple(p for p in (shared, own) if p.is_file())
        cases.append(MappingCase(mapping_path, name, input_path, _expected(folder, name), settings))
    return cases


def _mapping_file(directory: Path, name: str) -> Path | None:
    for suffix in (".yaml", ".yml"):
        path = directory / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _expected(folder: Path, name: str) -> Path | None:
    for special in (_FRAGMENT, _ERROR):
        path = folder / f"{name}{special}"
        if path.is_file():
            return path
    full = sorted(folder.glob(f"{name}.expected.*"))
    return full[0] if full else None


def run_all(
    directory: Path, *, limits: MappingLimits | None = None, roots: FileRoots | None = None
) -> Iterator[CaseResult]:
    """Run every case, loading each mapping once; each run within ``limits``."""
    loaded: dict[Path, Mapping | ConfigError] = {}
    for case in discover(directory):
        if case.mapping_path not in loaded:
            try:
                loaded[case.mapping_path] = load_mapping(
                    case.mapping_path, limits=limits, roots=roots
                )
            except ConfigError as exc:
                loaded[case.mapping_path] = exc
        yield run_case(case, loaded[case.mapping_path], roots=roots)


def run_case(
    case: MappingCase,
    mapping: Mapping | ConfigError | None = None,
    *,
    limits: MappingLimits | None = None,
    roots: FileRoots | None = None,
) -> CaseResult:
    """Run one case. A mapping not given is loaded with ``limits``; with ``roots``, the
    files the mapping and the case's codec options name must lie inside them."""
    if mapping is None:
        try:
            mapping = load_mapping(case.mapping_path, limits=limits, roots=roots)
        except ConfigError as exc:
            mapping = exc
    if isinstance(mapping, ConfigError):
        problems = mapping.problems or [Problem(mapping.message, mapping.where, mapping.hint)]
        return CaseResult(case, False, f"mapping does not load: {mapping.message}", "", problems)
    actual: Any = MISSING
    if case.error:
        return _check_error(case, mapping, roots)
    try:
        in_codec, out_codec = _codecs(case, roots)
        tree = in_codec.decode(case.input_path.read_bytes())
        actual = mapping.apply(tree)
        if case.expected_path is None:
            return CaseResult(
                case,
                False,
                f"no {case.name}.expected.<ext> or {case.name}{_FRAGMENT} beside the input",
                actual=actual,
            )
        if case.fragment:
            return _check_fragment(case, actual)
        expected = out_codec.decode(case.expected_path.read_bytes())
        read_back = out_codec.decode(out_codec.encode(actual))  # compare as the output reads
    except HubError as exc:
        problems = exc.problems or ([Problem(exc.message, exc.where, exc.hint)])
        return CaseResult(case, False, f"{exc.code}: {exc.message}", "", problems, actual)
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError) as exc:
        return CaseResult(case, False, f"mapping_error: {exc}")
    if expected == read_back:
        return CaseResult(case, True, actual=actual)
    return CaseResult(
        case,
        False,
        "output differs from the expected output",
        json_diff(expected, read_back, str(case.expected_path), "actual output"),
        actual=actual,
    )


def _check_error(case: MappingCase, mapping: Mapping, roots: FileRoots | None) -> CaseResult:
    """A case that must fail: every line of its error file occurs in the error reported."""
    assert case.expected_path is not None
    try:
        wanted = [
            line.strip()
            for line in case.expected_path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return CaseResult(case, False, f"cannot read {case.expected_path}: {exc}")
    if not wanted:
        return CaseResult(case, False, f"{case.expected_path} is empty: write the error expected")
    try:
        in_codec = _codecs(case, roots)[0]
        tree = in_codec.decode(case.input_path.read_bytes())
        actual = mapping.apply(tree)
    except HubError as exc:
        said = "\n".join(
            part for part in (f"{exc.code}: {exc.message}", exc.where or "", exc.hint or "") if part
        )
        missing = [line for line in wanted if line not in said]
        if not missing:
            return CaseResult(case, True)
        return CaseResult(
            case,
            False,
            "the mapping failed with another error",
            "".join(
                difflib.unified_diff(
                    [line + "\n" for line in wanted],
                    [line + "\n" for line in said.splitlines()],
                    str(case.expected_path),
                    "actual error",
                )
            ),
        )
    return CaseResult(
        case,
        False,
        f"expected the mapping to fail with: {wanted[0]}, but it made an output",
        actual=actual,
    )


def _read_fragment(path: Path) -> dict[str, Any]:
    try:
        fragment = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(fragment, dict):
        raise ConfigError(f"{path} must be a JSON object of output path -> expected value")
    return fragment


def _fragment_values(path: Path, paths: list[str], actual: Tree) -> dict[str, Any]:
    """The value at each output path of a fragment file (``"<missing>"`` for none)."""
    found: dict[str, Any] = {}
    for text in paths:
        try:
            read: Callable[[Any], Any] = compile_path(text)
        except PathSyntaxError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        value = read(actual)
        found[text] = "<missing>" if value is MISSING else value
    return found


def _check_fragment(case: MappingCase, actual: Tree) -> CaseResult:
    assert case.expected_path is not None
    fragment = _read_fragment(case.expected_path)
    found = _fragment_values(case.expected_path, list(fragment), actual)
    if found == fragment:
        return CaseResult(case, True, actual=actual)
    wrong = ", ".join(p for p in fragment if found[p] != fragment[p])
    return CaseResult(
        case,
        False,
        f"fragment differs at {wrong}",
        json_diff(fragment, found, str(case.expected_path), "actual output"),
        actual=actual,
    )


def update_expected(result: CaseResult) -> Path | None:
    """Write a failing case's actual output as its expected file; None if it made none.

    A full expected file gets the whole output (JSON pretty-printed, other formats as the
    case's output codec writes them; a case without one gets ``CASE.expected.<ext>``); a
    fragment file keeps its paths and gets the value now found at each.
    """
    case = result.case
    if result.passed or result.actual is MISSING or case.error:
        return None
    actual = result.actual
    target = case.expected_path
    if target is not None and case.fragment:
        fragment = _read_fragment(target)
        found = _fragment_values(target, list(fragment), actual)
        target.write_text(_pretty(found), encoding="utf-8")
        return target
    out_codec = _codecs(case)[1]
    if target is None:
        target = case.input_path.parent / f"{case.name}.expected.{out_codec.extension}"
    if out_codec.name == "json":
        target.write_text(_pretty(actual), encoding="utf-8")
    else:
        target.write_bytes(out_codec.encode(actual))
    return target


def _pretty(tree: Any) -> str:
    return json.dumps(tree, indent=2, ensure_ascii=False) + "\n"


def json_diff(expected: Any, actual: Any, expected_name: str, actual_name: str) -> str:
    """A unified diff of two trees as pretty-printed JSON."""

    def lines(tree: Any) -> list[str]:
        text = json.dumps(tree, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        return text.splitlines(keepends=True)

    diff = difflib.unified_diff(lines(expected), lines(actual), expected_name, actual_name, n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in diff)


def _codecs(case: MappingCase, roots: FileRoots | None = None) -> tuple[Codec, Codec]:
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
            options = spec.get("options") or {}
            codecs.append(make_codec(name, options, base_dir=case.input_path.parent, roots=roots))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"bad {side} {name} options for {case.label}: {problems}") from None
    return codecs[0], codecs[1]


def _yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    data = parse_yaml(text, str(path), substitute_env=False).data  # located syntax errors
    return data if isinstance(data, dict) else {}
