"""The built-in mapping functions, the code-list loader and the shipped code lists."""

from __future__ import annotations

import inspect
import os
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import ConfigError
from hub.mapping import codelists, parse_mapping
from hub.mapping.functions.numbers import to_decimal
from hub.mapping.functions.registry import FUNCTIONS, FunctionError, FunctionSpec, lookup

ROOT = Path(__file__).resolve().parents[2]
CODELISTS = ROOT / "mappings" / "codelists"
DOC = ROOT / "docs" / "mapping-functions.md"
_FAMILIES = ["strings", "numbers", "dates", "aggregates", "misc", "lists", "datemath"]
OUR_MODULES = {f"hub.mapping.functions.{name}" for name in [*_FAMILIES, "patterns"]}


class FakeContext:
    """The smallest FunctionContext: fixed code lists and a fixed time."""

    def __init__(self, lists: Mapping[str, Mapping[str, Any]], at: datetime) -> None:
        self.lists = lists
        self.at = at

    def codelist(self, name: str) -> Mapping[str, Any]:
        if name not in self.lists:
            raise FunctionError(f"unknown code list {name!r}")
        return self.lists[name]

    def now(self) -> datetime:
        return self.at


NOW = datetime(2024, 7, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def context() -> FakeContext:
    units = codelists.CodeList("units", {"kg": "KGM", "pcs": "PCE", "g": "GRM"})
    many = codelists.CodeList("many", {f"c{i:02d}": i for i in range(15)})
    fallback = codelists.CodeList("fallback", {"a": "A"}, default="ZZ")
    return FakeContext({"units": units, "many": many, "fallback": fallback}, NOW)


def spec(name: str) -> FunctionSpec:
    found = lookup(name)
    assert found is not None, f"{name} is not registered"
    return found


def call(name: str, *args: Any, ctx: Any = None) -> Any:
    """Call a registered function as the compiler would, checking the arity on the way."""
    fn = spec(name)
    assert fn.min_args <= len(args), f"{name}: too few arguments"
    assert fn.max_args is None or len(args) <= fn.max_args, f"{name}: too many arguments"
    if fn.needs_context:
        return fn.call(ctx, *args)
    return fn.call(*args)


def ours() -> list[FunctionSpec]:
    lookup("upper")
    return [s for s in FUNCTIONS.values() if s.call.__module__ in OUR_MODULES]


# -- registry ---------------------------------------------------------------------------------


def test_every_function_is_registered_with_a_doc() -> None:
    names = {s.name for s in ours()}
    assert {
        "trim",
        "upper",
        "lower",
        "pad_left",
        "pad_right",
        "substring",
        "replace",
        "join",
        "split",
        "concat",
        "length",
        "default",
        "contains",
        "starts_with",
        "number",
        "round",
        "format_number",
        "integer",
        "abs",
        "parse_date",
        "format_date",
        "date",
        "edi_date",
        "edi_period",
        "period_start",
        "period_end",
        "sum",
        "count",
        "min",
        "max",
        "avg",
        "uuid",
        "now",
        "coalesce",
        "lookup",
    } <= names
    for fn in FUNCTIONS.values():
        assert fn.doc.strip(), f"{fn.name} has no doc"
        assert "\n" not in fn.doc, f"{fn.name}: doc must be one line"
    for fn in ours():
        assert inspect.getdoc(fn.call), f"{fn.name} has no docstring"
        assert "(" in fn.doc, f"{fn.name}: doc should show an example call"


@pytest.mark.parametrize(
    ("name", "min_args", "max_args"),
    [
        ("trim", 1, 1),
        ("pad_left", 2, 3),
        ("substring", 2, 3),
        ("concat", 0, None),
        ("coalesce", 0, None),
        ("number", 1, 2),
        ("format_number", 1, 4),
        ("date", 3, 5),
        ("lookup", 2, 3),  # the context is not an argument
        ("now", 0, 2),
        ("uuid", 0, 0),
        ("sum", 1, 1),
    ],
)
def test_arity_comes_from_the_signature(name: str, min_args: int, max_args: int | None) -> None:
    assert (spec(name).min_args, spec(name).max_args) == (min_args, max_args)


def test_context_functions_are_marked() -> None:
    assert {s.name for s in ours() if s.needs_context} == {"now", "lookup"}


# -- strings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("trim", ("  a b \t\n",), "a b"),
        ("trim", (None,), None),
        ("upper", ("straße",), "STRASSE"),
        ("upper", (12,), "12"),
        ("lower", ("ABC",), "abc"),
        ("pad_left", ("42", 6, "0"), "000042"),
        ("pad_left", ("42", 4), "  42"),
        ("pad_left", ("1234567", 4, "0"), "1234567"),
        ("pad_left", (7, Decimal(3), "0"), "007"),
        ("pad_right", ("AB", 4, "."), "AB.."),
        ("pad_right", (None, 4), None),
        ("substring", ("ABCDEF", 1, 3), "BCD"),
        ("substring", ("ABCDEF", 2), "CDEF"),
        ("substring", ("ABC", 5, 2), ""),
        ("replace", ("a-b-c", "-", "/"), "a/b/c"),
        ("replace", ("a-b", "-", None), "ab"),
        ("join", (["a", None, "b"], ", "), "a, b"),
        ("join", ([1, Decimal("2.5")], "|"), "1|2.5"),
        ("join", (None, ","), ""),
        ("split", ("a;b;c", ";"), ["a", "b", "c"]),
        ("split", ("", ";"), []),
        ("split", (None, ";"), []),
        ("concat", ("A-", 12, None, "-B"), "A-12-B"),
        ("concat", (), ""),
        ("length", ("abc",), 3),
        ("length", (["a", "b"],), 2),
        ("length", (None,), 0),
        ("default", (None, "n/a"), "n/a"),
        ("default", ("  ", "n/a"), "n/a"),
        ("default", ("x", "n/a"), "x"),
        ("default", (0, "n/a"), 0),
        ("contains", ("Express Delivery", "Express"), True),
        ("contains", ("Express", "express"), False),
        ("contains", (None, "x"), False),
        ("contains", (["a", "b"], "b"), True),
        ("starts_with", ("DE-1234", "DE-"), True),
        ("starts_with", ("AT-1", "DE-"), False),
        ("starts_with", (None, "DE-"), False),
    ],
)
def test_strings(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("pad_left", ("1", 3, "ab"), "exactly one character"),
        ("pad_left", ("1", "wide"), "width must be a whole number"),
        ("substring", ("abc", -1), "start must not be negative"),
        ("substring", ("abc", 0, -2), "length must not be negative"),
        ("replace", ("abc", "", "x"), "must not be empty"),
        ("split", ("abc", ""), "separator must not be empty"),
        ("upper", ({"a": 1},), "must be text or a number, not dict"),
    ],
)
def test_string_errors(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(FunctionError, match=message):
        call(name, *args)


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1.234,56", ","), "1234.56"),
        (("1,234.56", "."), "1234.56"),
        (("1.234,56",), "1234.56"),
        (("1,234.56",), "1234.56"),
        (("1,5",), "1.5"),
        (("1.5",), "1.5"),
        (("1.234.567",), "1234567"),
        (("1.234", ","), "1234"),
        (("1 234,5", ","), "1234.5"),
        (("1'234.50", "."), "1234.50"),
        (("-12",), "-12"),
        (("+0.5",), "0.5"),
        ((",5", ","), "0.5"),
        ((" 42 ",), "42"),
        ((7,), "7"),
        ((2.675,), "2.675"),
        ((Decimal("3.10"),), "3.10"),
    ],
)
def test_number(args: tuple[Any, ...], expected: str) -> None:
    result = call("number", *args)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)


