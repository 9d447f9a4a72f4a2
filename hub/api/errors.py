"""One place that turns every error into a clear JSON answer with the right status."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import (
    ConfigError,
    DecodeError,
    HubError,
    InboundRejected,
    MessageError,
    MessageNotFound,
    PayloadDropped,
    PluginError,
    RouteNotFound,
    StateConflict,
    StoreError,
    StoreUnavailable,
)

__all__ = ["install_error_handlers", "status_for"]

log = logging.getLogger("hub.api")


def status_for(exc: HubError) -> int:
    if isinstance(exc, InboundRejected):
        return exc.status
    if isinstance(exc, RouteNotFound | MessageNotFound):
        return 404
    if isinstance(exc, StateConflict):
        return 409
    if isinstance(exc, PayloadDropped):
        return 410
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, DecodeError):
        return 400
    if isinstance(exc, MessageError | ConfigError | PluginError):
        return 422
    return 400


def _error(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> JSONResponse:
        status = status_for(exc)
        # Only an unavailable store is worth retrying soon; a refusal would repeat forever.
        headers = {"Retry-After": "5"} if isinstance(exc, StoreUnavailable) else None
        return _error(status, exc.to_dict(), headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": "/".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        return _error(
            422,
            {"type": "bad_request", "message": "the request is malformed", "problems": problems},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        hints = {
            400: "send the body as JSON in UTF-8",  # FastAPI could not read the body as text
            404: "see /docs for the endpoints",
            405: "see /docs for the endpoints",
        }
        hint = hints.get(exc.status_code)
        body: dict[str, object] = {"type": "http_error", "message": message}
        if hint:
            body["hint"] = hint
        return _error(exc.status_code, body, dict(exc.headers) if exc.headers else None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("internal error %s on %s %s", incident, request.method, request.url.path)
        return _error(
            500,
            {
                "type": "internal_error",
                "message": f"internal error (incident {incident})",
                "hint": "the hub log has the details under that incident id",
            },
        )
