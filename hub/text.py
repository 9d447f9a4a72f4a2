"""Text the store can always keep: no NUL, no lone surrogates.

A partner's error text, a header or a document value can hold characters that a database
refuses: PostgreSQL's ``text`` cannot hold NUL (U+0000), and no UTF-8 column (SQLite's or
PostgreSQL's) can hold a lone surrogate (U+D800 to U+DFFF, which a ``\\ud800`` JSON escape
or a hostile ``charset`` produces). One such character would make a whole write fail, so
every text the store writes passes through here first and each of them becomes U+FFFD.

Keys are identities (an idempotency key decides whether an order is new), so a key that
needs cleaning also gets a digest of the exact original: two different keys never become
the same key.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = ["REPLACEMENT", "clean_json", "clean_key", "clean_text", "is_clean"]

REPLACEMENT = "\ufffd"
_REFUSED = re.compile("[\x00\ud800-\udfff]")
#: ``~`` and 16 hex digits of SHA-256 appended to a key that had to be cleaned.
_DIGEST_LENGTH = 17


def is_clean(text: str) -> bool:
    """Whether every database the hub supports can store ``text`` as it is."""
    return _REFUSED.search(text) is None


def clean_text(text: str) -> str:
    """``text`` with NUL and every lone surrogate replaced by U+FFFD (the same if clean)."""
    if text.isascii() and "\x00" not in text:  # the common case, without a regex
        return text
    return _REFUSED.sub(REPLACEMENT, text)


def clean_json(value: Any) -> Any:
    """A JSON value (dicts, lists, strings, numbers) with every string in it cleaned,
    keys included; other values are returned as they are."""
    kind = type(value)
    if kind is dict:  # exact types first: every event's data passes here
        return {
            (k if type(k) is not str or _plain(k) else clean_text(k)): (
                v if type(v) in _AS_THEY_ARE else clean_json(v)
            )
            for k, v in value.items()
        }
    if kind is str:
        return value if _plain(value) else _REFUSED.sub(REPLACEMENT, value)
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_THEY_ARE else clean_json(v) for v in value]
    if kind in _AS_THEY_ARE:
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(item) for item in value]
    return value


#: Values :func:`clean_json` returns as they are, by exact type.
_AS_THEY_ARE = frozenset({int, float, bool, type(None)})


def _plain(text: str) -> bool:
    return text.isascii() and "\x00" not in text


def clean_key(key: str, *, max_length: int = 255) -> str:
    """A key the store can keep that is still different from every other key.

    A clean key is returned as it is. Otherwise the cleaned text, cut to leave room, is
    followed by ``~`` and a digest of the original, so two keys that differ only in the
    characters replaced stay two keys.
    """
    if is_clean(key):
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{clean_text(key)[: max_length - _DIGEST_LENGTH]}~{digest}"
