"""hub.config.load_config and hub.pipeline.build_routes: every problem located at file:line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.pipeline import CompiledRoute, build_routes
from hub.pipeline.build import compile_routes
from tests.configs import ROOT

Write = Callable[[str, str], Path]

MINIMAL = """\
routes:
  orders:
    sinks:
      - name: out
        type: file
        options:
          directory: out
"""


def problem_lines(error: ConfigError, path: Path) -> list[int]:
    """The line numbers of the problems located in ``path``."""
    prefix = f"{path}:"
    return [
        int(p.where[len(prefix) :].split(":")[0])
        for p in error.problems
        if p.where and p.where.startswith(prefix)
    ]


def load_error(path: Path, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    return caught.value


# --- load_config -----------------------------------------------------------------


def test_minimal_config_is_valid_and_gets_defaults(write: Write, tmp_path: Path) -> None:
    path = write("config.yaml", MINIMAL)
    loaded = load_config(path, environ={})
    config = loaded.config
    assert list(config.routes) == ["orders"]
    route = config.routes["orders"]
    assert route.source.type == "http"
    assert route.input.format == "json"
    assert route.sinks[0].name == "out"
    assert route.sinks[0].options == {"directory": "out"}
    assert config.server.port == 8080
    assert config.version == 1
    assert loaded.base_dir == tmp_path
    assert loaded.resolve(Path("out"), kind="any") == tmp_path / "out"
    assert loaded.resolve(tmp_path / "abs", kind="any") == tmp_path / "abs"
    assert loaded.document.where(("routes", "orders", "sinks", 0)) == f"{path}:4"


def test_empty_config_is_a_hub_without_routes(write: Write) -> None:
    loaded = load_config(write("config.yaml", "# nothing yet\n"), environ={})
    assert loaded.config.routes == {}


def test_env_values_are_converted_by_the_model(write: Write) -> None:
    path = write("config.yaml", "server:\n  port: ${HUB_T_PORT:-8081}\n")
    assert load_config(path, environ={}).config.server.port == 8081
    assert load_config(path, environ={"HUB_T_PORT": "9001"}).config.server.port == 9001


TYPO_AND_MISSING_ENV = """\
version: 1
server:
  port: 8080
store:
  url: ${HUB_T_STORE_URL}
routes:
  orders:
    source:
      type: http
    sinks:
      - name: out
        type: file
        optoins:
          directory: out