def test_number_null_and_blank() -> None:
    assert call("number", None) is None
    assert call("number", "   ") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("abc",), "'abc' is not a number"),
        (("12abc",), "'12abc' is not a number"),
        (("1.234,56", "."), "'1.234,56' is not a number with decimal mark '.'"),
        (("1,23,4", "."), "is not a number"),
        (("1e5",), "is not a number"),
        (("1", ";"), "decimal_mark must be"),
        ((True,), "must be a number"),
        (([1],), "must be a number or numeric text"),
        ((float("nan"),), "finite"),
    ],
)
def test_number_rejects_garbage(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(FunctionError, match=re.escape(message)):
        call("number", *args)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2.675, 2), "2.68"),  # a float 2.675 is 2.67499999... in binary: still 2.68
        (("2.675", 2), "2.68"),
        (("2.665", 2), "2.67"),
        (("-2.675", 2), "-2.68"),
        (("0.5",), "1"),
        (("1.5", 0), "2"),
        (("2.5", 0), "3"),  # not banker's rounding
        (("1234.5", -2), "1.2E+3"),
        (("1,005", 2), "1.01"),
    ],
)
def test_round_half_up(args: tuple[Any, ...], expected: str) -> None:
    result = call("round", *args)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_round_rejects_fractional_places() -> None:
    with pytest.raises(FunctionError, match="places must be a whole number"):
        call("round", "1", "1.5")
    assert call("round", None, 2) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1234.5,), "1234.50"),
        ((1234.5, 2, ",", "."), "1.234,50"),
        (("1234567.891", 2, ".", ","), "1,234,567.89"),
        (("2.675", 2), "2.68"),
        (("-1234.5", 0, ",", "."), "-1.235"),
        (("-0.001", 2), "0.00"),
        (("12", 0), "12"),
        (("999.999", 2, ".", " "), "1 000.00"),
    ],
)
def test_format_number(args: tuple[Any, ...], expected: str) -> None:
    assert call("format_number", *args) == expected


