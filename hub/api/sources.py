"""``GET /sources``: each polled route's schedule, cursor, poller, last run, success and error."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import GuardedRoute, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.config.models import ScheduleConfig
from hub.credentials import READ
from hub.runtime import Hub
from hub.store.sources import SourceState

__all__ = ["SourcesResponse", "router", "sources_of"]

router = APIRouter(tags=["sources"], route_class=GuardedRoute)


class PollError(BaseModel):
    type: str
    message: str
    where: str | None = None
    hint: str | None = None


class SourceView(BaseModel):
    route: str
    type: str = Field(description="the source connector, e.g. directory, sftp, http-pull")
    schedule: str = Field(description='"every 30s" or the cron line (UTC)')
    cursor: str | None = Field(description="the source's progress, kept with what it stored")
    poller: str | None = Field(description="the process holding the route's lease (host:pid:id)")
    lease_until: datetime | None
    last_run: datetime | None
    last_success: datetime | None
    last_error: PollError | None = Field(description="the last failed poll, until one succeeds")
    failures: int = Field(description="failed polls in a row")
    items: int = Field(description="items stored from this source (repeats not counted twice)")


class SourcesResponse(BaseModel):
    sources: list[SourceView]


@router.get(
    "/sources",
    response_model=SourcesResponse,
    responses=responses(503),
    operation_id="list_sources",
)
@needs(READ)
async def sources(hub: Annotated[Hub, Depends(get_hub)]) -> SourcesResponse:
    """Every route fed by a poll source, and how its polling goes."""
    return await run_in_threadpool(sources_of, hub)


def sources_of(hub: Hub) -> SourcesResponse:
    """What `GET /sources` answers (the console shows it too)."""
    known = {state.route: state for state in hub.sources.all()}
    views = []
    for name, route in sorted(hub.routes.items()):
        if not route.polled:
            continue
        schedule = route.config.source.schedule or ScheduleConfig()
        views.append(_view(name, route.source_type, schedule, known.get(name)))
    return SourcesResponse(sources=views)


def _view(route: str, kind: str, schedule: ScheduleConfig, state: SourceState | None) -> SourceView:
    when = schedule.cron if schedule.cron is not None else f"every {schedule.every:g}s"
    error = state.last_error if state is not None else None
    return SourceView(
        route=route,
        type=kind,
        schedule=when,
        cursor=state.cursor if state else None,
        poller=state.holder if state else None,
        lease_until=state.lease_until if state else None,
        last_run=state.last_run if state else None,
        last_success=state.last_success if state else None,
        last_error=PollError(
            type=str(error.get("type", "source_error")),
            message=str(error.get("message", "")),
            where=str(error["where"]) if error.get("where") else None,
            hint=str(error["hint"]) if error.get("hint") else None,
        )
        if error
        else None,
        failures=state.failures if state else 0,
        items=state.items if state else 0,
    )
