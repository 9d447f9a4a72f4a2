"""hub.yamlsource: positions, duplicate keys, ${ENV} substitution and syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.yamlsource import MAX_YAML_DEPTH, load_yaml, parse_yaml

NESTED = """\
server:
  host: example
  port: 8080
routes:
  - name: a
    items:
      - x
      - y
"""


def test_data_is_plain_python() -> None:
    doc = parse_yaml(NESTED, "f.yaml")
    assert doc.data == {
        "server": {"host": "example", "port": 8080},
        "routes": [{"name": "a", "items": ["x", "y"]}],
    }
    assert doc.problems == []


@pytest.mark.parametrize(
    ("loc", "position"),
    [
        ((), (1, 1)),
        (("server",), (1, 1)),
        (("server", "host"), (2, 3)),
        (("server", "port"), (3, 3)),
        (("routes",), (4, 1)),
        (("routes", 0), (5, 5)),
        (("routes", 0, "name"), (5, 5)),
        (("routes", 0, "items"), (6, 5)),
        (("routes", 0, "items", 0), (7, 9)),
        (("routes", 0, "items", 1), (8, 9)),
    ],
)
def test_positions_of_keys_and_list_items_are_one_based(
    loc: tuple[str | int, ...], position: tuple[int, int]
) -> None:
    doc = parse_yaml(NESTED, "f.yaml")
    assert doc.position(loc) == position


def test_where_formats_file_line_and_optionally_column() -> None:
    doc = parse_yaml(NESTED, "f.yaml")
    assert doc.where(("server", "port")) == "f.yaml:3"
    assert doc.where(("server", "port"), column=True) == "f.yaml:3:3"
    assert doc.where(("routes", 0, "items", 1), column=True) == "f.yaml:8:9"


def test_position_falls_back_to_the_deepest_existing_parent() -> None:
    doc = parse_yaml(NESTED, "f.yaml")
    assert doc.position(("server", "missing", "deeper")) == (1, 1)
    assert doc.where(("routes", 0, "nope")) == "f.yaml:5"


def test_where_of_an_empty_document_is_just_the_file() -> None:
    doc = parse_yaml("", "empty.yaml")
    assert doc.data is None
    assert doc.where(("anything",)) == "empty.yaml"


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    doc = parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    assert len(doc.problems) == 1
    problem = doc.problems[0]
    assert problem.where == "dup.yaml:3"
    assert "duplicate key 'a'" in problem.message
    assert "line 1" in problem.message
    assert problem.hint


def test_duplicate_keys_in_a_nested_mapping() -> None:
    doc = parse_yaml("outer:\n  k: 1\n  other: 2\n  k: 3\n", "dup.yaml")
    assert [(p.where, "first at line 2" in p.message) for p in doc.problems] == [
        ("dup.yaml:4", True)
    ]


def test_a_key_that_is_not_a_plain_value_is_a_problem() -> None:
    doc = parse_yaml("? [a, b]\n: 1\nc: 2\n", "k.yaml")
    assert doc.data == {"c": 2}
    assert [p.where for p in doc.problems] == ["k.yaml:1"]


# --- ${ENV} substitution -----------------------------------------------------


def test_env_var_is_substituted() -> None:
    doc = parse_yaml("host: ${HUB_T_HOST}\n", "f.yaml", environ={"HUB_T_HOST": "db.local"})
    assert doc.data == {"host": "db.local"}
    assert doc.problems == []


def test_env_var_inside_a_longer_string_and_several_per_value() -> None:
    doc = parse_yaml(
        "url: postgresql://${U}@${H}:5432/db\n", "f.yaml", environ={"U": "hub", "H": "pg"}
    )
    assert doc.data == {"url": "postgresql://hub@pg:5432/db"}


def test_default_is_used_when_the_var_is_unset() -> None:
    doc = parse_yaml("port: ${HUB_T_PORT:-8080}\nempty: ${HUB_T_E:-}\n", "f.yaml", environ={})
    assert doc.data == {"port": "8080", "empty": ""}
    assert doc.problems == []


def test_set_var_wins_over_default() -> None:
    doc = parse_yaml("port: ${HUB_T_PORT:-8080}\n", "f.yaml", environ={"HUB_T_PORT": "9000"})
    assert doc.data == {"port": "9000"}


def test_default_may_contain_colons() -> None:
    doc = parse_yaml("url: ${HUB_T_URL:-sqlite:///var/hub.db}\n", "f.yaml", environ={})
    assert doc.data == {"url": "sqlite:///var/hub.db"}


def test_double_dollar_escapes_substitution() -> None:
    doc = parse_yaml("literal: $${NOT_A_VAR}\n", "f.yaml", environ={})
    assert doc.data == {"literal": "${NOT_A_VAR}"}
    assert doc.problems == []


def test_missing_var_is_reported_with_file_line_and_a_hint() -> None:
    text = "a: 1\nnested:\n  secret: ${HUB_T_MISSING}\n"
    doc = parse_yaml(text, "conf.yaml", environ={})
    assert len(doc.problems) == 1
    problem = doc.problems[0]
    assert problem.where == "conf.yaml:3"
    assert "HUB_T_MISSING" in problem.message
    assert problem.hint is not None
    assert "export HUB_T_MISSING=" in problem.hint
    assert "${HUB_T_MISSING:-default}" in problem.hint
    assert doc.data["nested"]["secret"] == ""


def test_each_missing_var_is_its_own_problem() -> None:
    doc = parse_yaml("a: ${HUB_T_X}\nb:\n  - ${HUB_T_Y}\n", "f.yaml", environ={})
    assert sorted((p.where, p.message.split()[2]) for p in doc.problems) == [
        ("f.yaml:1", "HUB_T_X"),
        ("f.yaml:3", "HUB_T_Y"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "pa:ss # not a comment",
        "key: value",
        "#hash-first",
        "[not, a, list]",
        "{not: a mapping}",
        "'quotes\" and \\backslashes",
        "${LOOKS_LIKE_A_VAR}",
        "multi\nline",
    ],
)
def test_substituted_values_are_never_parsed_as_yaml(value: str) -> None:
    doc = parse_yaml(
        "secret: ${HUB_T_SECRET}\nnext: 1\n", "f.yaml", environ={"HUB_T_SECRET": value}
    )
    assert doc.data == {"secret": value, "next": 1}
    assert doc.problems == []


def test_only_strings_are_substituted() -> None:
    doc = parse_yaml("n: 5\nflag: true\nnothing: null\n", "f.yaml", environ={})
    assert doc.data == {"n": 5, "flag": True, "nothing": None}


def test_substitution_can_be_switched_off() -> None:
    doc = parse_yaml("path: ${NOT_SET}\n", "m.yaml", environ={}, substitute_env=False)
    assert doc.data == {"path": "${NOT_SET}"}
    assert doc.problems == []


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_T_FROM_OS", "from-os")
    doc = parse_yaml("v: ${HUB_T_FROM_OS}\n", "f.yaml")
    assert doc.data == {"v": "from-os"}


# --- syntax errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: b: c\n", "bad.yaml:1:5"),
        ("x: 1\ny: [1, 2\nz: 3\n", "bad.yaml:3:2"),
        ("a:\n  - 1\n  b: 2\n", "bad.yaml:3:3"),
    ],
)
def test_syntax_error_is_a_config_error_with_line_and_column(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "bad.yaml")
    assert caught.value.where == where
    assert "invalid YAML" in caught.value.message
    assert caught.value.hint
    assert str(caught.value).startswith(where + ": invalid YAML")


# --- merge keys ----------------------------------------------------------------

MERGE = """\
defaults: &defaults
  retries: 3
  timeout: 10
