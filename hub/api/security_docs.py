"""What the OpenAPI document says about keys: the schemes, and each operation's scope.

The scope an operation declares here is the one its :class:`hub.api.auth.GuardedRoute`
enforces (the route writes it into the operation as ``x-hub-scope``), so the document cannot
drift from the checks. An
operation the config opens to anonymous callers also lists the empty requirement ``{}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.api.auth import PUBLIC, SCOPE_EXTENSION
from hub.api.docs import error_answer
from hub.credentials import grants

__all__ = ["BEARER", "HEADER", "declare_security"]

BEARER = "bearerKey"
HEADER = "apiKeyHeader"

_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "hub_<id>_<secret>",
        "description": "An API key made by `hub keys create NAME --scope SCOPE`. Scopes: "
        "ingest (or ingest:ROUTE), read, read:payload, operate, metrics, admin (all).",
    },
    HEADER: {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key, for clients that cannot set Authorization.",
    },
}


def declare_security(document: dict[str, Any], anonymous: Iterable[str]) -> None:
    """Add the security schemes, and per operation its requirement, 401 and 403 answers,
    from the scope its route wrote (``x-hub-scope``)."""
    anonymous = frozenset(anonymous)
    document.setdefault("components", {})["securitySchemes"] = _SCHEMES
    for path in document.get("paths", {}).values():
        for operation in path.values():
            scope = operation.get(SCOPE_EXTENSION)
            if scope is None:
                continue
            if scope == PUBLIC:
                operation["security"] = []  # open to everyone, whatever the config says
                continue
            open_to_all = grants(anonymous, scope)
            operation["security"] = [{BEARER: [scope]}, {HEADER: [scope]}]
            if open_to_all:
                operation["security"].append({})  # this config lets anyone do it
            operation["description"] = (
                operation.get("description", "").rstrip()
                + f"\n\nNeeds an API key with scope `{scope}` (or `admin`)"
                + (", or none: this config grants it to anonymous callers." if open_to_all else ".")
            ).lstrip()
            answers = operation.setdefault("responses", {})
            if "401" in answers:  # ingest: the source's own signature check answers 401 too
                answers["401"]["description"] += " Or: " + error_answer(401)["description"]
                answers["401"].setdefault("headers", error_answer(401)["headers"])
            else:
                answers["401"] = error_answer(401)
            answers["403"] = error_answer(403)
