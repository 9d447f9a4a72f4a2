"""Dead letters over HTTP: list with filters, replay, discard, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.errors import HubError
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.store import ListFilter, ReplayMode

__all__ = ["router"]

router = APIRouter(tags=["dead letters"])

Actor = Annotated[str, Header(alias="X-Hub-Actor", description="who asks (kept in the audit)")]


class Summary(BaseModel):
    id: str
    route: str
    status: str
    correlation_key: str | None
    received_at: datetime
    updated_at: datetime
    attempts: int
    error: dict[str, str] | None


class Replay(BaseModel):
    mode: ReplayMode = Field(
        "current", description="current: translate again with today's mapping; original: resend"
    )
    reason: str = ""


class Discard(BaseModel):
    reason: str = Field(min_length=1, description="why it is dropped (kept in the audit)")


@router.get("/dead-letters", response_model=list[Summary])
async def list_dead_letters(
    hub: Annotated[Hub, Depends(get_hub)],
    route: str | None = None,
    error_type: str | None = None,
    correlation_key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: Annotated[MessageStatus, Query()] = MessageStatus.FAILED,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Summary]:
    """Failed messages (or another status), newest first."""
    where = ListFilter(status, route, error_type, correlation_key, since, until, limit)
    found = await run_in_threadpool(hub.dead_letters.find, where)
    return [
        Summary(
            id=m.id,
            route=m.route,
            status=m.status.value,
            correlation_key=m.correlation_key,
            received_at=m.received_at,
            updated_at=m.updated_at,
            attempts=m.attempts,
            error={"stage": m.error.stage, "type": m.error.type, "message": m.error.message}
            if m.error
            else None,
        )
        for m in found
    ]


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
