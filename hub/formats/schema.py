"""JSON Schema (Draft 2020-12) validation: compiled once, every error with its JSON pointer.

Two validators compiled from the same schema: jsonschema-rs (compiled Rust) answers
whether a document is valid, in a fraction of a millisecond where jsonschema takes tens of
milliseconds on a large order; only a document it finds invalid goes to jsonschema, whose
report (every violation, with its JSON pointer) is what a user sees. jsonschema has the
last word, and the fast path is taken only for schemas on which the two agree
(hub/formats/schema_fast.py); tests/unit/formats/test_schema_fast.py checks that they do.
"""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from hub.errors import ConfigError, Problem, SchemaValidationError
from hub.formats.base import Tree
from hub.formats.schema_fast import compile_fast

__all__ = ["JsonSchema", "load_schema"]

_MAX_REPORTED = 50


def _pointer(parts: object) -> str:
    path = list(parts)  # type: ignore[call-overload]
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return "/" + "/".join(escaped) if path else ""


class JsonSchema:
    """A compiled schema from a file; ``check`` raises with all violations at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
        except FileNotFoundError:
            raise ConfigError(f"schema file not found: {path}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"schema {path} is not UTF-8 (byte {exc.start})", hint="save it as UTF-8"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot read schema {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"schema is not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}:{exc.colno}"
            ) from None
        except SchemaError as exc:
            raise ConfigError(
                f"not a valid JSON Schema: {exc.message}",
                where=f"{path}#{_pointer(exc.absolute_path)}",
            ) from None
        #: The schema document itself, for static checks of what a mapping reads and writes.
        self.document: object = schema
        self._validator = Draft202012Validator(schema)
        self._fast = compile_fast(schema)

    def is_valid_fast(self, tree: Tree) -> bool | None:
        """The compiled validator's verdict, or None when it has none for this schema or
        tree (a reference it may not fetch, a value JSON has no word for)."""
        if self._fast is None:
            return None
        try:
            return self._fast.is_valid(tree)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None

    def check(self, tree: Tree) -> None:
        if self.is_valid_fast(tree):
            return
        errors = sorted(self._validator.iter_errors(tree), key=lambda e: list(map(str, e.path)))
        if not errors:
            return
        problems = [
            Problem(error.message, where=f"#{_pointer(error.absolute_path)}")
            for error in errors[:_MAX_REPORTED]
        ]
        more = f" (showing the first {_MAX_REPORTED})" if len(errors) > _MAX_REPORTED else ""
        raise SchemaValidationError(
            f"the document breaks {self.path.name}: {len(errors)} error(s){more}",
            where=problems[0].where,
            problems=problems,
        )


_CACHE: dict[tuple[Path, int, int], JsonSchema] = {}


def load_schema(path: Path) -> JsonSchema:
    """A compiled schema, shared by every route that names the same unchanged file."""
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except OSError:
        return JsonSchema(path)  # raises the located ConfigError
    key = (resolved, stat.st_mtime_ns, stat.st_size)
    schema = _CACHE.get(key)
    if schema is None:
        schema = _CACHE[key] = JsonSchema(path)
    return schema
