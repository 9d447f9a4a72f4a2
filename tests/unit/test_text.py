"""hub.text: every text the store writes is one SQLite and PostgreSQL take; keys stay apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.text import REPLACEMENT, clean_json, clean_key, clean_text, is_clean

#: Every code point, surrogates and NUL included: what a JSON escape or a charset can give.
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    assert clean_text("a\x00b\ud800c\udfffd") == f"a{REPLACEMENT}b{REPLACEMENT}c{REPLACEMENT}d"


def test_clean_text_is_returned_as_it_is() -> None:
    for text in ("", "plain", "Zo\u00eb \U0001f950", "tab\tnew\nline\x01"):
        assert clean_text(text) == text
        assert is_clean(text)


@given(ANY_TEXT)
def test_cleaned_text_always_encodes_as_utf8_without_nul(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # a lone surrogate would raise here
    assert len(cleaned) == len(text)


def test_json_values_are_cleaned_keys_and_all() -> None:
    value = {"a\x00": ["x\ud800", 1, 2.5, None, True, {"n": "\x00"}], "ok": "fine"}
    assert clean_json(value) == {
        f"a{REPLACEMENT}": [f"x{REPLACEMENT}", 1, 2.5, None, True, {"n": REPLACEMENT}],
        "ok": "fine",
    }


@given(ANY_TEXT, ANY_TEXT)
def test_two_different_keys_stay_different(a: str, b: str) -> None:
    if a != b:
        assert clean_key(a) != clean_key(b)
    assert is_clean(clean_key(a))


def test_a_clean_key_is_kept_and_a_dirty_one_fits_its_column() -> None:
    assert clean_key("PO-1001") == "PO-1001"
    long = "\x00" + "k" * 300
    cleaned = clean_key(long, max_length=255)
    assert len(cleaned) == 255
    assert cleaned.startswith(REPLACEMENT + "k")
    assert clean_key("a\x00") != clean_key("a\ud800") != clean_key(f"a{REPLACEMENT}")
