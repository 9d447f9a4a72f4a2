"""What the OpenAPI document says about error answers: one helper declares them all.

Every error the API gives has the same JSON shape (:class:`ErrorBody`, written by
:mod:`hub.api.errors`), so an operation names only the statuses it can answer with:
``responses=responses(404, 409)``. A status's standard description (and its headers) lives
here once; an operation may say more about it with ``said={409: "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorBody", "ErrorDetail", "error_answer", "own_validation_errors", "responses"]


class ProblemBody(BaseModel):
    message: str
    where: str | None = None
    hint: str | None = None
    severity: str | None = Field(None, description="`warning` for a problem that does not stop")


class LimitBody(BaseModel):
    name: str = Field(description="the decoding limit, e.g. max_depth (docs/configuration.md)")
    found: int
    maximum: int


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="e.g. bad_request, bad_query, route_not_found, store_error")
    message: str
    where: str | None = Field(None, description="the parameter, file:line or pointer at fault")
    hint: str | None = None
    problems: list[ProblemBody] | None = None
    limit: LimitBody | None = Field(None, description="with limit_exceeded: which limit")


class ErrorBody(BaseModel):
    """What every error answer looks like."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


_RETRY_AFTER = {
    "description": "seconds to wait before sending again (a store that is down, a busy pool)",
    "schema": {"type": "integer", "minimum": 0},
}

#: The standard description of each error status; an operation adds what is its own.
_STANDARD: dict[int, str] = {
    400: "The request cannot be used as it is: a body that is not UTF-8 JSON (or not valid "
    "in the route's format), a filter that cannot work, a value the store cannot hold (a NUL "
    "character); `where` says which.",
    401: "No API key where this needs one, or a key that is not valid (malformed, unknown, "
    "revoked or expired): send `Authorization: Bearer <key>` (docs/security.md).",
    403: "The API key is valid but lacks the scope this needs.",
    404: "No such message or route; the hint lists what there is.",
    405: "The method is not allowed here (the `Allow` header lists those that are).",
    408: "The request body did not arrive within server.body_timeout_seconds; the connection "
    "is closed.",
    409: "The message is not in a state that allows this (only a failed message, a dead "
    "letter, can be replayed or discarded).",
    410: "Retention dropped the message's body and output (store.retention.payload_days); "
    "its status and history are still there.",
    413: "The body is larger than server.max_body_bytes, or beyond a decoding limit on its "
    "amount of content.",
    422: "A parameter or a field of the body is malformed or missing; `problems` names each "
    "(`where`: query/limit, body/reason, ...).",
    503: "The store is unavailable (with Retry-After; send again), the database refused the "
    "statement, or server.max_connections connections are open (a plain-text answer from "
    "the server).",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": 'Bearer realm="hub"', "schema": {"type": "string"}}},
    408: {"Connection": {"description": "close", "schema": {"type": "string"}}},
    503: {"Retry-After": _RETRY_AFTER},
}

#: Answers the HTTP server gives before the application runs (the connection cap).
_PLAIN_TEXT: dict[int, dict[str, Any]] = {503: {"text/plain": {"schema": {"type": "string"}}}}


def responses(
    *statuses: int, said: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` FastAPI wants for these error statuses, each with :class:`ErrorBody`.

    ``said`` replaces the standard description of a status with the operation's own.
    """
    said = said or {}
    unknown = sorted(set(said) - set(statuses))
    if unknown:
        raise ValueError(f"described but not declared: {unknown}")
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer: dict[str, Any] = {
            "model": ErrorBody,
            "description": said.get(status, _STANDARD[status]),
        }
        if status in _HEADERS:
            answer["headers"] = _HEADERS[status]
        if status in _PLAIN_TEXT:
            answer["content"] = _PLAIN_TEXT[status]
        declared[status] = answer
    return declared


def error_answer(status: int) -> dict[str, Any]:
    """A status's standard answer as it appears in the finished document (JSON)."""
    answer: dict[str, Any] = {
        "description": _STANDARD[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    if status in _HEADERS:
        answer["headers"] = _HEADERS[status]
    return answer


def own_validation_errors(document: dict[str, Any]) -> None:
    """Replace the 422 FastAPI documents by itself (``{"detail": [...]}``) with the hub's
    shape, which is what its handler answers (:mod:`hub.api.errors`)."""
    fastapi_shape = "#/components/schemas/HTTPValidationError"
    for path in document.get("paths", {}).values():
        for operation in path.values():
            answer = operation.get("responses", {}).get("422")
            schema = (answer or {}).get("content", {}).get("application/json", {}).get("schema")
            if schema == {"$ref": fastapi_shape}:
                answer["description"] = _STANDARD[422]
                answer["content"] = {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