fast:
  <<: *defaults
  timeout: 1
plain:
  <<: *defaults
"""


def test_merge_keys_are_resolved() -> None:
    doc = parse_yaml(MERGE, "merge.yaml")
    assert doc.data["plain"] == {"retries": 3, "timeout": 10}
    assert doc.data["fast"] == {"retries": 3, "timeout": 1}


def test_overriding_a_merged_key_is_not_a_duplicate() -> None:
    # Overriding a key brought in by `<<:` is what merge keys are for (YAML merge spec).
    doc = parse_yaml(MERGE, "merge.yaml")
    assert doc.problems == []


def test_an_overriding_key_is_located_where_it_is_written() -> None:
    doc = parse_yaml(MERGE, "merge.yaml")
    assert doc.position(("fast", "timeout")) == (6, 3)
    assert doc.position(("plain", "retries")) == (2, 3)  # merged: where the anchor has it


def test_a_real_duplicate_next_to_a_merge_key_is_still_reported() -> None:
    text = "d: &d\n  a: 1\ne:\n  <<: *d\n  b: 2\n  b: 3\n"
    doc = parse_yaml(text, "merge.yaml")
    assert [p.where for p in doc.problems] == ["merge.yaml:6"]
    assert doc.data["e"] == {"a": 1, "b": 3}


# --- files ---------------------------------------------------------------------


def test_load_yaml_reads_a_file_and_names_it_in_positions(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a:\n  b: ${HUB_T_B:-x}\n", encoding="utf-8")
    doc = load_yaml(path, environ={})
    assert doc.data == {"a": {"b": "x"}}
    assert doc.where(("a", "b")) == f"{path}:2"


def test_load_yaml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found") as caught:
        load_yaml(tmp_path / "nope.yaml")
    assert caught.value.hint


def test_load_yaml_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Zo\u00eb\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load_yaml(path)
    assert caught.value.where == str(path)


def test_an_empty_variable_takes_the_default_like_the_shell() -> None:
    doc = parse_yaml("a: ${V:-fallback}\nb: ${V}\n", "x.yaml", environ={"V": ""})
    assert doc.data == {"a": "fallback", "b": ""}
    assert doc.problems == []


# --- characters of a value -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "loc"),
    [
        ("a: >-\n    upper(\n      b,\n      nope(c))\n", ("a",)),  # folded, more indented
        ("a: upper(b) &\n    nope(c)\n", ("a",)),  # plain, on two lines
        ('a: "upper(b) &\\n nope(c)"\n', ("a",)),  # an escape before it
        ("a: \"'it''s' & nope\"\n", ("a",)),
        ("a: '''it''''s'' & nope'\n", ("a",)),  # doubled quotes
        ("a: |\n  x\n  y & nope\n", ("a",)),  # literal
        ("a: {p: 'x & nope'}\n", ("a", "p")),  # flow mapping
        ('a:\n  - x\n  - "y\\u00e9 & nope"\n', ("a", 1)),  # a \u escape is one character
    ],
)
def test_a_character_of_a_value_is_located_on_its_own_line(
    text: str, loc: tuple[str | int, ...]
) -> None:
    doc = parse_yaml(text, "f.yaml")
    value = doc.data_at(loc)
    assert isinstance(value, str)
    position = doc.value_position(loc, value.index("nope"))
    assert position is not None
    line, column = position
    assert text.splitlines()[line - 1][column - 1 :].startswith("nope")
    assert doc.where_in_value(loc, value.index("nope")) == f"f.yaml:{line}:{column}"


# --- what YAML refuses: a located error, never a traceback ----------------------------


@pytest.mark.parametrize(
    ("text", "where", "code"),
    [
        ("name: a\x01\nfields: {x: y}\n", "f.yaml:1:8", "U+0001"),
        ("a: 1\nb: 'x\x7fy'\n", "f.yaml:2:6", "U+007F"),
        ("a: \ufffe\n", "f.yaml:1:4", "U+FFFE"),
    ],
)
def test_a_character_yaml_does_not_allow_is_a_located_error(
    text: str, where: str, code: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "f.yaml")
    message = f"invalid YAML: the character {code} is not allowed in a YAML file"
    assert caught.value.message == message
    assert caught.value.where == where
    assert caught.value.hint is not None


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",  # flow: once a RecursionError
        "a:\n" + "".join("  " * level + "k:\n" for level in range(1, 3000)),  # block
    ],
    ids=["flow", "block"],
)
def test_nesting_deeper_than_the_limit_is_a_located_error(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "f.yaml")
    assert caught.value.message == (
        f"invalid YAML: the document nests deeper than {MAX_YAML_DEPTH} levels"
    )
    assert caught.value.where is not None
    assert caught.value.where.startswith("f.yaml:")


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_YAML_DEPTH - 1  # the top-level mapping is the first level
    doc = parse_yaml("a: " + "[" * depth + "]" * depth + "\n", "f.yaml")
    node = doc.data["a"]
    for _ in range(depth - 1):
        node = node[0]
    assert node == []


def _laughs(levels: int) -> str:
    """Each level a list of nine aliases of the one before: 9**levels values from a few lines."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    """Nine levels expand to 387 million values: the walk froze and ran out of memory."""
    with pytest.raises(ConfigError) as caught:
        parse_yaml(_laughs(9), "f.yaml")
    assert caught.value.message == (
        "invalid YAML: its aliases (*name) expand it to more than 10 times its own size"
    )
    assert caught.value.where is not None
    assert caught.value.where.startswith("f.yaml:")


def test_ordinary_aliases_and_merges_are_read() -> None:
    doc = parse_yaml(_laughs(3), "f.yaml")  # 81 values from 39
    assert len(doc.data["l2"]) == 9
    text = "base: &base {a: 1, b: 2}\n" + "".join(
        f"r{n}: {{<<: *base, c: {n}}}\n" for n in range(50)
    )
    assert parse_yaml(text, "f.yaml").data["r49"] == {"a": 1, "b": 2, "c": 49}
