"""Code lists: small tables that translate one party's codes into another's.

A code list lives in a code-list directory (``mappings/codelists/``) as

``NAME.yaml`` (or ``.yml``)
    either a mapping ``code: value`` ::

        kg: KGM
        pcs: PCE

    or, with a value for unknown codes, ``{codes: {...}, default: X}`` ::

        codes: {kg: KGM, pcs: PCE}
        default: PCE

    or, with several columns, an object per code (every value an object of single
    values), read as ``lookup('carriers', c).scac`` ::

        dhl: {scac: DHLC, name: DHL Paket}
        ups: {scac: UPSN, name: UPS Standard}

``NAME.json``
    the same shapes as a YAML code list, written as JSON (``{"kg": "KGM"}``,
    ``{"codes": {...}, "default": "PCE"}``, ``{"dhl": {"scac": "DHLC"}}``), as an export
    from another system gives them

``NAME.csv``
    two columns with a header row (the header's names are free) ::

        code,name
        DE,Germany

    or more: then each code's value is an object named by the header's other columns, read
    as ``lookup('carriers', c).scac`` ::

        code,scac,name
        dhl,DHLC,DHL Paket

Codes are text (a YAML ``1: x`` is the code '1'). Duplicate codes, blank codes and malformed
rows are :class:`~hub.errors.ConfigError` naming ``file:line`` (a JSON file's value problems
name the file and the code). Mapping functions reach code
lists through ``FunctionContext.codelist(name)``: ``lookup('units', unit)``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hub.errors import ConfigError, Problem
from hub.paths import FileRoots
from hub.yamlsource import load_yaml

__all__ = ["EXTENSIONS", "CodeList", "available", "clear_cache", "find", "load"]

#: File name endings of code lists, in the order they are looked for.
EXTENSIONS = (".yaml", ".yml", ".json", ".csv")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_STRUCTURED_KEYS = {"codes", "default", "description"}


class CodeList(Mapping[str, Any]):
    """Codes to values, read-only; ``default`` is the value for unknown codes (None: none)."""

    def __init__(
        self,
        name: str,
        codes: Mapping[str, Any],
        *,
        default: Any = None,
        source: str | None = None,
    ) -> None:
        self.name = name
        self.default = default
        self.source = source
        self._codes = dict(codes)

    def __getitem__(self, code: str) -> Any:
        return self._codes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"CodeList({self.name!r}, {len(self)} codes, default={self.default!r})"


_cache: dict[Path, tuple[int, CodeList]] = {}


def clear_cache() -> None:
    """Forget every loaded code list (tests; a reload picks up changes by mtime anyway)."""
    _cache.clear()


def available(dirs: Sequence[Path], *, roots: FileRoots | None = None) -> set[str]:
    """Names of the code lists in ``dirs`` (file names without extension)."""
    names: set[str] = set()
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if (
                path.suffix in EXTENSIONS
                and path.is_file()
                and _NAME.fullmatch(path.stem)
                and (roots is None or roots.contains(path))
            ):
                names.add(path.stem)
    return names


def find(dirs: Sequence[Path], name: str, *, roots: FileRoots | None = None) -> Path:
    """The file of code list ``name``: the first directory that has one wins.

    With ``roots``, a file (or a link) leading outside them counts as absent.
    """
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a code list name",
            hint="use letters, digits, '_', '-' and '.', without a path or extension",
        )
    for directory in dirs:
        found = [directory / f"{name}{ext}" for ext in EXTENSIONS]
        found = [p for p in found if (roots is None or roots.contains(p)) and p.is_file()]
        if len(found) > 1:
            raise ConfigError(
                f"code list {name!r} is defined twice: {', '.join(p.name for p in found)}",
                where=str(directory),
                hint="keep one file per code list",
            )
        if found:
            return found[0]
    known = sorted(available(dirs, roots=roots))
    raise ConfigError(
        f"unknown code list {name!r}",
        where=", ".join(str(d) for d in dirs) or None,
        hint=f"known: {', '.join(known)}" if known else "no code lists found there",
    )


def load(dirs: Sequence[Path], name: str, *, roots: FileRoots | None = None) -> CodeList:
    """Code list ``name`` from the first of ``dirs`` that has it; read again when it changes."""
    path = find(dirs, name, roots=roots)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read code list: {exc}", where=str(path)) from None
    cached = _cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    codelist = read(path, name)
    _cache[path] = (mtime, codelist)
    return codelist


def read(path: Path, name: str | None = None) -> CodeList:
    """Parse one code-list file (no cache)."""
    name = name or path.stem
    if path.suffix == ".csv":
        return _read_csv(path, name)
    if path.suffix == ".json":
        return _read_json(path, name)
    return _read_yaml(path, name)


_SHAPE_HINT = "write one 'code: value' per line, or 'codes: {...}' with 'default: X'"


def _read_yaml(path: Path, name: str) -> CodeList:
    doc = load_yaml(path, substitute_env=False)
    if doc.problems:
        raise ConfigError(
            f"code list {name!r} has {len(doc.problems)} problem(s)",
            where=str(path),
            problems=doc.problems,
        )
    if not isinstance(doc.data, dict) or not doc.data:
        raise ConfigError(
            "a code list must be a non-empty mapping of code: value",
            where=doc.where(()),
            hint=_SHAPE_HINT,
        )
    return _table(doc.data, name, path, doc.where)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names no key twice (``json`` would keep the last one silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _read_json(path: Path, name: str) -> CodeList:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read code list: {exc}", where=str(path)) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"code list {name!r} is not valid JSON: {exc.msg}",
            where=f"{path}:{exc.lineno}:{exc.colno}",
        ) from None
    except _DuplicateKey as exc:
        raise ConfigError(
            f"code list {name!r} names the key {exc.args[0]!r} twice", where=str(path)
        ) from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            'a JSON code list must be a non-empty object of "code": value',
            where=str(path),
            hint='{"kg": "KGM"}, or {"codes": {...}, "default": "PCE"}',
        )
    return _table(data, name, path, lambda loc: str(path))


def _table(
    data: dict[Any, Any], name: str, path: Path, where_of: Callable[[tuple[Any, ...]], str]
) -> CodeList:
    """The codes of a YAML or JSON code list: plain values, or an object per code."""
    default: Any = None
    loc: tuple[str, ...] = ()
    if isinstance(data.get("codes"), dict) and set(data) <= _STRUCTURED_KEYS:
        default, data, loc = data.get("default"), data["codes"], ("codes",)
    codes: dict[str, Any] = {}
    problems: list[Problem] = []
    columns = any(isinstance(value, dict) for value in data.values())  # an object per code
    for key, value in data.items():
        where = where_of((*loc, key))
        if isinstance(key, bool) or key is None:
            problems.append(
                Problem(
                    f"code {key!r} is read by YAML as {'null' if key is None else 'a boolean'}",
                    where=where,
                    hint="quote it: 'NO': Norway",
                )
            )
            continue
        code = str(key)
        if not code.strip():
            problems.append(Problem("blank code", where=where))
            continue
        if code in codes:  # 1 and '1' are both the code '1'
            problems.append(Problem(f"duplicate code {code!r}", where=where))
            continue
        problem = _row_problem(code, value) if columns else _value_problem(code, value)
        if problem is not None:
            hint = _COLUMNS_HINT if columns and not isinstance(value, dict) else None
            problems.append(Problem(problem, where=where, hint=hint))
            continue
        codes[code] = dict(value) if columns else value
    if problems:
        raise ConfigError(
            f"code list {name!r} has {len(problems)} problem(s)", where=str(path), problems=problems
        )
    return CodeList(name, codes, default=default, source=str(path))


def _value_problem(code: str, value: Any) -> str | None:
    if isinstance(value, dict | list):
        return f"the value of code {code!r} must be a single value"
    return None


_COLUMNS_HINT = "give every code an object of values ({scac: DHLC, name: DHL}), or none"


def _row_problem(code: str, row: Any) -> str | None:
    """What is wrong with the columns of one code (an object of single values), if anything."""
    if not isinstance(row, dict):
        return f"code {code!r} is not an object of columns, as other codes of the list are"
    if not row:
        return f"code {code!r} has no columns"
    for column, value in row.items():
        if not isinstance(column, str) or not column.strip():
            return f"code {code!r}: a column name must be a non-empty text, not {column!r}"
        if isinstance(value, dict | list):
            return f"code {code!r}: column {column!r} must be a single value"
    return None


def _read_csv(path: Path, name: str) -> CodeList:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte order mark
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read code list: {exc}", where=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    codes: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    header: list[str] | None = None
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            where = f"{path}:{line}"
            wanted = 2 if header is None else len(header)
            if len(row) < 2 or (header is not None and len(row) != wanted):
                shape = "code,value" if wanted == 2 else ",".join(header or [])
                problems.append(
                    Problem(
                        f"expected {wanted} columns ({shape}), found {len(row)}",
                        where=where,
                        hint='quote a value that contains a comma: DE,"Germany, Federal Republic"',
                    )
                )
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                names = header[1:]
                if len(header) > 2 and (len(set(names)) != len(names) or not all(names)):
                    problems.append(Problem("the header names each value column once", where=where))
                continue
            code = row[0].strip()
            if len(row) == 2:
                value: Any = row[1].strip()
            else:
                value = {name: cell.strip() for name, cell in zip(header[1:], row[1:], strict=True)}
            if not code:
                problems.append(Problem("blank code", where=where))
            elif code in codes:
                problems.append(
                    Problem(
                        f"duplicate code {code!r} (first at line {first_line[code]})", where=where
                    )
                )
            else:
                codes[code], first_line[code] = value, line
    except csv.Error as exc:
        problems.append(Problem(f"malformed CSV: {exc}", where=f"{path}:{reader.line_num}"))
    if problems:
        raise ConfigError(
            f"code list {name!r} has {len(problems)} problem(s)", where=str(path), problems=problems
        )
    if not codes:
        raise ConfigError(
            "a CSV code list needs a header row and at least one code,value row", where=str(path)
        )
    return CodeList(name, codes, source=str(path))
