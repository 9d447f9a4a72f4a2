"""Files a config, a mapping or a preview names stay inside the allowed folders (issue 9).

``target.schema``, the XSD option and the CSV ``schema`` option took absolute paths:
``/etc/shadow`` was opened, and a JSON file's property names were echoed in a hint.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.formats import make_codec
from hub.mapping import codelists, load_mapping, parse_mapping
from hub.paths import FileRoots, confine, project_schemas
from hub.pipeline.build import compile_routes
from tests.configs import ROOT

SCHEMA = {"type": "object", "properties": {"secret_a": {}, "secret_b": {}}}


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """An allowed folder ``inside`` with a schema, and a folder ``outside`` with another."""
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (inside / "ok.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (outside / "secret.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (inside / "link.json").symlink_to(outside / "secret.json")
    (inside / "linked-dir").symlink_to(outside)
    return {"inside": inside, "outside": outside}


def _refusal(path: str | Path, layout: dict[str, Path], kind: str = "file") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        confine(path, [layout["inside"]], base=layout["inside"], what="schema file", kind=kind)
    return caught.value


def test_a_file_inside_is_returned_as_written(layout: dict[str, Path]) -> None:
    inside = layout["inside"]
    assert confine("ok.json", [inside], base=inside) == inside / "ok.json"
    assert confine(inside / "ok.json", [inside], base=inside) == inside / "ok.json"
    (inside / "sub").mkdir()
    assert confine("sub/../ok.json", [inside], base=inside) == inside / "sub/../ok.json"


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside/secret.json",
        "link.json",  # a link inside that leads outside
        "linked-dir/secret.json",
        "/etc/no-such-file",
        "../outside/no-such-file.json",
        "no-such-file.json",  # missing inside: the same answer as outside
    ],
)
def test_outside_and_missing_get_the_same_answer(path: str, layout: dict[str, Path]) -> None:
    error = _refusal(path, layout)
    assert error.message == f"schema file not found: {path}"
    assert error.hint is not None
    assert str(layout["inside"]) in error.hint
    assert "files.allowed_roots" in error.hint
    assert str(layout["outside"]) not in error.hint


def test_the_answer_never_shows_what_a_link_leads_to(layout: dict[str, Path]) -> None:
    error = _refusal("link.json", layout)
    assert "secret" not in str(error)


def test_kinds_of_path(layout: dict[str, Path]) -> None:
    inside = layout["inside"]
    assert confine(".", [inside], base=inside, kind="dir") == inside / "."
    assert confine("ok.json", [inside], base=inside, kind="exists") == inside / "ok.json"
    assert confine("new.json", [inside], base=inside, kind="any") == inside / "new.json"
    assert _refusal(".", layout).message == "schema file not found: ."  # a folder, not a file
    assert _refusal("../outside/x", layout, kind="any").message.endswith("not found: ../outside/x")


def test_roots_are_resolved_once(layout: dict[str, Path], tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(layout["inside"])  # the config folder may itself be reached by a link
    roots = FileRoots([alias, alias, layout["inside"]])
    assert roots.roots == (layout["inside"].resolve(),)
    assert roots.contains(alias / "ok.json")
    assert not roots.contains(alias / "link.json")


def test_the_project_schemas_folder_is_beside_the_package() -> None:
    assert project_schemas() == ROOT / "schemas"
    assert (project_schemas() / "json").is_dir()


# --- every place that opens a named file ----------------------------------------------


def _mapping(target: str) -> str:
    return f"name: m\ntarget: {{format: json, schema: {json.dumps(target)}}}\nfields:\n  x: a\n"


@pytest.mark.parametrize(
    "target", ["/etc/shadow", "../outside/secret.json", "link.json", "missing.json"]
)
def test_a_mapping_target_schema_outside_is_not_read(layout: dict[str, Path], target: str) -> None:
    roots = FileRoots([layout["inside"]])
    mapping_file = layout["inside"] / "m.yaml"
    mapping_file.write_text(_mapping(target), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(mapping_file, roots=roots)
    problem = caught.value.problems[0]
    assert problem.message == f"target schema not found: {target}"
    assert problem.where == f"{mapping_file}:2:24"
    assert "secret_a" not in str(problem)  # the property names were echoed in a hint


def test_a_mapping_target_schema_inside_is_checked(layout: dict[str, Path]) -> None:
    roots = FileRoots([layout["inside"]])
    with pytest.raises(ConfigError) as caught:
        parse_mapping(_mapping("ok.json"), "m.yaml", roots=roots, base_dir=layout["inside"])
    message = "target field 'x' is not in the target schema ok.json"
    assert caught.value.problems[0].message == message


def test_a_code_list_reached_through_a_link_outside_is_unknown(layout: dict[str, Path]) -> None:
    lists = layout["inside"] / "codelists"
    lists.mkdir()
    (lists / "units.yaml").write_text("kg: KGM\n", encoding="utf-8")
    (layout["outside"] / "secrets.yaml").write_text("a: b\n", encoding="utf-8")
    (lists / "secrets.yaml").symlink_to(layout["outside"] / "secrets.yaml")
    roots = FileRoots([layout["inside"]])
    assert codelists.available([lists], roots=roots) == {"units"}
    assert codelists.available([lists]) == {"units", "secrets"}
    with pytest.raises(ConfigError, match="unknown code list 'secrets'"):
        codelists.find([lists], "secrets", roots=roots)
    text = "name: m\nfields:\n  x: lookup('secrets', a)\n"
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "m.yaml", roots=roots, base_dir=layout["inside"])
    assert caught.value.problems[0].message == "unknown code list 'secrets'"


@pytest.mark.parametrize(
    ("codec", "options"),
    [
        ("csv", {"schema": "/etc/passwd"}),
        ("csv", {"schema": "../outside/secret.json"}),
        ("xml", {"xsd": "/etc/shadow"}),
        ("xml", {"xsd": "link.json"}),
        ("edifact", {"definitions": "linked-dir"}),
        ("xml", {"xsd": "missing.xsd"}),
    ],
)
def test_codec_file_options_outside_are_refused_before_they_are_read(
    layout: dict[str, Path], codec: str, options: dict[str, str]
) -> None:
    roots = FileRoots([layout["inside"]])
    (value,) = options.values()
    (key,) = options
    with pytest.raises(ConfigError) as caught:
        make_codec(codec, options, base_dir=layout["inside"], roots=roots)
    assert caught.value.message == f"{key} not found: {value}"


def test_codec_file_options_inside_and_defaults_are_fine(layout: dict[str, Path]) -> None:
    roots = FileRoots([layout["inside"], project_schemas()])
    make_codec("csv", {"schema": "ok.json"}, base_dir=layout["inside"], roots=roots)
    make_codec("edifact", {}, base_dir=layout["inside"], roots=roots)  # the bundled definitions
    explicit_default = {"definitions": "schemas/edifact"}  # absent here: the bundled ones too
    make_codec("edifact", explicit_default, base_dir=layout["inside"], roots=roots)


CONFIG = """\
files:
  allowed_roots: {roots}
