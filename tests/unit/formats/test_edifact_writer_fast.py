"""The EDIFACT writer's fast path writes the very bytes (or the very error) the careful,
value-by-value path writes: differential, over trees hypothesis builds around the
characters that need escaping, folding or refusing."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import EncodeError
from hub.formats.edifact import writer
from hub.formats.edifact.syntax import Separators
from hub.formats.edifact.writer import write_interchange

PLAIN = st.text(st.sampled_from(list("AZaz09 .-")), max_size=4)
SPECIAL = st.text(
    st.sampled_from(list("+:'?*!|~\n\x1c\x1f\u00e9\u0142\u00df\u2019\u20ac")), max_size=2
)
#: Mostly plain text (a message is written in one go only when all of it is clean), and
#: now and then a separator, a release character or a letter to fold somewhere in it.
TEXT = st.one_of(PLAIN, PLAIN, PLAIN, st.tuples(PLAIN, SPECIAL, PLAIN).map("".join))
SCALAR = st.one_of(
    TEXT, TEXT, TEXT, st.none(), st.integers(-5, 10**6), st.sampled_from([1.5, 1e20])
)
ODD = st.sampled_from(
    [True, False, float("inf"), float("nan"), {"repeat": ["A", "B"]}, ["A", True]]
)


def _messages(odd: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Messages of plain segments, or (``odd``) with things the careful path refuses or
    writes its own way: booleans, infinities, repetitions, bad tags, segments that are not
    lists. Half the time nothing odd, so most trees are written, not refused."""
    scalar = st.one_of(SCALAR, ODD) if odd else SCALAR
    element = st.one_of(scalar, st.lists(scalar, max_size=4))
    tags = ["BGM", "LIN", "QTY", "NAD", "FTX"] + (["lin", 7] if odd else [])
    segment = st.tuples(st.sampled_from(tags), st.lists(element, max_size=5)).map(
        lambda t: [t[0], *t[1]]
    )
    if odd:
        segment = st.one_of(segment, st.sampled_from([[], "BGM", None]))
    message = st.fixed_dictionaries(
        {
            "reference": st.sampled_from(["1", "M2"]),
            "type": st.just("ORDERS"),
            "version": st.just("D"),
            "release": st.just("96A"),
            "agency": st.just("UN"),
            "segments": st.lists(segment, max_size=6),
        }
    )
    return st.lists(message, min_size=1, max_size=3)


MESSAGES = st.one_of(_messages(False), _messages(True))
SEPARATORS = st.sampled_from(
    [
        None,
        Separators(),
        Separators(component="*", element="|", release="!", segment="~"),
        Separators.level_b_defaults(),
        Separators.version_4_defaults(),
    ]
)


def _write(tree: dict[str, Any], **options: Any) -> tuple[str, Any]:
    try:
        return "bytes", write_interchange(tree, **options)
    except EncodeError as exc:
        return "error", (exc.message, exc.where, exc.hint)


@settings(max_examples=600, deadline=None)
@given(
    messages=MESSAGES,
    charset=st.sampled_from([None, "UNOA", "UNOB", "UNOC", "UNOW", "UNOY"]),
    version=st.sampled_from(["3", "4"]),
    separators=SEPARATORS,
    transliterate=st.booleans(),
)
def test_the_fast_path_writes_what_the_careful_path_writes(
    messages: list[dict[str, Any]],
    charset: str | None,
    version: str,
    separators: Separators | None,
    transliterate: bool,
) -> None:
    tree = {
        "syntax": {"identifier": charset or "UNOC", "version": version},
        "header": [
            ["UNOC", version],
            ["SENDER", "14"],
            ["RECEIVER", "14"],
            ["240115", "1030"],
            "R1",
        ],
        "messages": messages,
    }
    options = {"charset": charset, "separators": separators, "transliterate_text": transliterate}
    fast = _write(tree, **options)
    with mock.patch.object(writer._Writer, "many", return_value=None):
        careful = _write(tree, **options)
    assert fast == careful


def test_a_large_clean_message_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is really used (else the differential test proves nothing)."""
    taken: list[int] = []
    many = writer._Writer.many

    def counting(self: Any, segments: list[Any]) -> list[str] | None:
        lines = many(self, segments)
        if lines is not None:
            taken.append(len(lines))
        return lines

    monkeypatch.setattr(writer._Writer, "many", counting)
    segments = [["LIN", str(n), "", [f"SKU-{n}", "SA"]] for n in range(100)]
    tree = {"header": [["UNOC", "3"], "S", "R", ["240115", "1030"], "R1"]}
    tree["messages"] = [
        {"type": "ORDERS", "version": "D", "release": "96A", "agency": "UN", "segments": segments}
    ]
    data = write_interchange(tree, transliterate_text=True)
    assert b"LIN+99++SKU-99:SA'" in data
    assert taken == [1, 101, 1, 1]  # UNB; UNH and the 100 lines in one go; UNT; UNZ
