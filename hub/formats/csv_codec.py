"""CSV: delimited text <-> ``{"rows": [{column: value, ...}, ...]}``, typed by a row schema.

The tree is an object so that metadata can join ``rows`` later without breaking anyone.
Each row is a dict in column order; encoding writes the columns in that order. Without a
schema every value is a string, exactly as in the file. With ``schema`` (a JSON Schema for
ONE row), the ``type`` of each property types its column: ``"12,5"`` becomes ``12.5`` under
``decimal: ","``, an empty cell becomes ``None`` where the type allows ``"null"``.

Decode errors name the physical line (counting every line break of the data, also those
inside quoted fields and in skipped lines) and the column; all problems of a document, up
to fifty, come in one :class:`~hub.errors.DecodeError`.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from io import StringIO
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field, field_validator

from hub.errors import ConfigError, DecodeError, EncodeError, LimitExceeded, Problem
from hub.formats.base import CodecOptions, Tree
from hub.formats.limits import DecodeLimits
from hub.formats.schema import JsonSchema

if TYPE_CHECKING:
    from _csv import Reader

__all__ = ["CsvCodec", "CsvOptions"]

#: Problems reported at most; reading stops at the next one.
MAX_PROBLEMS = 50

_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # exactly how the reader splits lines
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_SCALAR_TYPES = ("integer", "number", "boolean", "string", "null")
_DELIMITER_ALIASES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}


class CsvOptions(CodecOptions):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    delimiter: Literal[",", ";", "\t", "|"] = Field(
        ",", description="field separator; a tab may be written as \\t or tab"
    )
    quotechar: Literal['"', "'"] = Field('"', description="quotes fields; doubled inside one")
    header: bool = Field(True, description="the first line (after skip_rows) names the columns")
    columns: list[str] | None = Field(
        None,
        min_length=1,
        description="column names: for files without a header, or replacing the header's "
        "names by position (the header must then have exactly as many fields)",
    )
    encoding: str = Field(
        "utf-8", description="text encoding; a UTF-8 byte order mark always means UTF-8"
    )
    skip_rows: int = Field(0, ge=0, description="leading lines to skip on decode (a title)")
    skip_blank_lines: bool = Field(True, description="ignore empty lines on decode")
    decimal: Literal[".", ","] = Field(".", description="decimal mark of typed numbers")
    schema_: Path | None = Field(
        None,
        alias="schema",
        description="JSON Schema of one row: property types type the columns",
    )
    line_terminator: Literal["\r\n", "\n"] = Field("\r\n", description="ends lines on encode")
    quoting: Literal["minimal", "all"] = Field(
        "minimal", description="on encode: quote only fields that need it, or every field"
    )

    @field_validator("delimiter", mode="before")
    @classmethod
    def _tab_alias(cls, value: Any) -> Any:
        return _DELIMITER_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, value: str) -> str:
        try:
            b"".decode(value)
            "".encode(value)
        except LookupError:
            raise ValueError(
                f"unknown text encoding {value!r} (try utf-8, utf-8-sig, cp1252, latin-1)"
            ) from None
        return value

    @field_validator("columns")
    @classmethod
    def _distinct_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        seen: set[str] = set()
        for name in value:
            if not name.strip():
                raise ValueError("column names cannot be empty")
            if name in seen:
                raise ValueError(f"column {name!r} is named twice")
            seen.add(name)
        return value


class _CellError(Exception):
    """One cell cannot be read or written; the caller adds where."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _TooMany(Exception):
    def __init__(self, line: int | None) -> None:
        super().__init__(line)
        self.line = line


class _Problems:
    """Collects problems; the one past :data:`MAX_PROBLEMS` stops the work."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, problem: Problem, line: int | None = None) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            raise _TooMany(line)
        self.items.append(problem)

    def __bool__(self) -> bool:
        return bool(self.items)


# --- the row schema ---------------------------------------------------------------------


def _pointer_escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _follow_ref(node: Any, root: Any) -> Any:
    """A property's own schema, through local ``$ref``s ("#/$defs/qty")."""
    for _ in range(32):  # a cycle of references gives up
        if not isinstance(node, dict) or "type" in node:
            return node
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return node
        target = root
        for part in ref[1:].split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                return node
        node = target
    return node


