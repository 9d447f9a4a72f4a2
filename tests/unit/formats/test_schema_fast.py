"""The compiled fast path (jsonschema-rs) and jsonschema agree on valid and invalid.

Differential: schemas built by hypothesis from the keywords the fast path accepts (and
the project's own schemas), documents built by hypothesis near the values the schemas
name, both validators asked; they must give the same verdict every time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from hub.errors import SchemaValidationError
from hub.formats.schema import JsonSchema
from hub.formats.schema_fast import compile_fast, portable_pattern

REPO = Path(__file__).resolve().parents[3]
PROJECT_SCHEMAS = sorted((REPO / "schemas" / "json").glob("*.schema.json"))

# Characters where the engines' readings part: digits and letters outside ASCII, line
# breaks, separators, the characters patterns are made of.
ALPHABET = st.sampled_from(list("aZ09_-.:$^\n\r \t\u00e9\u0663\u00df\u2028\x1c[]()\\+*?{},|/@"))
TEXT = st.text(ALPHABET, max_size=6)

PATTERN_PARTS = st.sampled_from(
    [
        "a",
        "Z",
        "0",
        "[A-Z]",
        "[0-9]",
        "[^0-9]",
        "[^a]",
        r"\d",
        r"\w",
        r"\s",
        r"\D",
        r"\.",
        r"\-",
        r"\n",
        ".",
        "$",
        "^",
        "(?:a|0)",
        "(?=a)",
        "(?!0)",
        "+",
        "*",
        "?",
        "{2}",
        "{1,2}",
        "{,2}",
        "(?i)",
        r"\b",
        "é",
    ]
)
PATTERNS = st.lists(PATTERN_PARTS, min_size=1, max_size=5).map("".join)


def _valid_regex(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


SCALAR_SCHEMAS = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "boolean", "null", "object"])}
    ),
    st.fixed_dictionaries({"type": st.just("string"), "pattern": PATTERNS.filter(_valid_regex)}),
    st.fixed_dictionaries(
        {"minLength": st.integers(0, 3)}, optional={"maxLength": st.integers(0, 4)}
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "minimum": st.integers(-3, 3),
            "maximum": st.integers(-3, 3),
            "exclusiveMinimum": st.floats(-3, 3, allow_nan=False),
            "exclusiveMaximum": st.integers(-3, 3),
            "multipleOf": st.integers(1, 3),
        },
    ),
    st.fixed_dictionaries({"enum": st.lists(st.one_of(st.integers(-2, 2), TEXT), max_size=3)}),
    st.fixed_dictionaries({"const": st.one_of(st.integers(-2, 2), st.floats(-2, 2), TEXT)}),
    st.fixed_dictionaries({"format": st.sampled_from(["date-time", "email", "ipv4", "uri"])}),
)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    names = st.sampled_from(["a", "b", "pattern", "0"])
    return st.one_of(
        st.fixed_dictionaries(
            {"properties": st.dictionaries(names, children, max_size=3)},
            optional={
                "required": st.lists(names, max_size=2, unique=True),
                "additionalProperties": st.one_of(st.booleans(), children),
            },
        ),
        st.fixed_dictionaries(
            {
                "patternProperties": st.dictionaries(
                    PATTERNS.filter(_valid_regex), children, min_size=1, max_size=2
                )
            },
            optional={"additionalProperties": st.booleans()},
        ),
        st.fixed_dictionaries(
            {"items": children},
            optional={
                "minItems": st.integers(0, 2),
                "maxItems": st.integers(0, 3),
                "uniqueItems": st.booleans(),
                "contains": children,
            },
        ),
        st.fixed_dictionaries({"not": children}),
        st.fixed_dictionaries({"anyOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"oneOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"if": children}, optional={"then": children, "else": children}),
        st.fixed_dictionaries({"propertyNames": children}),
    )


SCHEMAS = st.recursive(SCALAR_SCHEMAS, _compound, max_leaves=6)

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-4, 4),
        st.floats(-4, 4, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.5, 1.0, 2.0, -0.0, 10**20, 2**64]),
        TEXT,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "pattern", "0", "é", "a\n"]), children),
    ),
    max_leaves=8,
)


def _python_valid(schema: Any, document: Any) -> bool:
    return not any(True for _ in Draft202012Validator(schema).iter_errors(document))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, documents=st.lists(JSON_VALUES, min_size=1, max_size=8))
def test_the_fast_path_agrees_with_jsonschema(schema: Any, documents: list[Any]) -> None:
    fast = compile_fast(schema)
    if fast is None:  # the schema uses something the two read differently: no fast path
        return
    for document in documents:
        assert fast.is_valid(document) == _python_valid(schema, document), (schema, document)


EXAMPLE_ORDER = json.loads((REPO / "examples" / "woocommerce-order.json").read_text("utf-8"))
EDGE_VALUES = st.one_of(
    st.sampled_from(
        ["1.50", "-2", "0.5.1", "12\n", "", "1e3", "\u0663", "EUR\n", "eur", "EUR", "x" * 3]
    ),
    st.sampled_from([0, -1, 1, 0.5, 2.0, True, None, [], {}]),
    TEXT,
)
#: Where the demo schema says something: each place gets edge values in turn.
ORDER_PLACES = [
    ("id",),
    ("number",),
    ("currency",),
    ("total",),
    ("customer_id",),
    ("billing", "email"),
    ("billing", "first_name"),
    ("line_items", 0, "quantity"),
    ("line_items", 1, "total"),
    ("line_items", 2, "id"),
    ("line_items", 0, "price"),
    ("shipping_lines", 0, "total"),
    ("line_items",),
]


def _changed(order: Any, place: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``order`` with ``value`` at ``place``; as it was if an earlier change
    removed the place (``line_items`` became a number)."""
    changed = json.loads(json.dumps(order))
    node = changed
    try:
        for step in place[:-1]:
            node = node[step]
        node[place[-1]] = value
    except (KeyError, IndexError, TypeError):
        return order
    return changed


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(st.tuples(st.sampled_from(ORDER_PLACES), EDGE_VALUES), max_size=2),
    other=JSON_VALUES,
)
def test_the_demo_schema_agrees_on_orders(
    changes: list[tuple[tuple[str | int, ...], Any]], other: Any
) -> None:
    """The example order with one or two values at the schema's edges, or anything."""
    schema = json.loads((REPO / "schemas/json/woocommerce-order.schema.json").read_text("utf-8"))
    fast = compile_fast(schema)
    assert fast is not None
    order = EXAMPLE_ORDER
    for place, value in changes:
        order = _changed(order, place, value)
    for document in (order, other):
        assert fast.is_valid(document) == _python_valid(schema, document), document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), pattern=PATTERNS.filter(_valid_regex), negated=st.booleans())
