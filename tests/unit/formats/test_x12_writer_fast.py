"""The X12 writer's fast path writes the very bytes (or the very error) the careful,
value-by-value path writes: differential, over trees hypothesis builds around separators,
line breaks, trailing empty values and values that are not text."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import EncodeError
from hub.formats.x12 import writer
from hub.formats.x12.envelope import Separators
from hub.formats.x12.writer import write_tree

PLAIN = st.text(st.sampled_from(list("AZaz09 .-")), max_size=4)
SPECIAL = st.text(st.sampled_from(list("*>~^|:!\n\r\u00e9")), max_size=2)
TEXT = st.one_of(PLAIN, PLAIN, PLAIN, st.tuples(PLAIN, SPECIAL, PLAIN).map("".join))
SCALAR = st.one_of(TEXT, TEXT, TEXT, st.none(), st.integers(-5, 10**6), st.sampled_from([1.5]))
ODD = st.sampled_from([True, float("inf"), {"repeat": ["A", "B"]}, {"x": 1}, ["A", True]])


def _messages(odd: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Transaction sets of plain segments, or (``odd``) with what the careful path
    refuses or writes its own way. Half the time nothing odd."""
    scalar = st.one_of(SCALAR, ODD) if odd else SCALAR
    element = st.one_of(scalar, st.lists(scalar, max_size=4))
    tags = ["BEG", "PO1", "N1", "REF", "CTT"] + (["po1", 7] if odd else [])
    segment = st.tuples(st.sampled_from(tags), st.lists(element, max_size=5)).map(
        lambda t: [t[0], *t[1]]
    )
    if odd:
        segment = st.one_of(segment, st.sampled_from([[], "BEG", None]))
    message = st.fixed_dictionaries(
        {"type": st.just("850"), "segments": st.lists(segment, max_size=6)}
    )
    return st.lists(message, min_size=1, max_size=3)


@settings(max_examples=600, deadline=None)
@given(
    messages=st.one_of(_messages(False), _messages(True)),
    separators=st.sampled_from(
        [None, Separators(), Separators(element="|", component=":", repetition="^", segment="!")]
    ),
    version=st.sampled_from(["00401", "00501"]),
)
def test_the_fast_path_writes_what_the_careful_path_writes(
    messages: list[dict[str, Any]], separators: Separators | None, version: str
) -> None:
    header = ["00", "", "00", "", "ZZ", "SENDER", "ZZ", "RECEIVER", "240115", "1030"]
    header += ["U" if version == "00401" else "^", version, "000000001", "0", "P", ">"]
    tree = {
        "header": header,
        "separators": {"repetition": "^"} if version >= "00402" else None,
        "groups": [
            {
                "header": ["PO", "S", "R", "20240115", "1030", "1", "X", version + "0"],
                "messages": messages,
            }
        ],
    }
    if separators is not None and version < "00402":
        separators = Separators(
            element=separators.element, component=separators.component, segment=separators.segment
        )
    fast = _write(tree, separators)
    with mock.patch.object(writer._Writer, "many", return_value=None):
        careful = _write(tree, separators)
    assert fast == careful


def _write(tree: dict[str, Any], separators: Separators | None) -> tuple[str, Any]:
    try:
        return "bytes", write_tree(tree, separators=separators)
    except EncodeError as exc:
        return "error", (exc.message, exc.where, exc.hint)


def test_a_large_clean_transaction_set_takes_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path is really used (else the differential test proves nothing)."""
    taken: list[int] = []
    many = writer._Writer.many

    def counting(self: Any, segments: list[Any]) -> list[str] | None:
        lines = many(self, segments)
        if lines is not None:
            taken.append(len(lines))
        return lines

    monkeypatch.setattr(writer._Writer, "many", counting)
    segments = [["PO1", str(n), 2, "EA", None, None, "VP", f"SKU-{n}", None] for n in range(50)]
    header = ["00", "", "00", "", "ZZ", "S", "ZZ", "R", "240115", "1030", "U", "00401"]
    header += ["000000001", "0", "P", ">"]
    tree = {
        "header": header,
        "groups": [
            {
                "header": ["PO", "S", "R", "20240115", "1030", "1", "X", "004010"],
                "messages": [{"type": "850", "segments": segments}],
            }
        ],
    }
    data = write_tree(tree)
    assert b"PO1*49*2*EA***VP*SKU-49~" in data
    assert taken == [51]  # ST and the 50 lines in one go