class _RowSchema:
    """What the codec takes from a row schema: column types, required and closed columns."""

    def __init__(self, path: Path) -> None:
        JsonSchema(path)  # a missing, unreadable or invalid schema is a ConfigError here
        self.path = path
        self.types: dict[str, tuple[str, ...]] = {}
        self.required: list[str] = []
        self.properties: set[str] = set()
        self.closed = False
        root: Any = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(root, dict):
            return
        root_type = root.get("type")
        if root_type is not None and "object" not in _as_tuple(root_type):
            raise ConfigError(
                f"the row schema has type {root_type!r}; it must describe one row (an object)",
                where=f"{path}#/type",
                hint='a row schema looks like {"type": "object", "properties": {...}}',
            )
        properties = root.get("properties")
        if isinstance(properties, dict):
            self.properties = set(properties)
            for name, node in properties.items():
                target = _follow_ref(node, root)
                types = _as_tuple(target.get("type")) if isinstance(target, dict) else ()
                wrong = [t for t in types if t not in _SCALAR_TYPES]
                if wrong:
                    raise ConfigError(
                        f"column {name!r} has type {wrong[0]!r}, which a CSV cell cannot hold",
                        where=f"{path}#/properties/{_pointer_escape(name)}",
                        hint="CSV columns are integer, number, boolean, string or null",
                    )
                if types:
                    self.types[name] = types
        required = root.get("required")
        if isinstance(required, list):
            self.required = [name for name in required if isinstance(name, str)]
        self.closed = root.get("additionalProperties") is False and not root.get(
            "patternProperties"
        )

    def column_problems(self, names: list[str]) -> list[str]:
        """Why these columns cannot carry rows of this schema."""
        present = set(names)
        found = [
            f"there is no column {name!r}, which the schema {self.path.name} requires"
            for name in self.required
            if name not in present
        ]
        if self.closed:
            found.extend(
                f"the schema {self.path.name} has no column {name!r} "
                "(its additionalProperties is false)"
                for name in names
                if name not in self.properties
            )
        return found


def _as_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "string": "a string",
    "null": "null",
}


def _wanted(types: tuple[str, ...], *, only: tuple[str, ...] = _SCALAR_TYPES) -> str:
    """``("number", "null")`` -> "a number or null"; an integer is a number too."""
    shown = [t for t in types if t in only and not (t == "integer" and "number" in types)]
    return " or ".join(_TYPE_NAMES[t] for t in shown)


# --- reading cells ---------------------------------------------------------------------

_NOT = object()  # a parser's "does not fit"


def _number_pattern(decimal: str) -> re.Pattern[str]:
    mark = re.escape(decimal)
    return re.compile(rf"[+-]?(?:[0-9]+(?:{mark}[0-9]*)?|{mark}[0-9]+)(?:[eE][+-]?[0-9]+)?")


_DIGITS = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 4300  # Python's limit for int <-> str


