"""Payloads encrypted at rest: bodies and outputs, with keys that can be rotated.

A payload holds personal data (names, addresses). With ``store.encryption.keys`` set (from the
environment: ``${HUB_PAYLOAD_KEYS}``), every body and output is written as a Fernet token
(AES-128-CBC and HMAC-SHA256, from the ``cryptography`` library) and the row is marked
``sealed``. The keys are a list, newest first: the first encrypts, all of them decrypt. So a
rotation needs no downtime:

1. generate a key (``hub db new-payload-key``) and put it first in the list; restart the
   processes one by one: old rows are still read with the old keys;
2. ``hub db reseal`` re-encrypts every stored payload with the newest key (rows written
   without a key too), a batch per transaction, while the hub runs;
3. drop the old key from the list.

A row written without encryption stays readable after encryption is turned on (it is not
``sealed``); a sealed row without the keys is a :class:`~hub.errors.StoreError` that says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.errors import ConfigError, StoreError

__all__ = ["Sealer", "new_key"]


def new_key() -> str:
    """A fresh key for ``store.encryption.keys``."""
    return Fernet.generate_key().decode("ascii")


class Sealer:
    """Encrypts with the first key, decrypts with any; ``Sealer([])`` keeps payloads plain."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        fernets: list[Fernet] = []
        for n, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise ConfigError(
                    f"store.encryption.keys: key {n} is not a Fernet key",
                    where="store.encryption.keys",
                    hint="a key is 32 random bytes in URL-safe base64 (44 characters); "
                    "make one with `hub db new-payload-key`",
                ) from None
        self._fernet = MultiFernet(fernets) if fernets else None

    @property
    def active(self) -> bool:
        """Whether payloads written now are encrypted."""
        return self._fernet is not None

    def seal(self, payload: bytes) -> bytes:
        """``payload`` as stored: encrypted with the newest key (as it is without keys)."""
        return payload if self._fernet is None else self._fernet.encrypt(payload)

    def open(self, stored: bytes, sealed: bool) -> bytes:
        """The payload a row holds; ``sealed`` is the row's flag."""
        if not sealed:
            return stored
        if self._fernet is None:
            raise StoreError(
                "this payload is encrypted and the hub has no key for it",
                hint="set store.encryption.keys (the environment variable it names) to the "
                "keys the payloads were written with",
            )
        try:
            return self._fernet.decrypt(stored)
        except InvalidToken:
            raise StoreError(
                "this payload is encrypted with a key the hub does not have",
                hint="keep every key payloads were written with in store.encryption.keys "
                "until `hub db reseal` has re-encrypted them with the newest",
            ) from None

    def reseal(self, stored: bytes, sealed: bool) -> bytes:
        """``stored`` re-encrypted with the newest key (a plain payload encrypted)."""
        if self._fernet is None:
            raise ConfigError("store.encryption.keys is not set", where="store.encryption")
        if not sealed:
            return self._fernet.encrypt(stored)
        try:
            return self._fernet.rotate(stored)
        except InvalidToken:
            raise StoreError(
                "a payload is encrypted with a key the hub does not have",
                hint="put every key ever used in store.encryption.keys, newest first",
            ) from None
