"""``POST /ingest/{route}``: a message is committed to the store before the 202."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import GuardedRoute, needs
from hub.api.docs import responses
from hub.api.openapi import IngestDocs, message_links
from hub.credentials import ingest_scope
from hub.errors import InboundRejected
from hub.runtime import Hub
from hub.sdk import InboundRequest, PushSource

__all__ = ["ingest_router"]


class Accepted(BaseModel):
    id: str = Field(description="the message's id: `GET /messages/{id}` follows it")
    ids: list[str] = Field(description="every message stored: several when the route splits")
    duplicate: bool = Field(
        False, description="seen before (same idempotency key): the first submission's ids"
    )
    route: str
    correlation_key: str | None = Field(description="the business key read from the document")
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


def _answers() -> dict[int | str, dict[str, Any]]:
    location = {
        "description": "where the message's status is: `/messages/{id}`",
        "schema": {"type": "string"},
    }
    return {
        202: {
            "description": "Stored (committed) before this answer: the message cannot be lost.",
            "headers": {"Location": {**location, "required": True}},
            "links": message_links("/id"),
        },
        200: {
            "model": Accepted | Acknowledged,
            "description": "A repeat recognised by its idempotency key (`duplicate: true`, the "
            "first submission's ids; nothing new is stored), or a ping with no message "
            "(WooCommerce's `webhook_id=N`), acknowledged.",
            "headers": {"Location": location},
            "links": message_links("/id"),
        },
        **responses(
            400,
            401,
            408,
            413,
            503,
            said={
                400: "The body is not valid in the route's format (or beyond a decoding limit "
                "on its shape), or a key in it (correlation, idempotency, ordering) has a "
                "character the store cannot hold (NUL, a lone surrogate); the error says which "
                "and where.",
                401: "The source refused the request: a wrong signature, or a signed timestamp "
                "outside the tolerance (a replay).",
                503: "Nothing was accepted, send again: the store is unavailable (with "
                "Retry-After), the database refused the statement, or server.max_connections "
                "connections are open (a plain-text answer from the server).",
            },
        ),
    }


def ingest_router(hub: Hub, docs: IngestDocs) -> APIRouter:
    """``POST /ingest/{route}`` for every route of the config, each documented with what it
    accepts; a route the config does not have is a 404 naming those it has."""
    router = APIRouter(tags=["ingest"], route_class=GuardedRoute)
    taken: set[str] = set()
    for name, route in hub.routes.items():
        if route.polled:  # fed by the scheduler: a POST is a 404 that says so
            continue
        # a source serves its own protocol on its own path (an AS2 source: /as2/{route})
        path = route.source.path if isinstance(route.source, PushSource) else "ingest"
        if path != "ingest":
            router.add_api_route(
                f"/{path}/{name}",
                _endpoint(hub, name),
                methods=["POST"],
                status_code=200,
                response_class=Response,
                responses={200: {"description": "the source's own answer, after the commit"}},
                operation_id=_operation_id(f"{path}_{name}", taken),
                summary=f"Hand a {route.source_type} message to route {name}",
                description=(route.config.description + "\n\n" if route.config.description else "")
                + f"The {route.source_type} protocol (docs/connectors/{route.source_type}.md): "
                "the message is committed before the answer, which the source builds "
                "(an AS2 MDN).",
            )
            continue
        router.add_api_route(
            f"/{path}/{name}",
            _endpoint(hub, name),
            methods=["POST"],
            status_code=202,
            response_model=Accepted,
            responses=_answers(),
            operation_id=_operation_id(name, taken),
            summary=f"Hand a message to route {name}",
            description=(route.config.description + "\n\n" if route.config.description else "")
            + "Answers 202 with the message's id once it is stored (committed): from then on "
            "it cannot be lost. The document is decoded and its keys are read here; it is "
            "validated, translated and delivered by the worker (`GET /messages/{id}`).",
            openapi_extra=docs.operation(route),
        )
    router.add_api_route(
        "/ingest/{route}",
        needs(ingest_scope("{route}"))(_any_route(hub)),
        methods=["POST"],
        status_code=202,
        include_in_schema=False,
    )
    return router


def _operation_id(route: str, taken: set[str]) -> str:
    base = "ingest_" + route.replace("-", "_")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _endpoint(hub: Hub, route: str) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one route; the hub is the router's (no dependency to solve per
    request: ingest is the hub's hottest path)."""

    @needs(ingest_scope(route))
    async def ingest_route(request: Request) -> Response:
        return await ingest(route, request, hub)

    return ingest_route


def _any_route(hub: Hub) -> Callable[[str, Request], Awaitable[Response]]:
    async def ingest_any(route: str, request: Request) -> Response:
        return await ingest(route, request, hub)

    return ingest_any


async def ingest(route: str, request: Request, hub: Hub) -> Response:
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
    if hub.ingestor.inline(inbound):  # a small body: decoded here, the commit awaited
        result = await hub.ingestor.ingest_inline(inbound)
    else:
        result = await run_in_threadpool(hub.ingestor.ingest, inbound)
    if result.reply is not None:  # the source answers in its protocol (an AS2 MDN)
        reply = result.reply
        return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))
    if result.message_id is None:
        return JSONResponse(
            Acknowledged(detail="the source acknowledged a request with no message").model_dump(),
            status_code=200,
        )
    url = f"/messages/{result.message_id}"
    accepted = {  # what Accepted declares, built as a dict: no model to validate per request
        "id": result.message_id,
        "ids": list(result.ids),
        "duplicate": result.duplicate,
        "route": route,
        "correlation_key": result.correlation_key,
        "status_url": url,
    }
    status = 200 if result.duplicate else 202  # a repeat: stored before, nothing new
    return JSONResponse(accepted, status_code=status, headers={"Location": url})