def _cell_decoder(name: str, types: tuple[str, ...], decimal: str) -> Callable[[str], Any]:
    """One column's converter from cell text to a typed value, raising :class:`_CellError`."""
    pattern = _number_pattern(decimal)
    other = _number_pattern("," if decimal == "." else ".")

    def number(text: str) -> Any:
        if _DIGITS.fullmatch(text):
            try:
                return int(text)
            except ValueError:  # more digits than Python converts
                return _NOT
        if not pattern.fullmatch(text):
            return _NOT
        value = float(text.replace(decimal, ".") if decimal != "." else text)
        return value if math.isfinite(value) else _NOT

    def integer(text: str) -> Any:
        if _DIGITS.fullmatch(text):
            return number(text)
        if not pattern.fullmatch(text):
            return _NOT
        try:
            exact = Decimal(text.replace(decimal, "."))  # "12,00" is 12, "1e20" is 10**20
            if exact.adjusted() >= _MAX_DIGITS or exact != exact.to_integral_value():
                return _NOT
        except ArithmeticError:  # an exponent beyond what Decimal holds
            return _NOT
        return int(exact)

    def boolean(text: str) -> Any:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return _NOT

    parsers: list[Callable[[str], Any]] = []
    if "number" in types:
        parsers.append(number)
    elif "integer" in types:
        parsers.append(integer)
    if "boolean" in types:
        parsers.append(boolean)
    nullable = "null" in types
    stringy = "string" in types
    expected = _wanted(types, only=("integer", "number", "boolean"))
    numeric = "number" in types
    hint_empty = (
        f'to allow empty cells, add "null" to its type: ["{types[0]}", "null"]' if types else None
    )

    def decode(text: str) -> Any:
        if stringy:
            if nullable and not text:
                return None
            for parse in parsers:
                value = parse(text.strip())
                if value is not _NOT:
                    return value
            return text
        stripped = text.strip()
        if not stripped:
            if nullable:
                return None
            raise _CellError(
                f"column {name!r} is empty, but the schema wants {expected or 'null'}",
                hint=hint_empty,
            )
        for parse in parsers:
            value = parse(stripped)
            if value is not _NOT:
                return value
        if not expected:  # only "null" allowed
            raise _CellError(f"{text!r} in column {name!r} is not empty, as the schema wants")
        hint = None
        mark = f" (decimal mark {decimal!r})" if numeric else ""
        if numeric and other.fullmatch(stripped) and not _DIGITS.fullmatch(stripped):
            hint = f"the value has the other decimal mark; the `decimal` option is {decimal!r}"
        elif "boolean" in types:
            hint = "booleans are written true, false, 1 or 0"
        raise _CellError(f"{text!r} in column {name!r} is not {expected}{mark}", hint=hint)

    return decode


# --- writing cells ---------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _plain_encoder(decimal: str) -> Callable[[Any], str]:
    def encode(value: Any) -> str:
        if isinstance(value, str):
            return value
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            try:
                return str(value)
            except ValueError:  # more digits than Python writes
                raise _CellError("the integer has too many digits to write") from None
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _CellError(f"{value!r} cannot be written: CSV numbers must be finite")
            text = repr(value)
            return text.replace(".", decimal) if decimal != "." else text
        raise _CellError(f"a CSV cell cannot hold {_kind(value)}")

    return encode


def _cell_encoder(name: str, types: tuple[str, ...], decimal: str) -> Callable[[Any], str]:
    """One column's writer: checks the value against the schema type, then writes it."""
    plain = _plain_encoder(decimal)
    takes_int = "integer" in types or "number" in types
    takes_float = "number" in types
    takes_whole_float = "integer" in types
    wanted = _wanted(types)

    def encode(value: Any) -> str:
        if value is None:
            ok = "null" in types
        elif isinstance(value, bool):
            ok = "boolean" in types
        elif isinstance(value, int):
            ok = takes_int
        elif isinstance(value, float):
            ok = takes_float or (takes_whole_float and math.isfinite(value) and value.is_integer())
        elif isinstance(value, str):
            ok = "string" in types
        else:
            ok = False
        if ok:
            return plain(value)
        if value is None:
            raise _CellError(
                f"the value is null, but column {name!r} holds {wanted}",
                hint=f'allow empty cells with "type": ["{types[0]}", "null"] in the schema',
            )
        raise _CellError(f"{value!r} is {_kind(value)}, but column {name!r} holds {wanted}")

    return encode