LONG = "1234567890123456789012345678"  # 28 digits


@settings(max_examples=400)
@given(
    st.one_of(
        st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{0,14})?", fullmatch=True),
        st.from_regex(r"[ +-]{0,2}0{0,3}[0-9]{0,5}\.?[0-9]{0,5} ?", fullmatch=True),
    ),
    st.integers(min_value=0, max_value=12),
)
def test_format_number_gives_text_back_only_as_rounding_writes_it(text: str, places: int) -> None:
    """Numeric text already in the written form is returned as it is; everything else is
    rounded; both agree with rounding the number (a Decimal takes no shortcut)."""
    try:
        number = to_decimal(text)
    except FunctionError:
        with pytest.raises(FunctionError):
            call("format_number", text, places)
        return
    assert call("format_number", text, places) == call("format_number", number, places)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        (
            "format_number",
            ("1234567890123456789012345678.125", 2),
            "1234567890123456789012345678.13",
        ),
        ("format_number", ("9" * 60 + ".5", 0), "1" + "0" * 60),
        ("format_number", (Decimal("1e399"), 2), "1" + "0" * 399 + ".00"),
        ("round", (LONG + ".125", 2), LONG + ".13"),
        ("floor", ("12345678901234567890123456789.9",), "12345678901234567890123456789"),
        ("ceil", ("12345678901234567890123456789.1",), "12345678901234567890123456790"),
    ],
)
def test_rounding_keeps_every_digit_of_a_long_number(
    name: str, args: tuple[Any, ...], expected: str
) -> None:
    """Past 28 significant digits (the default decimal context) rounding used to fail with
    a bare InvalidOperation; numbers of up to 100 digits round like any other."""
    assert str(call(name, *args)) == expected


def test_format_number_errors() -> None:
    with pytest.raises(FunctionError, match="must differ"):
        call("format_number", 1, 2, ",", ",")
    with pytest.raises(FunctionError, match="places must not be negative"):
        call("format_number", 1, -1)
    assert call("format_number", None) is None


def test_integer_and_abs() -> None:
    assert call("integer", "12.00") == 12
    assert call("integer", Decimal("-3")) == -3
    assert call("integer", None) is None
    with pytest.raises(FunctionError, match=r"'12\.5' is not a whole number; use round"):
        call("integer", "12.5")
    assert call("abs", "-3.50") == Decimal("3.50")
    assert str(call("abs", "-3.50")) == "3.50"
    assert call("abs", None) is None


# -- dates ------------------------------------------------------------------------------------


