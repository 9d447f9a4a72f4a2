"""Mapping functions that build EDIFACT segments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.formats.edifact import EdifactCodec
from hub.mapping.functions import FunctionError, lookup


def call(name: str, *args: object) -> object:
    spec = lookup(name)
    assert spec is not None
    return spec.call(*args)


def test_segments_drop_trailing_empties_and_write_numbers_plainly() -> None:
    dtm = call("segment", "DTM", call("composite", "137", "20261120", "102"), None)
    assert dtm == ["DTM", ["137", "20261120", "102"]]
    assert call("segment", "QTY", call("composite", "21", Decimal("2.50"), None)) == [
        "QTY",
        ["21", "2.50"],
    ]
    assert call("segment", "NAD", "BY", None, None, "Zoë") == ["NAD", "BY", "", "", "Zoë"]
    assert call("composite", "PCE") == "PCE"


def test_bad_tags_and_nested_composites_are_refused() -> None:
    with pytest.raises(FunctionError, match="not a segment tag"):
        call("segment", "dtm", "1")
    with pytest.raises(FunctionError, match="cannot itself have components"):
        call("composite", ["a", "b"])


def test_built_segments_encode() -> None:
    tree = {
        "syntax": {"identifier": "UNOC", "version": "3"},
        "header": [["UNOC", "3"], "SHOP", "ERP", ["261120", "1405"], "1"],
        "messages": [
            {
                "type": "ORDERS",
                "version": "D",
                "release": "96A",
                "agency": "UN",
                "reference": "1",
                "segments": call(
                    "compact",
                    call(
                        "array",
                        call("segment", "BGM", "220", "727", "9"),
                        None,
                        call("segment", "DTM", call("composite", "137", "20261120", "102")),
                    ),
                ),
            }
        ],
    }
    text = EdifactCodec().encode(tree).decode("latin-1")
    assert "UNH+1+ORDERS:D:96A:UN'BGM+220+727+9'DTM+137:20261120:102'UNT+4+1'" in text


def test_reading_qualified_segments_and_elements() -> None:
    dtms = [["DTM", ["137", "20240129", "102"]], ["DTM", ["35", "20240201", "102"]]]
    assert call("qualified", dtms, "35") == dtms[1]
    assert call("qualified", dtms, "2") is None
    assert call("qualified", ["BGM", "380", "RE-1"], "380") == ["BGM", "380", "RE-1"]
    groups = [{"NAD": ["NAD", "BY", ["401", "", "9"]]}, {"NAD": ["NAD", "SU", ["409", "", "9"]]}]
    assert call("qualified_group", groups, "NAD", "SU") == groups[1]
    assert call("element", dtms[0], 1, 2) == "20240129"
    assert call("element", ["BGM", "380", "RE-1"], 2) == "RE-1"
    assert call("element", ["QTY", ["47", "48"]], 1, 2) == "48"
    assert call("element", ["QTY", ["47", "48"]], 1, 3) is None
    assert call("element", ["QTY", "47"], 1, 1) == "47"
    assert call("element", None, 1) is None