class _Lines:
    """A file for csv.writer: ``writerow`` writes each record with one ``write`` call."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def _line_of(start: int, fields: list[str], index: int) -> int:
    """The line of field ``index`` of a record that starts on line ``start``."""
    return start + sum(len(_LINE_BREAK.findall(field)) for field in fields[:index])


_E = TypeVar("_E", DecodeError, EncodeError)


def _error(kind: type[_E], problems: list[Problem], stopped: str | None = None) -> _E:
    """One error for all problems; a single problem is the error itself."""
    if len(problems) == 1 and stopped is None:
        only = problems[0]
        return kind(only.message, where=only.where, hint=only.hint)
    if stopped is not None:
        message = f"the CSV has more than {MAX_PROBLEMS} errors; {stopped}"
    else:
        message = f"the CSV has {len(problems)} errors"
    return kind(message, problems=list(problems))


# --- the codec ---------------------------------------------------------------------------


class CsvCodec:
    name: ClassVar[str] = "csv"
    content_type: ClassVar[str] = "text/csv"
    extension: ClassVar[str] = "csv"
    options_model: ClassVar[type[CodecOptions]] = CsvOptions

    def __init__(
        self, options: CsvOptions | None = None, *, limits: DecodeLimits | None = None
    ) -> None:
        self.options = opts = options or CsvOptions()
        self.limits = limits = limits or DecodeLimits()
        if limits.max_string_length > csv.field_size_limit():
            # The csv module's own limit (128 KiB by default) is process-wide; it is only
            # ever raised, to the largest max_string_length of any CSV codec.
            csv.field_size_limit(limits.max_string_length)
        self._schema = _RowSchema(opts.schema_) if opts.schema_ is not None else None
        types = self._schema.types if self._schema else {}
        self._decoders = {  # a plain string column needs no converter
            n: _cell_decoder(n, t, opts.decimal) for n, t in types.items() if t != ("string",)
        }
        self._encoders = {n: _cell_encoder(n, t, opts.decimal) for n, t in types.items()}
        self._plain = _plain_encoder(opts.decimal)
        self._wide = codecs.lookup(opts.encoding).name.startswith(("utf-16", "utf-32"))
        self._dialect: dict[str, Any] = {
            "delimiter": opts.delimiter,
            "quotechar": opts.quotechar,
            "doublequote": True,
            "skipinitialspace": False,
        }
        if self._schema is not None and opts.columns is not None:
            found = self._schema.column_problems(opts.columns)
            if found:
                raise ConfigError(
                    f"the columns option does not fit the schema: {found[0]}",
                    hint="name every required column; leave out columns the schema forbids",
                )

    # --- decode -------------------------------------------------------------------------

    def decode(self, data: bytes) -> Tree:
        stream = StringIO(self._text(data), newline="")
        skipped = 0
        for _ in range(self.options.skip_rows):
            if not stream.readline():
                break
            skipped += 1
        reader = csv.reader(stream, strict=True, **self._dialect)
        problems = _Problems()
        records = self._limited(self._records(reader, skipped, problems), len(data))
        try:
            rows = self._rows(records, problems, skipped)
        except _TooMany as stop:
            raise _error(
                DecodeError, problems.items, f"reading stopped at line {stop.line}"
            ) from None
        if problems:
            raise _error(DecodeError, problems.items)
        return {"rows": rows}

    def _text(self, data: bytes) -> str:
        encoding, start = self.options.encoding, 0
        if data.startswith(_BOM) and not self._wide:
            encoding, start = "utf-8", len(_BOM)
        try:
            return data[start:].decode(encoding)
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            before = data[start:offset].decode(encoding, errors="replace")
            line = len(_LINE_BREAK.findall(before)) + 1
            utf8 = codecs.lookup(encoding).name.startswith("utf-8")
            hint = "set the `encoding` option to the file's encoding; " + (
                "files from Windows programs are often cp1252" if utf8 else "perhaps utf-8"
            )
            bom = " (the data starts with a UTF-8 byte order mark)" if start else ""
            raise DecodeError(
                f"byte 0x{data[offset]:02x} is not valid {encoding}{bom}",
                where=f"line {line}, byte {offset}",
                hint=hint,
            ) from None

    def _records(
        self, reader: Reader, offset: int, problems: _Problems
    ) -> Iterator[tuple[int, list[str]]]:
        """(first line, fields) of each record; syntax errors go to ``problems``."""
        done = 0  # lines the reader has consumed
        skip_blank = self.options.skip_blank_lines
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                start, now = offset + done + 1, offset + reader.line_num
                done = reader.line_num
                problems.add(self._syntax_problem(str(exc), start, now), now)
                continue
            start = offset + done + 1
            done = reader.line_num
            if not fields:
                if skip_blank:
                    continue
                fields = [""]
            yield start, fields

    def _limited(
        self, records: Iterator[tuple[int, list[str]]], size: int
    ) -> Iterator[tuple[int, list[str]]]:
        """The records, refused at the first beyond ``max_rows``, ``max_columns`` or
        ``max_string_length`` (the csv module checks the last when its own limit is ours)."""
        limits = self.limits
        max_rows, max_columns, max_string = (
            limits.max_rows,
            limits.max_columns,
            limits.max_string_length,
        )
        check_fields = max_string < csv.field_size_limit() and size > max_string
        header = 1 if self.options.header else 0
        for count, (start, fields) in enumerate(records, 1 - header):
            if count > max_rows:
                raise LimitExceeded(
                    "max_rows",
                    found=count,
                    maximum=max_rows,
                    what=f"the CSV goes on past row {max_rows}",
                    where=f"line {start}",
                )
            if len(fields) > max_columns:
                raise LimitExceeded(
                    "max_columns",
                    found=len(fields),
                    maximum=max_columns,
                    what=f"line {start} has {len(fields)} fields",
                    where=f"line {start}",
                )
            if check_fields and max(map(len, fields)) > max_string:
                index = next(i for i, field in enumerate(fields) if len(field) > max_string)
                raise self._too_long(len(fields[index]), _line_of(start, fields, index), index)
            yield start, fields

    def _too_long(self, length: int, line: int, index: int | None) -> LimitExceeded:
        """``index`` None: the csv module stopped reading the field (it is even longer)."""
        column = f", column {index + 1}" if index is not None else ""
        amount = f"{length}" if index is not None else f"over {length - 1}"
        return LimitExceeded(
            "max_string_length",
            found=length,
            maximum=self.limits.max_string_length,
            what=f"a field has {amount} characters",
            where=f"line {line}{column}",
        )

    def _syntax_problem(self, error: str, start: int, now: int) -> Problem:
        quote = repr(self.options.quotechar)
        doubled = repr(self.options.quotechar * 2)
        if "unexpected end of data" in error:
            return Problem(
                f"a quoted field in the record starting on line {start} is never closed",
                where=f"line {start}",
                hint=f"end the field with {quote}; a {quote} inside a quoted field is written "
                f"twice ({doubled})",
            )
        if "expected after" in error:
            return Problem(
                f"a closing {quote} must be followed by {self.options.delimiter!r} "
                "or the end of the line",
                where=f"line {now}",
                hint=f"a {quote} inside a quoted field is written twice ({doubled}), "
                "and a field with a quote in it must be quoted as a whole",
            )
        if "field larger than field limit" in error:
            if csv.field_size_limit() == self.limits.max_string_length:
                raise self._too_long(self.limits.max_string_length + 1, now, None)
            return Problem(
                f"a field is longer than {csv.field_size_limit()} characters",
                where=f"line {now}",
                hint=f"often a {quote} that opens a field and is never closed",
            )
        return Problem(f"unreadable CSV: {error}", where=f"line {now}")

    def _rows(
        self, records: Iterator[tuple[int, list[str]]], problems: _Problems, skipped: int
    ) -> list[dict[str, Any]]:
        opts = self.options
        if not opts.header and opts.columns is not None:
            names = opts.columns  # checked against the schema when the codec was made
        else:
            first = next(records, None)
            if problems:  # a broken record before or in the first one: no column names
                return []
            if first is None:
                if not opts.header:
                    return []
                after = f" after the {skipped} skipped line(s)" if skipped else ""
                raise DecodeError(
                    f"the data has no header line{after}",
                    hint="the first line names the columns (or set `header: false` and `columns`)",
                )
            line, fields = first
            if opts.header:
                names = self._header(line, fields, problems)
            else:
                names = [f"column_{i}" for i in range(1, len(fields) + 1)]
                records = chain([first], records)
            if self._schema is not None:
                for message in self._schema.column_problems(names):
                    problems.add(Problem(message, where=f"line {line}"), line)
            if problems:
                return []

        width = len(names)
        if opts.header and opts.columns is None:
            against = "the header has"
        elif opts.columns is not None:
            against = "the columns option names"
        else:
            against = "the first line has"
        typed = [
            (index, name, convert)
            for index, name in enumerate(names)
            if (convert := self._decoders.get(name)) is not None
        ]
        long_hint = f"a value that contains {opts.delimiter!r} must be quoted"
        short_hint = (
            "empty values still need their delimiters; a line break inside a value must be quoted"
        )
        lone_header_hint = (
            "the header is a single column: if the first line is a title, set `skip_rows`; "
            f"if not, is the delimiter {opts.delimiter!r}?"
        )
        rows: list[dict[str, Any]] = []
        for start, fields in records:
            if len(fields) != width:
                if len(fields) < width:
                    hint = short_hint
                elif width == 1 and against == "the header has":
                    hint = lone_header_hint
                else:
                    hint = long_hint
                count = f"{len(fields)} field{'s' if len(fields) != 1 else ''}"
                problems.add(
                    Problem(
                        f"line {start} has {count}, {against} {width}",
                        where=f"line {start}",
                        hint=hint,
                    ),
                    start,
                )
                continue
            row = dict(zip(names, fields, strict=True))
            for index, name, convert in typed:
                try:
                    row[name] = convert(fields[index])
                except _CellError as exc:
                    at = _line_of(start, fields, index)
                    problems.add(
                        Problem(exc.message, where=f"line {at}, column {name!r}", hint=exc.hint),
                        at,
                    )
            rows.append(row)
        return rows

    def _header(self, line: int, fields: list[str], problems: _Problems) -> list[str]:
        columns = self.options.columns
        if columns is not None:
            if len(fields) != len(columns):
                problems.add(
                    Problem(
                        f"the header has {len(fields)} fields, the columns option names "
                        f"{len(columns)}",
                        where=f"line {line}",
                        hint="`columns` renames the header's columns by position",
                    ),
                    line,
                )
            return columns
        seen: dict[str, int] = {}
        for number, name in enumerate(fields, start=1):
            if not name.strip():
                trailing = number == len(fields) and number > 1
                problems.add(
                    Problem(
                        f"column {number} of the header has no name",
                        where=f"line {line}, column {number}",
                        hint=f"a {self.options.delimiter!r} at the end of the line makes an "
                        "empty last column"
                        if trailing
                        else "every column needs a name",
                    ),
                    line,
                )
            elif name in seen:
                problems.add(
                    Problem(
                        f"the header names {name!r} twice (columns {seen[name]} and {number})",
                        where=f"line {line}, column {number}",
                        hint="column names must be unique; rename one, or set `columns`",
                    ),
                    line,
                )
            else:
                seen[name] = number
        return fields

    # --- encode -------------------------------------------------------------------------

    def encode(self, tree: Tree) -> bytes:
        opts = self.options
        rows = tree.get("rows") if isinstance(tree, dict) else None
        if not isinstance(rows, list):
            raise EncodeError(
                'a CSV tree is an object with its rows in a list under "rows"',
                hint='e.g. {"rows": [{"sku": "A-1", "quantity": 2}]}',
            )
        names = self._columns(rows)
        index = dict.fromkeys(names)
        pairs = [(name, self._encoders.get(name, self._plain)) for name in names]
        problems = _Problems()
        out: list[list[str]] = []
        try:
            for number, row in enumerate(rows):
                if not isinstance(row, dict):
                    problems.add(
                        Problem(
                            f"a row must be an object, not {_kind(row)}", where=f"rows[{number}]"
                        )
                    )
                    continue
                if not row.keys() <= index.keys():
                    for key in row:
                        if key not in index:
                            problems.add(
                                Problem(
                                    f"the key {key!r} is not one of the columns "
                                    f"({', '.join(map(repr, names))})",
                                    where=f"rows[{number}], key {key!r}",
                                    hint="the columns come from the `columns` option"
                                    if opts.columns
                                    else "the columns are the keys of the first row",
                                )
                            )
                try:
                    out.append([encode(row.get(name)) for name, encode in pairs])
                except _CellError:
                    for name, encode in pairs:  # again, one by one, to find every bad cell
                        try:
                            encode(row.get(name))
                        except _CellError as exc:
                            where = f"rows[{number}], key {name!r}"
                            problems.add(Problem(exc.message, where=where, hint=exc.hint))
        except _TooMany:
            raise _error(EncodeError, problems.items, "writing stopped") from None
        if problems:
            raise _error(EncodeError, problems.items)

        lines = _Lines()
        writer = csv.writer(
            lines,
            lineterminator="\r\n",
            quoting=csv.QUOTE_ALL if opts.quoting == "all" else csv.QUOTE_MINIMAL,
            **self._dialect,
        )
        if opts.header:
            writer.writerow(names)
        writer.writerows(out)
        # "\r\n" above makes the writer quote any field holding "\r" or "\n"; each record is
        # one write, so its terminator is the last two characters.
        if opts.line_terminator == "\r\n":
            text = "".join(lines.parts)
        else:
            text = "".join([part[:-2] + opts.line_terminator for part in lines.parts])
        try:
            return text.encode(opts.encoding)
        except UnicodeEncodeError:
            raise self._unencodable(names, out) from None

    def _columns(self, rows: list[Any]) -> list[str]:
        opts = self.options
        if opts.columns is not None:
            names = list(opts.columns)
            source = "the columns option"
        elif rows and isinstance(rows[0], dict):
            names = list(rows[0])
            source = "rows[0]"
        elif rows:
            raise EncodeError(f"a row must be an object, not {_kind(rows[0])}", where="rows[0]")
        else:
            raise EncodeError(
                "there are no rows to take the column names from",
                hint="set the `columns` option to write a file with only the header",
            )
        if not names:
            raise EncodeError("the first row has no keys: a CSV line needs a column", where=source)
        for name in names:
            if not isinstance(name, str):
                raise EncodeError(f"column names are strings, not {_kind(name)}", where=source)
            if opts.header and not name.strip():
                raise EncodeError(
                    "a column without a name cannot be written in the header",
                    where=f"{source}, key {name!r}",
                )
        if self._schema is not None:
            found = self._schema.column_problems(names)
            if found:
                raise EncodeError(
                    found[0], where=source, hint="the columns are the keys of the first row"
                )
        return names

    def _unencodable(self, names: list[str], rows: list[list[str]]) -> EncodeError:
        encoding = self.options.encoding
        problems: list[Problem] = []
        cells: Iterator[tuple[str, str]] = (
            (f"rows[{number}], key {name!r}", cell)
            for number, row in enumerate(rows)
            for name, cell in zip(names, row, strict=True)
        )
        if self.options.header:
            cells = chain(((f"the header, column {name!r}", name) for name in names), cells)
        for where, cell in cells:
            try:
                cell.encode(encoding)
            except UnicodeEncodeError as exc:
                bad = cell[exc.start : exc.end]
                problems.append(
                    Problem(
                        f"{bad!r} cannot be written in {encoding}",
                        where=where,
                        hint="choose an `encoding` that has the character, such as utf-8",
                    )
                )
                if len(problems) > MAX_PROBLEMS:
                    return _error(EncodeError, problems[:MAX_PROBLEMS], "writing stopped")
        if not problems:  # no single cell fails: the text as a whole cannot be written
            return EncodeError(f"the CSV text cannot be written in {encoding}")
        return _error(EncodeError, problems)