def test_parse_date_formats() -> None:
    assert call("parse_date", "2024-02-29") == date(2024, 2, 29)
    assert call("parse_date", "20240229", "102") == date(2024, 2, 29)
    assert call("parse_date", "20240229", 102) == date(2024, 2, 29)  # unquoted YAML number
    assert call("parse_date", "202402291345", "203") == datetime(2024, 2, 29, 13, 45)
    assert call("parse_date", "20240229134501", "204") == datetime(2024, 2, 29, 13, 45, 1)
    assert call("parse_date", "31.12.2024", "%d.%m.%Y") == datetime(2024, 12, 31)
    assert call("parse_date", "2024-07-01T10:00:00Z") == NOW
    assert call("parse_date", None) is None
    assert call("parse_date", "") is None


def test_leap_days() -> None:
    assert call("date", "20240229", "102", "iso") == "2024-02-29"
    with pytest.raises(FunctionError, match="'20230229' is not a date in format '102'"):
        call("parse_date", "20230229", "102")
    with pytest.raises(FunctionError, match="is not a date"):
        call("parse_date", "2100-02-29")  # not a leap year: divisible by 100
    assert call("date", "2000-02-29", "iso", "102") == "20000229"  # divisible by 400


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("2024022", "102"),
        ("2024-02-29", "102"),
        ("20240229", "203"),
        ("202402291361", "203"),
        ("yesterday", "iso"),
        ("29/02/2024", "%d.%m.%Y"),
    ],
)
def test_bad_dates(value: str, fmt: str) -> None:
    with pytest.raises(FunctionError, match="is not a date in format"):
        call("parse_date", value, fmt)


def test_unknown_formats_and_zones() -> None:
    with pytest.raises(FunctionError, match=re.escape("unknown date format 'dd.mm'")):
        call("parse_date", "01.02", "dd.mm")
    with pytest.raises(FunctionError, match="718 is a period"):
        call("parse_date", "20240101-20240131", "718")
    with pytest.raises(FunctionError, match="unknown time zone 'Mars/Olympus'"):
        call("parse_date", "2024-01-01T00:00:00", "iso", "Mars/Olympus")
    with pytest.raises(FunctionError, match="edi_date writes qualifiers"):
        call("edi_date", "2024-01-01", "718")


def test_naive_value_with_a_zone_is_local_time_there() -> None:
    parsed = call("parse_date", "202401151200", "203", "Europe/Berlin")
    assert parsed.isoformat() == "2024-01-15T12:00:00+01:00"
    assert call("date", "202407151200", "203", "iso", "Europe/Berlin") == (
        "2024-07-15T12:00:00+02:00"
    )


def test_conversion_between_zones_across_dst() -> None:
    # Berlin switches to summer time at 01:00 UTC on 2024-03-31 and back at 01:00 UTC on 10-27.
    def berlin(value: str) -> str:
        return str(call("date", value, "iso", "iso", None, "Europe/Berlin"))

    assert berlin("2024-03-31T00:59:00Z") == "2024-03-31T01:59:00+01:00"
    assert berlin("2024-03-31T01:00:00Z") == "2024-03-31T03:00:00+02:00"
    assert berlin("2024-10-27T00:30:00Z") == "2024-10-27T02:30:00+02:00"
    assert berlin("2024-10-27T01:30:00Z") == "2024-10-27T02:30:00+01:00"
    # local Berlin time to New York, both in summer time and in the weeks they differ
    assert (
        call("date", "202407011200", "203", "203", "Europe/Berlin", "America/New_York")
        == "202407010600"
    )
    assert (
        call("date", "202403201200", "203", "203", "Europe/Berlin", "America/New_York")
        == "202403200700"  # New York already on summer time, Berlin not yet
    )
    assert call("format_date", "2024-07-01T10:00:00Z", "%d.%m.%Y %H:%M", "Europe/Berlin") == (
        "01.07.2024 12:00"
    )


def test_dates_without_time_are_not_shifted() -> None:
    assert call("date", "2024-03-31", "iso", "102", "UTC", "Pacific/Auckland") == "20240331"
    assert call("format_date", date(2024, 1, 2), "203") == "202401020000"


