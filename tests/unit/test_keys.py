"""Keys are never cut: what cannot be stored is refused, what is too long is fitted."""

from __future__ import annotations

import hashlib

import pytest

from hub.keys import DIGEST_MARK, KEPT, KEY_LIMIT, fit_key, key_problem
from hub.mapping.paths import compile_path
from hub.pipeline.translate import joined_reader


def test_a_short_key_is_stored_as_it_is() -> None:
    for key in ("727", "wc_order_58d2d042d1d", "x" * KEY_LIMIT, "Zoë €"):
        assert fit_key(key) == key


def test_long_keys_sharing_a_prefix_stay_different() -> None:
    first, second = "k" * 300 + "A", "k" * 300 + "B"
    assert fit_key(first) != fit_key(second)
    assert fit_key(first) == fit_key("k" * 300 + "A")  # the same key: the same stored key


def test_a_long_key_keeps_its_start_and_the_digest_of_all_of_it() -> None:
    key = "order-" + "9" * 400
    fitted = fit_key(key)
    assert len(fitted) == KEY_LIMIT
    assert fitted.startswith(key[:KEPT] + DIGEST_MARK)
    assert fitted.endswith(hashlib.sha256(key.encode()).hexdigest())


def test_a_short_key_cannot_pose_as_a_long_keys_digest() -> None:
    long_key = "z" * 300
    forged = fit_key(long_key)  # a sender who knows it sends the stored form itself
    assert len(forged) <= KEY_LIMIT
    assert fit_key(forged) != fit_key(long_key)


def test_a_key_one_past_the_limit_is_fitted() -> None:
    assert fit_key("a" * (KEY_LIMIT + 1)) != "a" * (KEY_LIMIT + 1)
    assert len(fit_key("a" * (KEY_LIMIT + 1))) == KEY_LIMIT


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a\x00b", "contains a NUL character at character 2"),
        ("\ud800", "contains a lone surrogate U+D800 at character 1, which is not valid text"),
        ("ok\udfff", "contains a lone surrogate U+DFFF at character 3, which is not valid text"),
    ],
)
def test_what_the_store_cannot_hold_is_named(key: str, expected: str) -> None:
    assert key_problem(key) == expected


def test_ordinary_text_has_no_problem() -> None:
    for key in ("727", "Zoë", "\U0001f950", "tab\there", ""):
        assert key_problem(key) is None


def test_joined_keys_are_injective_and_need_every_value() -> None:
    read = joined_reader([compile_path("id"), compile_path("date_modified_gmt")])
    assert read({"id": 727, "date_modified_gmt": "2026-11-20T13:06:03"}) == (
        "727/2026-11-20T13:06:03"
    )
    assert read({"id": "a/b", "date_modified_gmt": "c"}) != read(
        {"id": "a", "date_modified_gmt": "b/c"}
    )
    assert read({"id": "a%2Fb", "date_modified_gmt": "c"}) != read(
        {"id": "a/b", "date_modified_gmt": "c"}
    )
    missing = read({"id": 727})
    assert not isinstance(missing, str)  # no key at all rather than a partial one