def test_patterns_agree_on_the_strings_they_match(
    data: st.DataObject, pattern: str, negated: bool
) -> None:
    """Strings Python's re finds the pattern in, with a line break after, and others."""
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    if negated:
        schema = {"not": schema}
    fast = compile_fast(schema)
    if fast is None:
        return
    matching = st.from_regex(pattern)
    texts = data.draw(
        st.lists(
            st.one_of(matching, matching.map(lambda t: t + "\n"), TEXT), min_size=1, max_size=6
        )
    )
    for text in texts:
        assert fast.is_valid(text) == _python_valid(schema, text), (pattern, text)


@pytest.mark.parametrize("path", PROJECT_SCHEMAS, ids=lambda p: p.name)
def test_every_project_schema_has_the_fast_path(path: Path) -> None:
    assert compile_fast(json.loads(path.read_text(encoding="utf-8"))) is not None


def test_an_invalid_document_gets_jsonschemas_report(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}}), "utf-8"
    )
    schema = JsonSchema(path)
    assert schema.is_valid_fast({"n": 1}) is True
    schema.check({"n": 1})
    with pytest.raises(SchemaValidationError) as caught:
        schema.check({"n": "x"})
    assert caught.value.where == "#/n"
    assert "'x' is not of type 'integer'" in caught.value.problems[0].message


def test_a_document_jsonschema_accepts_passes_even_where_the_fast_path_says_no(
    tmp_path: Path,
) -> None:
    """A string with a lone surrogate (JSON allows "\\ud800") is no UTF-8 for Rust: the
    fast path has no verdict and jsonschema decides."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "string"}), "utf-8")
    schema = JsonSchema(path)
    assert schema.is_valid_fast("\ud800") is None
    schema.check("\ud800")


@pytest.mark.parametrize(
    ("pattern", "portable"),
    [
        ("^[A-Z]{3}$", r"^[A-Z]{3}(?=\n?$)"),
        (r"^-?[0-9]+(\.[0-9]+)?$", r"^-?[0-9]+(\.[0-9]+)?(?=\n?$)"),
        ("a.b", r"a[^\n]b"),
        ("[.$]", "[.$]"),
        (r"\d", None),
        (r"[^\w]", None),
        ("(?i)abc", None),
        ("(?P<x>a)", None),
        ("[]a]", None),
        ("[a-z&&[^b]]", None),
        ("a{,2}", None),
        ("[a", None),
    ],
)
def test_patterns_are_rewritten_or_refused(pattern: str, portable: str | None) -> None:
    assert portable_pattern(pattern) == portable


@pytest.mark.parametrize(
    "schema",
    [
        {"multipleOf": 0.01},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"},
        {"properties": {"a": {"pattern": r"\w+"}}},
        {"patternProperties": {r"^\d+$": {"type": "integer"}}},
        {"$ref": "https://example.com/elsewhere.json"},
    ],
)
def test_schemas_the_engines_could_read_differently_have_no_fast_path(schema: Any) -> None:
    assert compile_fast(schema) is None


def test_data_keywords_are_not_rewritten() -> None:
    """A const or enum that looks like a pattern is data: "$" stays "$"."""
    fast = compile_fast({"properties": {"pattern": {"const": {"pattern": "a$"}}}})
    assert fast is not None
    assert fast.is_valid({"pattern": {"pattern": "a$"}})
    assert not fast.is_valid({"pattern": {"pattern": "a(?=\\n?$)"}})