def test_format_date_and_edi_date() -> None:
    assert call("format_date", "2024-02-29T13:45:00+01:00") == "2024-02-29T13:45:00+01:00"
    assert call("format_date", "2024-02-29T13:45:00+01:00", "iso-date") == "2024-02-29"
    assert call("format_date", "202402291345", "iso") == "2024-02-29T13:45:00"
    assert call("format_date", "20240229", "%d.%m.%Y") == "29.02.2024"
    assert call("format_date", None) is None
    assert call("edi_date", "2024-02-29T13:45:00+01:00") == "20240229"
    assert call("edi_date", "2024-02-29T13:45:00+01:00", "203") == "202402291345"
    assert call("edi_date", "2024-02-29T13:45:07+01:00", "204", "UTC") == "20240229124507"
    assert call("edi_date", "2024-12-31T23:30:00-05:00", "102", "Europe/Berlin") == "20250101"
    assert call("edi_date", datetime(2024, 5, 6, 7, 8), "203") == "202405060708"


def test_718_periods() -> None:
    assert call("edi_period", "2024-02-01", "2024-02-29") == "20240201-20240229"
    assert call("edi_period", "2024-02-01T08:00:00Z", "20240229") == "20240201-20240229"
    assert call("edi_period", "2024-02-01", None) is None
    assert call("period_start", "20240201-20240229") == "2024-02-01"
    assert call("period_end", "20240201-20240229", "102") == "20240229"
    assert call("period_end", None) is None
    with pytest.raises(FunctionError, match="ends before it starts"):
        call("period_start", "20240229-20240201")
    with pytest.raises(FunctionError, match="end 2024-01-01 is before its start 2024-02-01"):
        call("edi_period", "2024-02-01", "2024-01-01")
    with pytest.raises(FunctionError, match="not an EDIFACT 718 period"):
        call("period_start", "20240201")
    with pytest.raises(FunctionError, match="not a date in format '102'"):
        call("period_end", "20230201-20230229")


# -- aggregates -------------------------------------------------------------------------------


def test_sum_is_exact_and_ignores_nulls() -> None:
    assert call("sum", ["0.1", "0.2"]) == Decimal("0.3")
    assert call("sum", ["1.10", 2.2, None, "", 3]) == Decimal("6.30")
    assert call("sum", ["1.234,50", "0,50"]) == Decimal("1235.00")
    assert call("sum", []) == 0
    assert call("sum", None) == 0
    assert call("sum", "4.5") == Decimal("4.5")


def test_a_sum_of_whole_numbers_is_what_decimals_give() -> None:
    """Small whole numbers are added as ints; big ones as Decimals (28 digits), as before."""
    assert call("sum", [3, -1, 10**17]) == Decimal(10**17 + 2)
    by_decimals = Decimal(0) + Decimal(10**30) + Decimal(1)
    assert str(call("sum", [10**30, 1])) == str(by_decimals) == "1.000000000000000000000000000E+30"
    with pytest.raises(FunctionError, match="item 0: a whole number is out of range"):
        call("sum", [10**401])


def test_count_min_max_avg() -> None:
    assert call("count", ["a", None, "b", ""]) == 3
    assert call("count", []) == 0
    assert call("count", None) == 0
    assert call("min", ["10", "9.5", None]) == Decimal("9.5")
    assert call("max", ["10", "9.5", None]) == Decimal("10")
    assert call("max", [-1, "-2"]) == Decimal(-1)
    assert call("min", []) is None
    assert call("max", [None]) is None
    assert call("avg", ["1", "2", None]) == Decimal("1.5")
    assert call("avg", ["10", "20", "30"]) == Decimal(20)
    assert call("avg", []) is None


def test_aggregates_name_the_bad_item() -> None:
    with pytest.raises(FunctionError, match="item 1: value 'x' is not a number"):
        call("sum", ["1", "x"])
    with pytest.raises(FunctionError, match="item 0 is a list"):
        call("max", [[1]])
    with pytest.raises(FunctionError, match="not an object"):
        call("avg", {"a": 1})


# -- misc -------------------------------------------------------------------------------------


def test_uuid() -> None:
    first, second = call("uuid"), call("uuid")
    assert uuid.UUID(first).version == 4
    assert first != second


def test_now_uses_the_run_time(context: FakeContext) -> None:
    assert call("now", ctx=context) == "2024-07-01T10:00:00+00:00"
    assert call("now", "102", ctx=context) == "20240701"
    assert call("now", "203", "Europe/Berlin", ctx=context) == "202407011200"


