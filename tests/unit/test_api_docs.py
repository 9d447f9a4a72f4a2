"""The API's own vocabulary for its document: times, error answers, input schemas."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.api.docs import responses
from hub.api.filters import TIME_PATTERN, parse_time
from hub.api.openapi import _embed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T14:05", datetime(2026, 11, 23, 14, 5, tzinfo=UTC)),
        ("2026-11-23T14:05:06.5", datetime(2026, 11, 23, 14, 5, 6, 500000, tzinfo=UTC)),
        ("2026-11-23T14:05:06.1234567Z", datetime(2026, 11, 23, 14, 5, 6, 123456, tzinfo=UTC)),
        ("2026-11-23t15:05:06+01:00", datetime(2026, 11, 23, 14, 5, 6, tzinfo=UTC)),
        ("2024-02-29T00:00:00-00:30", datetime(2024, 2, 29, 0, 30, tzinfo=UTC)),
        ("2000-02-29", datetime(2000, 2, 29, tzinfo=UTC)),
        ("9999-12-31T23:59:59-23:59", datetime.max.replace(tzinfo=UTC)),
        ("0001-01-01T00:00:00+00:01", datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_a_time_is_iso_8601_in_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "value",
    [
        0.5,  # pydantic took a number as seconds since 1970
        "0.5",
        "1700000000",
        "2026-02-29",  # not a leap year
        "1900-02-29",  # nor is a century not divisible by 400
        "2026-04-31",
        "0000-01-01",
        "2026-11-23 14:05",
        "2026-11-23T24:00",
        "2026-11-23T14:05+01:00:00",
        "2026-11-23\n",
        "\uff12\uff10\uff12\uff16-11-23",  # digits, but not ASCII ones (fullwidth)
        "",
        None,
    ],
)
def test_anything_else_is_not_a_time(value: object) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 date or time"):
        parse_time(value)


@given(st.from_regex(TIME_PATTERN, fullmatch=True))
def test_every_time_the_document_allows_is_taken(text: str) -> None:
    """The pattern the document shows is exactly what the server takes: no valid-looking
    string is refused (a 422 for what the document allows)."""
    assert parse_time(text).tzinfo is UTC


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_every_real_time_matches_the_pattern(moment: datetime) -> None:
    for text in (moment.date().isoformat(), moment.isoformat(), moment.isoformat() + "Z"):
        assert re.fullmatch(TIME_PATTERN, text), text


def test_error_answers_come_from_one_table() -> None:
    answers = responses(404, 409, 503, said={409: "not failed"})
    assert list(answers) == [404, 409, 503]
    assert answers[409]["description"] == "not failed"
    assert "No such message" in answers[404]["description"]
    assert answers[503]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert answers[503]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    with pytest.raises(ValueError, match=r"described but not declared: \[400\]"):
        responses(404, said={400: "bad"})


def test_an_input_schema_is_embedded_with_its_references_rewritten() -> None:
    schema = {
        "$id": "https://example.com/s.json",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {
            "a": {"$ref": "#/$defs/a b"},
            "b": {"$ref": "https://example.com/s.json#/$defs/a~1c/items"},
            "c": {"$ref": "#/properties/a"},
        },
        "$defs": {"a b": {"type": "string"}, "a/c": {"type": "array", "items": {}}},
    }
    assert _embed(schema, "S") == {
        "S": {
            "properties": {
                "a": {"$ref": "#/components/schemas/S.a_b"},
                "b": {"$ref": "#/components/schemas/S.a_c/items"},
                "c": {"$ref": "#/components/schemas/S/properties/a"},
            }
        },
        "S.a_b": {"type": "string"},
        "S.a_c": {"type": "array", "items": {}},
    }


def test_a_schema_that_refers_to_another_file_is_not_embedded() -> None:
    assert _embed({"properties": {"a": {"$ref": "other.json#/x"}}}, "S") is None
