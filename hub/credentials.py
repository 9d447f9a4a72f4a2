"""API keys, their scopes, and the request headers that carry credentials.

A key is ``hub_<id>_<secret>``: the 12-hex ``id`` finds its row (it is not secret), the
whole token is stored only as its SHA-256 (the secret is 256 random bits, so a plain hash is
as strong as a slow one and lets every request be checked in microseconds) and compared in
constant time. The token is shown once, when ``hub keys create`` makes it.

Scopes say what a key may do (docs/security.md)::

    ingest          POST /ingest/{route} on every route   (ingest:ROUTE: that route only)
    read            message metadata and history, dead letters, mappings, audit
    read:payload    bodies and outputs: personal data
    operate         replay, discard, preview
    metrics         GET /metrics
    admin           everything above, and GET /keys

Headers that carry credentials (``Authorization``, cookies, API keys, webhook signatures)
are never stored, logged or shown: :func:`is_credential_header` tells them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable

__all__ = [
    "ADMIN",
    "INGEST",
    "METRICS",
    "OPERATE",
    "READ",
    "READ_PAYLOAD",
    "SCOPES",
    "SENSITIVE",
    "TokenParts",
    "grants",
    "hash_token",
    "ingest_scope",
    "is_credential_header",
    "is_loopback",
    "new_token",
    "parse_token",
    "same_hash",
    "scope_problem",
]

INGEST = "ingest"
READ = "read"
READ_PAYLOAD = "read:payload"
OPERATE = "operate"
METRICS = "metrics"
ADMIN = "admin"

#: Every scope a key or anonymous caller may be given (plus ``ingest:ROUTE``).
SCOPES = (INGEST, READ, READ_PAYLOAD, OPERATE, METRICS, ADMIN)
#: Never granted to anonymous callers on an address other than loopback.
SENSITIVE = frozenset({READ_PAYLOAD, OPERATE, ADMIN})

_ROUTE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOKEN = re.compile(r"^hub_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
_PREFIX = "hub_"


def ingest_scope(route: str) -> str:
    """The scope that lets a caller post to one route."""
    return f"{INGEST}:{route}"


def scope_problem(scope: str) -> str | None:
    """Why ``scope`` is not a scope (None: it is one)."""
    if scope in SCOPES:
        return None
    head, colon, route = scope.partition(":")
    if head == INGEST and colon and _ROUTE.match(route):
        return None
    return f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)} and ingest:ROUTE"


def grants(held: Iterable[str], needed: str) -> bool:
    """Whether scopes ``held`` allow what needs ``needed``: ``admin`` allows everything,
    ``ingest`` every ``ingest:ROUTE``."""
    held = set(held)
    if needed in held or ADMIN in held:
        return True
    return needed.startswith(INGEST + ":") and INGEST in held


class TokenParts:
    """A token split into its public id and the whole token (to be hashed)."""

    __slots__ = ("key_id", "token")

    def __init__(self, key_id: str, token: str) -> None:
        self.key_id = key_id
        self.token = token


def new_token() -> TokenParts:
    """A fresh key: 12 hex digits of id and 256 random bits of secret."""
    key_id = secrets.token_hex(6)
    return TokenParts(key_id, f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}")


def parse_token(token: str) -> TokenParts | None:
    """The parts of a well-formed token, or None (then it is wrong, whatever it is)."""
    found = _TOKEN.match(token)
    return None if found is None else TokenParts(found.group("id"), token)


def hash_token(token: str) -> str:
    """What the store keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def same_hash(given: str, stored: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(given.encode(), stored.encode())


#: Header names that carry a credential: Authorization, Proxy-Authorization, Cookie,
#: X-API-Key, any *-Signature (X-WC-Webhook-Signature, Stripe-Signature, X-Hub-Signature-256),
#: Shopify's X-Shopify-Hmac-Sha256, tokens, secrets, passwords, sessions.
_CREDENTIAL = re.compile(
    r"auth|cookie|signature|hmac|secret|token|passw|session|api[-_]?key|csrf|xsrf", re.IGNORECASE
)


def is_credential_header(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a header (by name, any case) carries a credential, by the built-in rule or
    because the config names it in ``extra`` (``auth.secret_headers``)."""
    if _CREDENTIAL.search(name):
        return True
    lowered = name.lower()
    return any(lowered == other.lower() for other in extra)


def is_loopback(host: str) -> bool:
    """Whether a server bound to ``host`` is reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything
