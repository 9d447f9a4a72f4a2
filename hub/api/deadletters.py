"""Dead letters over HTTP: list with filters, replay, discard, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.api.messages import BAD_QUERY
from hub.errors import HubError
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.store import MessageFilter, ReplayMode
from hub.store.queries import MAX_LIMIT
from hub.views import SummaryView, summary_view

__all__ = ["router"]

router = APIRouter(tags=["dead letters"])

Actor = Annotated[str, Header(alias="X-Hub-Actor", description="who asks (kept in the audit)")]


class Replay(BaseModel):
    mode: ReplayMode = Field(
        "current", description="current: translate again with today's mapping; original: resend"
    )
    reason: str = ""


class Discard(BaseModel):
    reason: str = Field(min_length=1, description="why it is dropped (kept in the audit)")


@router.get("/dead-letters", response_model=list[SummaryView], responses=BAD_QUERY)
async def list_dead_letters(
    hub: Annotated[Hub, Depends(get_hub)],
    route: Annotated[str | None, Query(description="a route name from the config")] = None,
    error_type: Annotated[
        str | None, Query(description="e.g. `delivery_fatal`, `validation_error`")
    ] = None,
    correlation_key: Annotated[
        str | None, Query(description="the business key, e.g. an order number")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="received at or after (ISO 8601; no zone: UTC)")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="received before (ISO 8601; no zone: UTC)")
    ] = None,
    status: Annotated[
        list[MessageStatus] | None,
        Query(description="default `failed`; repeat for several, e.g. `status=discarded`"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[SummaryView]:
    """Failed messages (or other statuses), newest first; `GET /messages` pages through all."""
    if route is not None:
        hub.ingestor.route(route)  # 404 with the routes there are, not an empty list
    where = MessageFilter(
        statuses=tuple(status or (MessageStatus.FAILED,)),
        route=route,
        error_type=error_type,
        correlation_key=correlation_key,
        since=since,
        until=until,
        limit=limit,
    )
    found = await run_in_threadpool(hub.dead_letters.find, where)
    return [summary_view(m) for m in found]


@router.post("/messages/{message_id}/replay")
async def replay(
    message_id: str,
    body: Replay,
    hub: Annotated[Hub, Depends(get_hub)],
    actor: Actor = "api",
) -> dict[str, Any]:
    """Send a dead letter through again; sinks that already have it are skipped."""
    await run_in_threadpool(
        lambda: hub.dead_letters.replay(message_id, actor=actor, reason=body.reason, mode=body.mode)
    )
    hub.worker.wake()
    return {"id": message_id, "status": "received", "mode": body.mode}


@router.post("/messages/{message_id}/discard")
async def discard(
    message_id: str,
    body: Discard,
    hub: Annotated[Hub, Depends(get_hub)],
    actor: Actor = "api",
) -> dict[str, Any]:
    """Drop a dead letter for good, with a reason."""
    await run_in_threadpool(
        lambda: hub.dead_letters.discard(message_id, actor=actor, reason=body.reason)
    )
    return {"id": message_id, "status": "discarded"}


@router.get("/messages/{message_id}/audit")
async def audit(message_id: str, hub: Annotated[Hub, Depends(get_hub)]) -> list[dict[str, Any]]:
    """Every replay and discard of the message: who, when, why."""
    return await run_in_threadpool(hub.dead_letters.audit, message_id)


class BulkReplay(Replay):
    ids: list[str] = Field(min_length=1, max_length=1000)


@router.post("/dead-letters/replay")
async def replay_many(
    body: BulkReplay,
    hub: Annotated[Hub, Depends(get_hub)],
    actor: Actor = "api",
) -> dict[str, Any]:
    """Replay several dead letters; each succeeds or fails on its own, reported per id."""

    def replay_all() -> dict[str, str]:
        results: dict[str, str] = {}
        for message_id in body.ids:
            try:
                hub.dead_letters.replay(message_id, actor=actor, reason=body.reason, mode=body.mode)
                results[message_id] = "replayed"
            except HubError as exc:
                results[message_id] = f"{exc.code}: {exc.message}"
        return results

    results = await run_in_threadpool(replay_all)
    hub.worker.wake()
    return {"results": results}
