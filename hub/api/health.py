"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import PUBLIC, GuardedRoute, needs
from hub.api.deps import get_hub
from hub.credentials import METRICS
from hub.errors import StoreError
from hub.runtime import Hub

__all__ = ["router"]

router = APIRouter(tags=["operations"], route_class=GuardedRoute)


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    store: str = Field(description="`ok`, or why the store does not answer")
    routes: list[str]


@router.get("/healthz", response_model=Health, operation_id="healthz")
@needs(PUBLIC)
async def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The store does not answer."}},
    operation_id="readyz",
)
@needs(PUBLIC)
async def readyz(hub: Annotated[Hub, Depends(get_hub)]) -> JSONResponse:
    """The config is loaded and the store answers; 503 otherwise."""
    try:
        await run_in_threadpool(hub.store.ping)
    except StoreError as exc:
        return JSONResponse(
            {"status": "unavailable", "store": exc.message, "routes": sorted(hub.routes)},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "store": "ok", "routes": sorted(hub.routes)})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Every `hub_` series (docs/metrics.md).",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    },
    operation_id="metrics",
)
@needs(METRICS)
async def metrics(hub: Annotated[Hub, Depends(get_hub)]) -> Response:
    """Prometheus text exposition of every ``hub_`` series."""
    # The store's gauges query the database: off the event loop, so /healthz never waits.
    body = await run_in_threadpool(hub.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