def test_coalesce() -> None:
    assert call("coalesce", None, "", "x") == ""
    assert call("coalesce", None, None, "x") == "x"
    assert call("coalesce", None) is None
    assert call("coalesce") is None


def test_lookup(context: FakeContext) -> None:
    assert call("lookup", "units", "kg", ctx=context) == "KGM"
    assert call("lookup", "units", "KG", ctx=context) == "KGM"  # case-insensitive fallback
    assert call("lookup", "units", "box", "PK", ctx=context) == "PK"
    assert call("lookup", "units", "box", None, ctx=context) is None
    assert call("lookup", "units", None, ctx=context) is None
    assert call("lookup", "many", "c03", ctx=context) == 3
    assert call("lookup", "fallback", "nope", ctx=context) == "ZZ"


def test_lookup_unknown_code_lists_known_codes(context: FakeContext) -> None:
    with pytest.raises(FunctionError) as info:
        call("lookup", "units", "XYZ", ctx=context)
    assert str(info.value) == "code 'XYZ' is not in code list 'units' (known: g, kg, pcs)"
    with pytest.raises(FunctionError) as info:
        call("lookup", "many", "XYZ", ctx=context)
    assert str(info.value) == (
        "code 'XYZ' is not in code list 'many' "
        "(known: c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, ... (15 in all))"
    )
    with pytest.raises(FunctionError, match="unknown code list 'nope'"):
        call("lookup", "nope", "x", ctx=context)


# -- code lists -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    codelists.clear_cache()