"""


def test_typo_and_missing_env_var_are_reported_together(write: Write) -> None:
    path = write("config.yaml", TYPO_AND_MISSING_ENV)
    error = load_error(path)
    text = str(error)
    assert f"{path} has 2 problems" in text
    assert f"{path}:5: environment variable HUB_T_STORE_URL is not set" in text
    assert f"{path}:13: unknown key 'routes.orders.sinks.0.optoins'" in text
    assert "did you mean 'options'?" in text
    assert problem_lines(error, path) == [5, 13]  # in line order
    typo = error.problems[1]
    assert typo.hint == "did you mean 'options'?"


def test_typo_at_top_level_suggests_the_right_key(write: Write) -> None:
    path = write("config.yaml", "sever:\n  port: 1\n")
    error = load_error(path)
    assert len(error.problems) == 1
    assert error.problems[0].where == f"{path}:1"
    assert error.problems[0].hint == "did you mean 'server'?"


def test_unknown_key_without_a_close_match_lists_the_allowed_ones(write: Write) -> None:
    path = write("config.yaml", "worker:\n  zzz: 1\n")
    problem = load_error(path).problems[0]
    assert problem.where == f"{path}:2"
    assert problem.hint is not None
    assert "allowed here:" in problem.hint
    assert "threads" in problem.hint


def test_wrong_type_for_server_port(write: Write) -> None:
    path = write("config.yaml", "version: 1\nserver:\n  host: 0.0.0.0\n  port: eighty\n")
    error = load_error(path)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.where == f"{path}:4"
    assert "server.port" in problem.message
    assert "integer" in problem.message
    assert "'eighty'" in problem.message


def test_port_out_of_range(write: Write) -> None:
    path = write("config.yaml", "server:\n  port: 70000\n")
    problem = load_error(path).problems[0]
    assert problem.where == f"{path}:2"
    assert "65535" in problem.message


def test_bad_route_name(write: Write) -> None:
    text = MINIMAL.replace("  orders:", "  Bad Route:")
    path = write("config.yaml", text)
    error = load_error(path)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.where == f"{path}:2"
    assert "Bad Route" in problem.message


def test_missing_sinks(write: Write) -> None:
    path = write("config.yaml", "routes:\n  orders:\n    description: no sinks\n")
    error = load_error(path)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.message == "missing required key 'routes.orders.sinks'"
    assert problem.where == f"{path}:2"  # located at the route that lacks it
    assert problem.hint == "add it"


def test_empty_sinks_list(write: Write) -> None:
    path = write("config.yaml", "routes:\n  orders:\n    sinks: []\n")
    problem = load_error(path).problems[0]
    assert problem.where == f"{path}:3"
    assert "routes.orders.sinks" in problem.message


def test_unsupported_version(write: Write) -> None:
    path = write("config.yaml", "version: 2\n")
    problem = load_error(path).problems[0]
    assert problem.where == f"{path}:1"
    assert "version" in problem.message


def test_config_must_be_a_mapping(write: Write) -> None:
    path = write("config.yaml", "- a\n- b\n")
    error = load_error(path)
    assert "must be a mapping" in error.problems[0].message


def test_duplicate_keys_are_config_problems(write: Write) -> None:
    path = write("config.yaml", "server:\n  port: 1\n  port: 2\n")
    error = load_error(path)
    assert problem_lines(error, path) == [3]
    assert "duplicate key 'port'" in str(error)


def test_yaml_syntax_error_propagates_with_position(write: Write) -> None:
    path = write("config.yaml", "server:\n  port: [1\n")
    error = load_error(path)
    assert error.where is not None
    assert error.where.startswith(f"{path}:")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")


def test_many_problems_are_sorted_by_line_and_serialisable(write: Write) -> None:
    text = """\
    worker:
      threads: 0
    server:
      port: x
      hots: y
    """
    path = write("config.yaml", text)
    error = load_error(path)
    assert problem_lines(error, path) == [2, 4, 5]
    body = error.to_dict()
    assert body["type"] == "config_error"
    assert isinstance(body["problems"], list)
    assert len(body["problems"]) == 3


# --- build_routes ----------------------------------------------------------------


@pytest.fixture
def built() -> Iterator[list[dict[str, CompiledRoute]]]:
    """Collects built routes so their connectors are closed after the test."""
    routes: list[dict[str, CompiledRoute]] = []
    yield routes
    for group in routes:
        for route in group.values():
            route.close()


def build_error(path: Path) -> ConfigError:
    loaded = load_config(path, environ={})
    with pytest.raises(ConfigError) as caught:
        build_routes(loaded)
    return caught.value


SCHEMA = {
    "type": "object",
    "required": ["number"],
    "properties": {"number": {"type": "string"}},
}

GOOD_MAPPING = """\
name: order-to-erp
fields:
  order_number: {path: number, required: true}
  kind: {value: sales_order}
"""


def test_a_complete_route_builds(
    write: Write, tmp_path: Path, built: list[dict[str, CompiledRoute]]
) -> None:
    write("schemas/in.json", json.dumps(SCHEMA))
    write("mappings/m.yaml", GOOD_MAPPING)
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            source:
              type: http
              options:
                acknowledge_pings: true
            input:
              schema: schemas/in.json
            correlation: number
            mapping: mappings/m.yaml
            output:
              options: {indent: 2}
            sinks:
              - name: erp
                type: file
                options:
                  directory: outbox
              - name: partner
                type: http
                options:
                  url: http://127.0.0.1:9/orders
        """,
    )
    routes = build_routes(load_config(path, environ={}))
    built.append(routes)
    route = routes["orders"]
    assert route.source_type == "http"
    assert sorted(route.sinks) == ["erp", "partner"]
    assert route.retry.max_attempts == 8
    translation = route.translator.translate(b'{"number": "1001"}')
    assert json.loads(translation.body) == {"order_number": "1001", "kind": "sales_order"}
    assert translation.mapping_name == "order-to-erp"
    assert route.translator.inspect(b'{"number": "1001"}') == "1001"


