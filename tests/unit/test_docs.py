"""The reference docs list what the code has: every config key, every store table and column."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from hub.config.models import HubConfig
from hub.store.tables import Base

ROOT = Path(__file__).resolve().parents[2]
ROW_KEY = re.compile(r"^\| `([^`]+)` \|")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a whole line) up to the next heading of its level or above."""
    level = heading.split(" ", 1)[0]
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next(
        (
            n
            for n in range(start, len(lines))
            if lines[n].startswith("#") and lines[n].split(" ", 1)[0] <= level
        ),
        len(lines),
    )
    return "\n".join(lines[start:end])


def table_rows(text: str) -> dict[str, str]:
    """A markdown table's rows by the key in their first cell: ``| `key` | ... |``."""
    return {m.group(1): line for line in text.splitlines() if (m := ROW_KEY.match(line))}


def nested_model(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The config model inside a field's type (``X``, ``X | None``, ``list[X]``,
    ``dict[str, X]``), and whether it sits under a name of the user's choosing (a dict)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return nested_model(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if origin is dict:
        model, _ = nested_model(args[1])
        return model, model is not None
    if origin in (list, typing.Union, types.UnionType):
        for arg in args:
            model, keyed = nested_model(arg)
            if model is not None:
                return model, keyed
    return None, False


def undocumented(text: str, model: type[BaseModel], path: str, prefix: str = "") -> list[str]:
    """Every key of ``model`` (at config path ``path``) that the "Every key" section lacks.

    A model has its own table under ``### `path``` (the top level under ``### Top level``);
    a nested model without one is either spelled out in its parent's table as dotted rows
    (``retention.finished_days``) or named inline in its parent's row (`` `format` ``).
    """
    heading = f"### `{path}`" if path else "### Top level"
    if heading not in text.splitlines():
        return [f"{path}: no {heading!r} table"]
    rows = table_rows(section(text, heading))
    missing: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        dotted = f"{path}.{key}" if path else key
        child, keyed = nested_model(field.annotation)
        row = rows.get(prefix + key)
        if child is not None and f"### `{dotted}{'.<name>' if keyed else ''}`" in text:
            missing += [] if row else [f"{dotted}: no row in {heading!r}"]
            missing += undocumented(text, child, dotted + (".<name>" if keyed else ""))
        elif child is not None and any(r.startswith(f"{prefix}{key}.") for r in rows):
            missing += undocumented(text, child, path, prefix=f"{prefix}{key}.")
        elif row is None:
            missing.append(f"{path + '.' if path else ''}{prefix}{key}: no row in {heading!r}")
        elif child is not None:
            missing += [
                f"{dotted}.{sub.alias or sub_name}: not named in the {key!r} row of {heading!r}"
                for sub_name, sub in child.model_fields.items()
                if f"`{sub.alias or sub_name}`" not in row
            ]
    return missing


def test_every_config_key_is_in_the_configuration_reference() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert undocumented(section(text, "## Every key"), HubConfig, "") == []


def test_the_reference_check_notices_a_missing_key() -> None:
    text = "### Top level\n\n| Key | Meaning |\n| --- | --- |\n| `version` | x |\n"
    problems = undocumented(text, HubConfig, "")
    assert "server: no row in '### Top level'" in problems
    assert "mappings: no row in '### Top level'" in problems
    assert "version: no row in '### Top level'" not in problems


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_every_store_table_and_column_is_in_the_architecture(table: str) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    row = table_rows(section(text, "## The store")).get(table)
    assert row is not None, f"docs/architecture.md: the store table has no row for {table!r}"
    columns = [c.name for c in Base.metadata.tables[table].columns]
    assert [c for c in columns if f"`{c}`" not in row] == []