def test_yaml_plain_and_structured(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    write("lists/a.yaml", "kg: KGM\n1: one\n'02': two\n")
    write("lists/b.yml", "codes: {x: X}\ndefault: D\ndescription: with a default\n")
    write("lists/c.csv", 'code,value\nDE,Germany\n\n"X,Y","a, b"\n')
    dirs = [tmp_path / "lists"]
    assert codelists.available(dirs) == {"a", "b", "c"}
    a = codelists.load(dirs, "a")
    assert dict(a) == {"kg": "KGM", "1": "one", "02": "two"}
    assert a.default is None
    b = codelists.load(dirs, "b")
    assert dict(b) == {"x": "X"}
    assert b.default == "D"
    c = codelists.load(dirs, "c")
    assert dict(c) == {"DE": "Germany", "X,Y": "a, b"}


def test_a_code_named_codes_is_still_a_plain_list(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("odd.yaml", "codes: C\nother: O\n")
    assert dict(codelists.load([tmp_path], "odd")) == {"codes": "C", "other": "O"}


def test_first_directory_wins_and_cache_follows_mtime(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write("one/u.yaml", "kg: KGM\n")
    write("two/u.yaml", "kg: OTHER\n")
    dirs = [tmp_path / "one", tmp_path / "two", tmp_path / "missing"]
    first = codelists.load(dirs, "u")
    assert first["kg"] == "KGM"
    assert codelists.load(dirs, "u") is first
    path.write_text("kg: CHANGED\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert codelists.load(dirs, "u")["kg"] == "CHANGED"


def test_yaml_duplicate_codes_name_the_line(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write("d.yaml", "kg: KGM\ng: GRM\nkg: OTHER\n")
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "d")
    assert f"{path}:3" in str(info.value)
    assert "duplicate key 'kg' (first at line 1)" in str(info.value)
    write("e.yaml", "1: one\n'1': uno\n")
    with pytest.raises(ConfigError, match="duplicate code '1'"):
        codelists.load([tmp_path], "e")


def test_yaml_problems(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write("n.yaml", "DE: Germany\nNO: Norway\n")
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "n")
    assert f"{path}:2" in str(info.value)
    assert "quote it" in str(info.value)
    write("list.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="non-empty mapping"):
        codelists.load([tmp_path], "list")
    write("nested.yaml", "a: [b, c]\n")
    with pytest.raises(ConfigError, match="must be a single value"):
        codelists.load([tmp_path], "nested")
    write("broken.yaml", "a: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        codelists.load([tmp_path], "broken")


def test_csv_problems_name_the_line(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write("c.csv", "code,value\nDE,Germany\nAT,Austria,extra\nDE,Deutschland\n,x\n")
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "c")
    text = str(info.value)
    assert f"{path}:3: expected 2 columns (code,value), found 3" in text
    assert f"{path}:4: duplicate code 'DE' (first at line 2)" in text
    assert f"{path}:5: blank code" in text
    write("h.csv", "code,value\n")
    with pytest.raises(ConfigError, match="needs a header row"):
        codelists.load([tmp_path], "h")


def test_a_csv_with_more_columns_gives_objects(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("carriers.csv", "code,scac,name\ndhl,DHLC,DHL Paket\nups,UPSN,UPS Standard\n")
    found = codelists.load([tmp_path], "carriers")
    assert found["dhl"] == {"scac": "DHLC", "name": "DHL Paket"}
    write("codelists/carriers.csv", "code,scac,name\ndhl,DHLC,DHL Paket\n")
    mapping = parse_mapping(
        "name: t\nfields:\n  scac: \"lookup('carriers', carrier).scac\"\n",
        str(tmp_path / "t.yaml"),
    )
    assert mapping.apply({"carrier": "DHL"}) == {"scac": "DHLC"}
    path = write("bad.csv", "code,scac,name\ndhl,DHLC\n")
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "bad")
    assert f"{path}:2: expected 3 columns (code,scac,name), found 2" in str(info.value)


def test_a_yaml_code_list_with_several_columns(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write(
        "codelists/carriers.yaml",
        "dhl: {scac: DHLC, name: DHL Paket, days: 2}\nups:\n  scac: UPSN\n  name: UPS\n",
    )
    found = codelists.load([tmp_path / "codelists"], "carriers")
    assert found["dhl"] == {"scac": "DHLC", "name": "DHL Paket", "days": 2}
    assert found["ups"] == {"scac": "UPSN", "name": "UPS"}
    write(
        "codelists/zones.yml",
        "codes: {DE: {zone: EU, vat: 19}}\ndefault: {zone: WORLD, vat: 0}\n",
    )
    mapping = parse_mapping(
        "name: t\nfields:\n"
        "  scac: \"lookup('carriers', carrier).scac\"\n"
        "  days: \"lookup('carriers', carrier).days + 1\"\n"
        "  zone: \"lookup('zones', country).zone\"\n",
        str(tmp_path / "t.yaml"),
    )
    assert mapping.apply({"carrier": "DHL", "country": "FR"}) == {
        "scac": "DHLC",
        "days": 3,
        "zone": "WORLD",
    }


def test_yaml_columns_problems_name_the_line(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write(
        "c.yaml",
        "dhl: {scac: DHLC}\nups: UPSN\ngls: {scac: [a, b]}\ndpd: {}\nfedex: {1: x}\n",
    )
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "c")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2: code 'ups' is not an object of columns, as other codes of the list are "
        "(give every code an object of values ({scac: DHLC, name: DHL}), or none)",
        f"{path}:3: code 'gls': column 'scac' must be a single value",
        f"{path}:4: code 'dpd' has no columns",
        f"{path}:5: code 'fedex': a column name must be a non-empty text, not 1",
    ]


def test_json_code_lists(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    write("lists/units.json", '{"kg": "KGM", "pcs": "PCE", "1": 1}')
    write("lists/zones.json", '{"codes": {"DE": "EU"}, "default": "WORLD"}')
    write("lists/carriers.json", '{"dhl": {"scac": "DHLC", "name": "DHL Paket"}}')
    dirs = [tmp_path / "lists"]
    assert codelists.available(dirs) == {"units", "zones", "carriers"}
    assert dict(codelists.load(dirs, "units")) == {"kg": "KGM", "pcs": "PCE", "1": 1}
    zones = codelists.load(dirs, "zones")
    assert (dict(zones), zones.default) == ({"DE": "EU"}, "WORLD")
    assert codelists.load(dirs, "carriers")["dhl"] == {"scac": "DHLC", "name": "DHL Paket"}
    write("codelists/carriers.json", '\ufeff{"dhl": {"scac": "DHLC"}}')  # Excel's BOM too
    mapping = parse_mapping(
        "name: t\nfields:\n  scac: \"lookup('carriers', carrier).scac\"\n",
        str(tmp_path / "t.yaml"),
    )
    assert mapping.apply({"carrier": "dhl"}) == {"scac": "DHLC"}


def test_json_code_list_problems(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write("broken.json", '{"kg": "KGM",\n "g": }')
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "broken")
    assert str(info.value).startswith(
        f"{path}:2:7: code list 'broken' is not valid JSON: Expecting value"
    )
    write("twice.json", '{"kg": "KGM", "kg": "OTHER"}')
    with pytest.raises(ConfigError, match="names the key 'kg' twice"):
        codelists.load([tmp_path], "twice")
    write("list.json", '["kg"]')
    with pytest.raises(ConfigError, match="non-empty object"):
        codelists.load([tmp_path], "list")
    path = write("values.json", '{"kg": ["KGM"], " ": "x", "dhl": {"scac": "D"}}')
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "values")
    assert [str(p) for p in info.value.problems] == [
        f"{path}: code 'kg' is not an object of columns, as other codes of the list are "
        "(give every code an object of values ({scac: DHLC, name: DHL}), or none)",
        f"{path}: blank code",
    ]
    write("u.json", "{}")
    write("u.yaml", "a: b\n")
    with pytest.raises(ConfigError, match=re.escape("defined twice: u.yaml, u.json")):
        codelists.load([tmp_path], "u")


def test_unknown_ambiguous_and_bad_names(write: Callable[[str, str], Path], tmp_path: Path) -> None:
    write("u.yaml", "a: b\n")
    write("u.csv", "code,value\na,b\n")
    write("v.yaml", "a: b\n")
    with pytest.raises(ConfigError, match=re.escape("defined twice: u.yaml, u.csv")):
        codelists.load([tmp_path], "u")
    with pytest.raises(ConfigError) as info:
        codelists.load([tmp_path], "w")
    assert "unknown code list 'w'" in str(info.value)
    assert "known: u, v" in str(info.value)
    with pytest.raises(ConfigError, match="not a code list name"):
        codelists.load([tmp_path], "../v")


# -- shipped code lists -----------------------------------------------------------------------


def test_shipped_code_lists_load() -> None:
    dirs = [CODELISTS]
    assert {"units", "countries", "carriers"} <= codelists.available(dirs)
    units = codelists.load(dirs, "units")
    assert units["kg"] == "KGM"
    assert units["g"] == "GRM"
    assert units["l"] == "LTR"
    assert units["m"] == "MTR"
    assert units["box"] == "BX"
    assert units["pack"] == "PK"
    assert {units["pcs"], units["piece"], units["stk"]} == {"PCE"}
    countries = codelists.load(dirs, "countries")
    assert len(countries) >= 30
    assert countries["DE"] == "Germany"
    assert countries["NO"] == "Norway"
    assert {"US", "CA", "GB", "CH", "FR", "IT", "ES", "PL"} <= set(countries)
    assert all(re.fullmatch("[A-Z]{2}", code) for code in countries)
    carriers = codelists.load(dirs, "carriers")
    for name in ("dhl", "dpd", "ups", "gls", "hermes", "fedex", "tnt", "db schenker"):
        assert carriers[name], name
    assert "EXAMPLE DATA" in (CODELISTS / "carriers.yaml").read_text(encoding="utf-8")


def test_lookup_through_a_context_backed_by_files() -> None:
    lists = {name: codelists.load([CODELISTS], name) for name in ("units", "countries")}
    context = FakeContext(lists, NOW)
    assert call("lookup", "units", "Stk", ctx=context) == "PCE"
    assert call("lookup", "countries", "CH", ctx=context) == "Switzerland"


# -- documentation ----------------------------------------------------------------------------


def test_the_doc_lists_every_function() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "## Functions" in text
    headings = set(re.findall(r"^#### `([a-z_]+)\(", text, re.MULTILINE))
    missing = {fn.name for fn in ours()} - headings
    assert not missing, f"docs/mapping-functions.md lacks {sorted(missing)}"
    for fn in ours():
        assert fn.doc in text, f"the doc of {fn.name} is out of date"
