"""``POST /ingest/{route}``: a message is committed to the store before the 202."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.errors import InboundRejected
from hub.runtime import Hub
from hub.sdk import InboundRequest

__all__ = ["router"]

router = APIRouter(tags=["ingest"])


class Accepted(BaseModel):
    id: str
    ids: list[str]  # every message stored: several when the route splits a batch
    duplicate: bool = False  # seen before (same idempotency key): the first submission's ids
    route: str
    correlation_key: str | None
    status_url: str


class Acknowledged(BaseModel):
    acknowledged: bool = True
    detail: str


async def _read_body(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; refuse early on a declared larger length."""
    hint = "raise server.max_body_bytes in the config, or split the payload"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InboundRejected(
            f"the body is {int(declared)} bytes; this hub accepts at most {limit}",
            status=413,
            reason="too_large",
            hint=hint,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InboundRejected(
                f"the body exceeds {limit} bytes", status=413, reason="too_large", hint=hint
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/ingest/{route}",
    status_code=202,
    response_model=Accepted,
    responses={
        200: {
            "description": "A ping with no message, acknowledged; or a repeat recognised by "
            "its idempotency key (`duplicate: true`, the first submission's ids)."
        },
        400: {
            "description": "The body is malformed, or a key in it (correlation, idempotency, "
            "ordering) has a character the store cannot hold (NUL, a lone surrogate); the "
            "error says which and where."
        },
        401: {
            "description": "The source refused the request (a wrong signature, or a signed "
            "timestamp outside the tolerance: a replay)."
        },
        404: {"description": "No such route."},
        408: {
            "description": "The body did not arrive within server.body_timeout_seconds; the "
            "connection is closed."
        },
        413: {"description": "The body is larger than server.max_body_bytes."},
        503: {
            "description": "The store is unavailable (with Retry-After) or server.max_connections "
            "connections are open; nothing was accepted, send again."
        },
    },
)
async def ingest(
    route: str, request: Request, hub: Annotated[Hub, Depends(get_hub)]
) -> JSONResponse:
    """Store the body for ``route`` and answer 202 with its id once it is durable."""
    hub.ingestor.route(route)  # 404 before reading a body for a route that does not exist
    try:
        body = await _read_body(request, hub.config.server.max_body_bytes)
    except InboundRejected as exc:
        hub.metrics.rejected.labels(route, exc.reason).inc()
        raise
    inbound = InboundRequest(
        route=route,
        body=body,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        remote=request.client.host if request.client else None,
    )
    result = await run_in_threadpool(hub.ingestor.ingest, inbound)
    if result.message_id is None:
        return JSONResponse(
            Acknowledged(detail="the source acknowledged a request with no message").model_dump(),
            status_code=200,
        )
    url = f"/messages/{result.message_id}"
    accepted = Accepted(
        id=result.message_id,
        ids=list(result.ids),
        duplicate=result.duplicate,
        route=route,
        correlation_key=result.correlation_key,
        status_url=url,
    )
    status = 200 if result.duplicate else 202  # a repeat: stored before, nothing new
    return JSONResponse(accepted.model_dump(), status_code=status, headers={"Location": url})
