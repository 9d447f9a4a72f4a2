"""Static checks of a mapping against JSON Schemas: source paths read, target keys written."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hub.errors import Problem, Severity
from hub.mapping import load_mapping, parse_mapping
from hub.mapping.schemacheck import SchemaView, check_reads, check_writes
from tests.configs import ROOT

WOO = ROOT / "schemas" / "json" / "woocommerce-order.schema.json"


def _schema(path: Path) -> SchemaView:
    return SchemaView(json.loads(path.read_text(encoding="utf-8")), path.name)


def reads(text: str, schema: Any, label: str = "input schema s.json") -> list[Problem]:
    mapping = parse_mapping(textwrap.dedent(text), "m.yaml")
    assert mapping.outline is not None
    view = schema if isinstance(schema, SchemaView) else SchemaView(schema, "s.json")
    return check_reads(mapping.outline, view, label)


def writes(text: str, schema: Any) -> list[Problem]:
    mapping = parse_mapping(textwrap.dedent(text), "m.yaml")
    assert mapping.outline is not None
    return check_writes(mapping.outline, SchemaView(schema, "out.json"), "output schema out.json")


def shown(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def test_a_misspelt_path_is_a_located_warning_against_the_shipped_woocommerce_schema() -> None:
    found = reads(
        """\
        name: m
        fields:
          number: number
          shipping_method: shiping_lines[0].method_title
        """,
        _schema(WOO),
        "input schema woocommerce-order.schema.json",
    )
    assert len(found) == 1
    problem = found[0]
    assert problem.severity is Severity.WARNING
    # `  shipping_method: shiping_lines[0]...`: the path starts in column 20
    assert problem.where == "m.yaml:4:20"
    assert problem.message == (
        "source path 'shiping_lines[0].method_title': the input schema "
        "woocommerce-order.schema.json does not declare 'shiping_lines' at the top level"
    )
    assert problem.hint is not None
    assert problem.hint.startswith("did you mean shipping_lines")
    assert str(problem).startswith("m.yaml:4:20: warning: source path")


CLOSED = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "number": {"type": "string"},
        "billing": {"$ref": "#/$defs/address"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"sku": {"type": "string"}, "qty": {"type": "number"}},
            },
        },
    },
    "$defs": {
        "address": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"email": {"type": "string"}, "city": {"type": "string"}},
        }
    },
}


def test_what_the_schema_forbids_is_an_error_at_the_character_of_the_step() -> None:
    found = reads(
        """\
        name: m
        fields:
          a: "upper(billing.emial)"
          b: number.x
          c: billing[0]
          d: nmber
        """,
        CLOSED,
    )
    assert [p.severity for p in found] == [Severity.ERROR] * 4
    assert shown(found) == [
        "m.yaml:3:21: source path 'billing.emial': the input schema s.json does not allow "
        "'emial' in billing (additionalProperties: false) (did you mean email?)",
        "m.yaml:4:13: source path 'number.x': number is a string in the input schema s.json, "
        "so it has no key 'x'",
        "m.yaml:5:13: source path 'billing[0]': billing is an object in the input schema "
        "s.json, not a list, so it has no item [0]",
        "m.yaml:6:6: source path 'nmber': the input schema s.json does not allow 'nmber' at "
        "the top level (additionalProperties: false) (did you mean number?)",
    ]


def test_every_place_that_reads_is_checked_and_each_reads_its_items() -> None:
    found = reads(
        """\
        name: m
        vars:
          first: lines[0]
          bad: numbr
        fields:
          f: $first.skuu
          g: "count(lines[*].qtyy)"
          h: {expr: number, when: "billing.cty != null"}
          items:
            each: lines
            where: "qtyy > 0"
            fields:
              sku: skku
              n: $root.numbr
              p: $parent.billing.emal
              inner:
                each: "array($)"
                fields: {x: $.qqty}
        """,
        CLOSED,
    )
    steps = [p.message.split(" does not allow ")[1].split(" (")[0] for p in found]
    assert steps == [
        "'numbr' at the top level",  # vars
        "'skuu' in $first",
        "'qtyy' in lines[*]",  # inside a function argument, through [*]
        "'cty' in billing",  # when
        "'qtyy' in lines[*]",  # where: evaluated on the item
        "'skku' in lines[*]",  # relative to the item
        "'numbr' at the top level",  # $root
        "'emal' in billing",  # $parent: the whole document, one loop up
        "'qqty'",  # $ in a loop over a computed list
    ]
    assert all(p.severity is Severity.ERROR for p in found)


def test_inline_function_parameters_read_the_items_of_their_list() -> None:
    found = reads(
        """\
        name: m
        fields:
          a: "map(lines, l -> $l.qtty)"
          b: "sum(map(filter(lines, l -> $l.qty > 0), x -> $x.skku))"
          c: "find(lines, l -> $l.sku == 'A').qyt"
          d: "reduce(lines, (t, l) -> $t + $l.qyt, 0)"
          e: "$root.lines[*].skuu"
          groups:
            each: "group_by(lines, l -> $l.sku)"
            fields:
              sku: key
              total: "sum(items[*].qtyy)"
        """,
        CLOSED,
    )
    steps = [p.message.split(" does not allow ")[1].split(" (")[0] for p in found]
    assert steps == [
        "'qtty' in $l",
        "'skku' in $x",
        "'qyt'",
        "'qyt' in $l",
        "'skuu' in lines[*]",
        "'qtyy'",
    ]
    assert all(p.severity is Severity.ERROR for p in found)


def test_split_items_are_read_like_each_items() -> None:
    found = reads("name: m\nsplit: lines\nfields:\n  a: skuu\n  b: $root.numbr\n", CLOSED)
    assert [p.message.split(" does not allow ")[1].split(" (")[0] for p in found] == [
        "'skuu' in lines[*]",
        "'numbr' at the top level",
    ]


def test_open_schemas_give_warnings_and_silent_schemas_nothing() -> None:
    schema = {
        "type": "object",
        "properties": {
            "known": {"type": "object", "properties": {"a": {}}},
            "free": {"type": "object"},  # no properties: nothing to compare with
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "any": {},
            "ext": {"$ref": "other.json#/x"},
        },
    }
    found = reads(
        """\
        name: m
        fields:
          a: known.b
          b: free.anything
          c: map.any_key
          d: any.thing[3].deep
          e: ext.whatever
          f: unknown_top
        """,
        schema,
    )
    assert [(p.severity, p.message.split(": ", 1)[1]) for p in found] == [
        (Severity.WARNING, "the input schema s.json does not declare 'b' in known"),
        (
            Severity.WARNING,
            "the input schema s.json does not declare 'unknown_top' at the top level",
        ),
    ]


def test_all_of_any_of_one_of_and_pattern_properties() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"properties": {"b": {"type": "object", "properties": {"x": {}}}}},
        ],
        "properties": {
            "either": {
                "anyOf": [
                    {"type": "object", "additionalProperties": False, "properties": {"p": {}}},
                    {"type": "object", "additionalProperties": False, "properties": {"q": {}}},
                    {"type": "null"},
                ]
            },
            "one": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "tagged": {"patternProperties": {"^x-": {"type": "string"}}},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "object"}]},
        },
        "additionalProperties": False,
    }
    found = reads(
        """\
        name: m
        fields:
          ok1: a
          ok2: b.x
          ok3: either.p
          ok4: either.q
          ok5: tagged.x-anything
          ok6: pair[1].whatever
          bad1: either.r
          bad2: one.key
          bad3: pair[0].key
          warn: tagged.other
        """,
        schema,
    )
    assert [(p.severity.value, p.where) for p in found] == [
        ("error", "m.yaml:9:16"),  # the 'r' of either.r
        ("error", "m.yaml:10:13"),
        ("error", "m.yaml:11:17"),
        ("warning", "m.yaml:12:16"),
    ]
    assert "(declared there: p, q)" in str(found[0])  # any branch declares a key
    assert "one is a string or a number" in found[1].message


def test_target_keys_against_the_output_schema() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "number": {"type": "string"},
            "note": {"type": "string"},
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {}}},
            },
            "customer": {"type": "object", "additionalProperties": False, "properties": {}},
        },
    }
    found = writes(
        """\
        name: m
        fields:
          number: number
          numbr: number
          note: {fields: {a: b}}
          lines:
            each: items
            fields: {sku: sku, qty: q}
          customer: {fields: {email: e}}
        """,
        schema,
    )
    assert [(p.severity.value, str(p)) for p in found] == [
        (
            "error",
            "m.yaml:4:3: target field 'numbr' is not allowed by the output schema out.json "
            "(additionalProperties: false) (did you mean number?)",
        ),
        (
            "error",
            "m.yaml:5:3: target field 'note' builds an object, but the output schema out.json "
            "has a string there",
        ),
        (
            "warning",
            "m.yaml:8:24: warning: target field 'lines.qty' is not declared in the output "
            "schema out.json (declared there: sku)",
        ),
        (
            "error",
            "m.yaml:9:23: target field 'customer.email' is not allowed by the output schema "
            "out.json (additionalProperties: false)",
        ),
    ]


def test_a_list_where_the_output_schema_has_an_object_is_an_error() -> None:
    schema = {"type": "object", "properties": {"lines": {"type": "object", "properties": {}}}}
    found = writes("name: m\nfields:\n  lines: {each: items, fields: {a: b}}\n", schema)
    assert shown(found) == [
        "m.yaml:3:3: target field 'lines' builds a list, but the output schema out.json has "
        "an object there"
    ]


@pytest.mark.parametrize(
    ("mapping", "input_schema", "output_schema"),
    [
        ("woocommerce-order-to-erp", "woocommerce-order", "erp-order"),
        ("woocommerce-order-to-orders-d96a", "woocommerce-order", None),
        ("woocommerce-order-to-crm-contact", "woocommerce-order", "crm-contact"),
        ("stock-report-csv-to-inventory", None, "inventory-update"),
        ("desadv-d96a-to-shop-shipment", None, "shop-shipment"),
        ("invoic-d96a-to-accounting", None, "accounting-invoice"),
    ],
)
def test_the_shipped_mappings_fit_the_shipped_schemas(
    mapping: str, input_schema: str | None, output_schema: str | None
) -> None:
    loaded = load_mapping(ROOT / "mappings" / f"{mapping}.yaml")
    assert loaded.outline is not None
    problems: list[Problem] = []
    if input_schema is not None:
        view = _schema(ROOT / "schemas" / "json" / f"{input_schema}.schema.json")
        problems += check_reads(loaded.outline, view, "input schema")
    if output_schema is not None:
        view = _schema(ROOT / "schemas" / "json" / f"{output_schema}.schema.json")
        problems += check_writes(loaded.outline, view, "output schema")
    assert shown(problems) == []