BROKEN_ROUTE = """\
routes:
  orders:
    source:
      type: carrier-pigeon
    input:
      schema: schemas/absent.json
    mapping: broken-mapping.yaml
    output:
      format: fixedwidth
    sinks:
      - name: a
        type: ftp
      - name: b
        type: file
        options:
          filename: x.json
      - name: c
        type: file
        options:
          directory: out
          bogus: 1
"""

BROKEN_MAPPING = """\
name: m
fields:
  a: x..y
  b: {path: q, wat: 1}
"""


def test_build_collects_every_problem_in_one_error(write: Write, tmp_path: Path) -> None:
    write("broken-mapping.yaml", BROKEN_MAPPING)
    path = write("config.yaml", BROKEN_ROUTE)
    mapping_path = tmp_path / "broken-mapping.yaml"
    error = build_error(path)
    text = str(error)
    by_line = {
        int(p.where.split(":")[1]): p for p in error.problems if p.where and str(path) in p.where
    }

    # unknown source connector: at the `type` line, listing the installed sources
    assert "no source connector named 'carrier-pigeon'" in by_line[4].message
    assert by_line[4].hint is not None
    assert "http" in by_line[4].hint

    # missing schema file: at the `schema` line
    assert "schema file not found" in by_line[6].message

    # mapping file with errors: its own problems, located in the mapping file (no summary line)
    assert 7 not in by_line
    assert problem_lines(error, mapping_path) == [3, 4]

    # unknown format lists the installed codecs
    assert "unknown format 'fixedwidth'" in by_line[9].message
    assert by_line[9].hint == "known formats: csv, edifact, json, x12, xml"

    # unknown sink connector lists the installed sinks
    assert "no sink connector named 'ftp'" in by_line[12].message
    assert by_line[12].hint == "sink connectors installed: amqp, as2, file, http, sftp"

    # file sink without `directory`: located at its `options`
    assert by_line[15].message == "missing required key 'routes.orders.sinks.1.options.directory'"

    # unknown option: located at the key itself, listing what is allowed
    assert by_line[21].message == "unknown key 'routes.orders.sinks.2.options.bogus'"
    assert by_line[21].hint is not None
    assert "directory" in by_line[21].hint

    assert f"{path} has {len(error.problems)} problems" in text
    assert len(error.problems) == 8


def test_sink_options_typo_suggests_the_option(write: Write) -> None:
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            sinks:
              - name: out
                type: file
                options:
                  directry: out
        """,
    )
    error = build_error(path)
    located = {p.where: p for p in error.problems}
    assert located[f"{path}:7"].hint == "did you mean 'directory'?"
    assert located[f"{path}:6"].message.endswith("options.directory'")


def test_nested_source_option_typo_is_located(write: Write) -> None:
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            source:
              type: http
              options:
                signature:
                  header: X-Sig
                  secret: s
                  algoritm: sha256
            sinks:
              - {name: out, type: file, options: {directory: out}}
        """,
    )
    error = build_error(path)
    assert len(error.problems) == 1
    assert error.problems[0].where == f"{path}:9"
    assert error.problems[0].hint == "did you mean 'algorithm'?"