routes:
  orders:
    input: {{format: json, schema: {schema}}}
    sinks:
      - {{name: out, type: file, options: {{directory: out}}}}
"""


def test_a_config_names_files_only_inside_its_roots(layout: dict[str, Path]) -> None:
    config = layout["inside"] / "hub.yaml"
    secret = layout["outside"] / "secret.json"
    config.write_text(CONFIG.format(roots="[]", schema=secret), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        compile_routes(load_config(config, environ={}))
    assert [p.message for p in caught.value.problems] == [f"schema file not found: {secret}"]
    assert caught.value.problems[0].where == f"{config}:5"

    config.write_text(CONFIG.format(roots="[../outside]", schema=secret), encoding="utf-8")
    built = compile_routes(load_config(config, environ={}))  # listed: allowed
    assert list(built.routes) == ["orders"]
    for route in built.routes.values():
        route.close()


def test_the_roots_of_a_config(layout: dict[str, Path]) -> None:
    config = layout["inside"] / "hub.yaml"
    config.write_text("files: {allowed_roots: [../outside, /srv/x]}\n", encoding="utf-8")
    loaded = load_config(config, environ={})
    assert loaded.roots.roots == (
        layout["inside"].resolve(),
        project_schemas(),
        layout["outside"].resolve(),
        Path("/srv/x"),
    )
