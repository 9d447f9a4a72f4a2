"""Load ``config.yaml`` into :class:`HubConfig`, reporting every problem with ``file:line``."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.config.models import HubConfig
from hub.errors import ConfigError, Problem
from hub.paths import FileRoots, confine, project_schemas
from hub.redact import redact
from hub.yamlsource import Loc, YamlDocument, load_yaml

__all__ = ["LoadedConfig", "load_config", "validation_problems"]


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config, the file it came from, and the positions of its keys."""

    config: HubConfig
    path: Path
    document: YamlDocument

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @cached_property
    def roots(self) -> FileRoots:
        """The folders files may be read from: the config's, the project's ``schemas/`` and
        ``files.allowed_roots``."""
        extra = [self.base_dir / root for root in self.config.files.allowed_roots]
        return FileRoots([self.base_dir, project_schemas(), *extra])

    def resolve(self, path: Path, what: str = "file", kind: str = "file") -> Path:
        """A file the config names: relative to the config file, inside :attr:`roots`.

        A path outside them, or missing, is the same :class:`ConfigError` (see
        :func:`hub.paths.confine`).
        """
        return confine(path, self.roots, base=self.base_dir, what=what, kind=kind)


def load_config(path: Path, *, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Parse and validate; raise one :class:`ConfigError` listing all problems."""
    document = load_yaml(path, environ=environ)
    problems = list(document.problems)
    data = document.data if document.data is not None else {}
    config: HubConfig | None = None
    if not isinstance(data, dict):
        problems.append(Problem("the config must be a mapping of keys", where=document.where(())))
    else:
        try:
            config = HubConfig.model_validate(data)
        except ValidationError as exc:
            problems.extend(validation_problems(exc, document, HubConfig))
    if problems or config is None:
        raise config_error(path, problems, document)
    return LoadedConfig(config=config, path=path, document=document)


def config_error(
    path: Path, problems: list[Problem], document: YamlDocument | None = None
) -> ConfigError:
    """One error listing every problem; no text in it shows a password or an environment
    variable's value (a connector's own message might quote one)."""
    count = len(problems)
    return ConfigError(
        f"{path} has {count} problem{'s' if count != 1 else ''}",
        problems=sorted((_hidden(p, document) for p in problems), key=_line_order),
    )


def _hidden(problem: Problem, document: YamlDocument | None) -> Problem:
    def hide(text: str | None) -> str | None:
        if text is None:
            return None
        return redact(document.hide_env(text) if document is not None else text)

    return replace(problem, message=hide(problem.message) or "", hint=hide(problem.hint))


def _line_order(problem: Problem) -> tuple[str, int]:
    where = problem.where or ""
    file, _, rest = where.partition(":")
    line = rest.split(":", 1)[0]
    return (file, int(line) if line.isdigit() else 0)


def validation_problems(
    exc: ValidationError,
    document: YamlDocument,
    model: type[BaseModel] | None = None,
    prefix: Loc = (),
) -> list[Problem]:
    """Turn pydantic's errors into located problems with a hint for each."""
    problems: list[Problem] = []
    for error in exc.errors():
        loc: Loc = (*prefix, *error["loc"])
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        kind = error["type"]
        where = document.where(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, tuple(error["loc"][:-1])) if model else []
            close = difflib.get_close_matches(key, allowed, n=1)
            if close:
                hint = f"did you mean {close[0]!r}?"
            elif allowed:
                hint = "allowed here: " + ", ".join(allowed)
            else:
                hint = "remove it"
            problems.append(Problem(f"unknown key {dotted!r}", where=where, hint=hint))
        elif kind == "missing":
            problems.append(Problem(f"missing required key {dotted!r}", where=where, hint="add it"))
        else:
            value = error.get("input")
            shown = ""
            if isinstance(value, str):  # as written: ${VAR}, never the variable's value
                shown = f" (got {redact(document.shown(loc, value))!r})"
            elif isinstance(value, int | float | bool):
                shown = f" (got {value!r})"
            problems.append(Problem(f"{dotted}: {error['msg']}{shown}", where=where))
    return problems


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a pydantic model accepts at ``loc`` (walking dicts, lists and sub-models)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = _field_by_key(annotation, str(part))
            if field is None:
                return []
            annotation = field
        else:
            args = typing.get_args(annotation)
            if not args:
                return []
            annotation = args[-1]  # dict values or list items
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(f.alias or name for name, f in annotation.model_fields.items())
    return []


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(options) == 1:
            return _unwrap(options[0])
    return annotation