def test_bad_codec_option_is_located(write: Write) -> None:
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            output:
              options:
                indent: 99
            sinks:
              - {name: out, type: file, options: {directory: out}}
        """,
    )
    error = build_error(path)
    assert [p.where for p in error.problems] == [f"{path}:5"]
    assert "indent" in error.problems[0].message


def test_bad_correlation_path_and_duplicate_sink_names(write: Write) -> None:
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            correlation: "a..b"
            sinks:
              - {name: out, type: file, options: {directory: one}}
              - {name: out, type: file, options: {directory: two}}
        """,
    )
    error = build_error(path)
    assert problem_lines(error, path) == [3, 6]
    assert "bad path 'a..b'" in error.problems[0].message
    assert "two sinks are named 'out'" in error.problems[1].message


def test_invalid_schema_file_is_a_build_problem(write: Write) -> None:
    write("bad.schema.json", '{"type": 5}')
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            input:
              schema: bad.schema.json
            sinks:
              - {name: out, type: file, options: {directory: out}}
        """,
    )
    error = build_error(path)
    assert len(error.problems) == 1
    assert "not a valid JSON Schema" in error.problems[0].message


def test_a_bad_correlation_path_is_located_at_its_character(write: Write) -> None:
    path = write(
        "config.yaml",
        """\
        routes:
          orders:
            correlation: "items[0.sku"
            sinks:
              - {name: out, type: file, options: {directory: one}}
        """,
    )
    error = build_error(path)
    assert [str(p) for p in error.problems] == [
        f"{path}:3:24: bad path 'items[0.sku': missing ']' to close '[0' (write a.b[0].c)"
    ]


# --- the route's mapping against the route's schemas ------------------------------------

ROUTE_WITH_SCHEMAS = """\
routes:
  orders:
    input: {{format: json, schema: {root}/schemas/json/woocommerce-order.schema.json}}
    mapping: mappings/m.yaml
    output: {{format: json, schema: {root}/schemas/json/erp-order.schema.json}}
    sinks:
      - {{name: out, type: file, options: {{directory: out}}}}
"""

ERP_MAPPING = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")


def test_a_path_the_input_schema_does_not_declare_is_a_warning_and_strict_an_error(
    write: Write, built: list[dict[str, CompiledRoute]]
) -> None:
    mapping = write(
        "mappings/m.yaml",
        ERP_MAPPING.replace("  note: customer_note", "  note: shiping_lines[0].method_title"),
    )
    path = write("config.yaml", ROUTE_WITH_SCHEMAS.format(root=ROOT))
    loaded = load_config(path, environ={})
    result = compile_routes(loaded)
    built.append(result.routes)
    line = ERP_MAPPING.splitlines().index("  note: customer_note") + 1
    assert [str(w) for w in result.warnings] == [
        f"{mapping}:{line}:9: warning: source path 'shiping_lines[0].method_title': the input "
        "schema woocommerce-order.schema.json does not declare 'shiping_lines' at the top level "
        "(did you mean shipping_lines, shipping_total, shipping?)"
    ]
    assert result.routes["orders"].warnings == tuple(result.warnings)
    with pytest.raises(ConfigError) as caught:
        compile_routes(loaded, strict=True)
    assert caught.value.problems == result.warnings
    assert caught.value.hint == "--strict: warnings count as errors"


def test_a_target_field_the_output_schema_does_not_allow_is_a_load_error(write: Write) -> None:
    mapping = write(
        "mappings/m.yaml",
        ERP_MAPPING.replace("  note: customer_note", "  notes: customer_note"),
    )
    path = write("config.yaml", ROUTE_WITH_SCHEMAS.format(root=ROOT))
    error = build_error(path)
    line = ERP_MAPPING.splitlines().index("  note: customer_note") + 1
    assert error.message == f"{path} has 1 problem"
    assert [str(p) for p in error.problems] == [
        f"{mapping}:{line}:3: target field 'notes' is not allowed by the output schema "
        "erp-order.schema.json (additionalProperties: false) (did you mean note, lines?)"
    ]


def test_the_shipped_demo_route_has_no_warnings() -> None:
    loaded = load_config(ROOT / "config.example.yaml", environ={})
    result = compile_routes(loaded)
    for route in result.routes.values():
        route.close()
    assert result.warnings == []
