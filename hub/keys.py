"""Business keys (idempotency, ordering, correlation) as the store can hold them.

Two rules, the same for every kind of key, so no key is ever silently cut:

- A key with a character the database cannot store (NUL, which PostgreSQL refuses, or a lone
  UTF-16 surrogate such as JSON's ``"\\ud800"``, which is not text at all) is refused: the
  sender gets a 400 that names the key and the character. :func:`key_problem` says why.
- A key longer than :data:`KEY_LIMIT` characters (the column's size) is stored as its first
  :data:`KEPT` characters, ``…sha256:`` and the SHA-256 of the whole key (:func:`fit_key`).
  Two different keys stay different (up to a SHA-256 collision), equal keys stay equal, and
  the start stays readable. Short keys are stored as they are, so existing lookups still
  work; a short key that already contains the marker is digested too, so it can never
  pose as another key's digest.

Cutting a key to the column's size (what the hub did before) made two different orders
whose keys share a long prefix one message: the second was answered ``duplicate`` and
dropped.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["DIGEST_MARK", "KEPT", "KEY_LIMIT", "fit_key", "key_problem"]

#: The most characters a key column holds (``String(255)``).
KEY_LIMIT = 255
#: What separates the kept start of a long key from the digest of all of it.
DIGEST_MARK = "\u2026sha256:"
#: How much of a long key is kept in front of the digest: the result is exactly KEY_LIMIT.
KEPT = KEY_LIMIT - len(DIGEST_MARK) - 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be stored (``"contains a NUL character"``), or None if it can."""
    found = _UNSTORABLE.search(key)
    if found is None:
        return None
    char = found.group()
    position = f"at character {found.start() + 1}"
    if char == "\x00":
        return f"contains a NUL character {position}"
    return f"contains a lone surrogate U+{ord(char):04X} {position}, which is not valid text"


def fit_key(key: str) -> str:
    """``key`` as stored: itself if it fits, else its start, the marker and its SHA-256.

    ``key`` must have passed :func:`key_problem` (a lone surrogate cannot be hashed as UTF-8).
    """
    if len(key) <= KEY_LIMIT and DIGEST_MARK not in key:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[:KEPT]}{DIGEST_MARK}{digest}"
