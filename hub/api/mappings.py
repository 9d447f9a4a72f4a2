"""``GET /mappings``: which mapping version each route runs, and why a newer file was refused."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import GuardedRoute, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.credentials import READ
from hub.errors import Problem
from hub.mapping import content_hash
from hub.pipeline.reload import MappingStatus
from hub.runtime import Hub

__all__ = ["MappingsResponse", "mappings_of", "router"]

router = APIRouter(tags=["mappings"], route_class=GuardedRoute)


class ProblemView(BaseModel):
    message: str
    where: str | None = None
    hint: str | None = None
    severity: str = "error"


class RefusalView(BaseModel):
    hash: str | None = Field(description="the refused file's content hash (null: unreadable)")
    at: datetime
    reason: str = Field(description="invalid, schema, tests or error")
    problems: list[ProblemView]


class RouteMapping(BaseModel):
    route: str
    name: str = Field(description="the mapping's `name`")
    hash: str = Field(description="content hash of the version the route runs")
    path: str
    loaded_at: datetime = Field(description="when this version started serving")
    file_hash: str | None = Field(
        description="content hash of the file on disk now (null: unreadable); differs from "
        "`hash` while a newer file is refused or not yet re-loaded"
    )
    warnings: list[ProblemView] = Field(
        description="what the checks against the route's schemas found that does not stop it"
    )
    refused: RefusalView | None = Field(
        description="the last newer file that was not swapped in, and why"
    )


class MappingsResponse(BaseModel):
    routes: list[RouteMapping]


@router.get(
    "/mappings",
    response_model=MappingsResponse,
    responses=responses(
        503, said={503: "server.max_connections connections are open (a plain-text answer)."}
    ),
    operation_id="list_mappings",
)
@needs(READ)
async def mappings(hub: Annotated[Hub, Depends(get_hub)]) -> MappingsResponse:
    """Per route with a mapping: the version it runs, since when, and the last refused file."""
    return await run_in_threadpool(mappings_of, hub)


def mappings_of(hub: Hub) -> MappingsResponse:
    """What `GET /mappings` answers (the console shows it too)."""
    return MappingsResponse(routes=[_view(status) for status in hub.watcher.statuses()])


def _view(status: MappingStatus) -> RouteMapping:
    refused = status.refused
    return RouteMapping(
        route=status.route,
        name=status.name,
        hash=status.hash,
        path=str(status.path),
        loaded_at=status.loaded_at,
        file_hash=_file_hash(status.path),
        warnings=[_problem(p) for p in status.warnings],
        refused=RefusalView(
            hash=refused.hash,
            at=refused.at,
            reason=refused.reason,
            problems=[_problem(p) for p in refused.problems],
        )
        if refused is not None
        else None,
    )


def _problem(problem: Problem) -> ProblemView:
    return ProblemView(
        message=problem.message,
        where=problem.where,
        hint=problem.hint,
        severity=problem.severity.value,
    )


def _file_hash(path: Path) -> str | None:
    try:
        return content_hash(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
