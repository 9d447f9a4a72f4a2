"""The Sources and sinks page: how each system the hub talks to is doing.

Sources are what ``GET /sources`` answers; sinks come from :mod:`hub.store.sinks` (backlog,
last success, last error per route and sink); acknowledgements awaited from trading
partners are the counts behind ``hub_acks_awaiting`` and ``hub_acks_overdue``, each linking
to the Messages page's ``awaiting_ack`` search (what ``GET /messages?awaiting_ack=`` lists).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from hub.api.console.common import hub_of, page, reader
from hub.api.sources import sources_of
from hub.runtime import Hub
from hub.store.interchanges import awaiting_by_partner
from hub.store.sinks import WINDOW, SinkHealth, sink_health

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)


@dataclass(frozen=True)
class Awaited:
    partner: str
    awaiting: int
    overdue: int


def _sinks(hub: Hub) -> list[tuple[SinkHealth, str]]:
    """Every sink of every route, with its connector type."""
    asked = [
        (name, ref.name, ref.type)
        for name, route in sorted(hub.routes.items())
        for ref in route.config.sinks
    ]
    found = sink_health(hub.store, [(route, sink) for route, sink, _ in asked])
    return [(health, kind) for health, (_, _, kind) in zip(found, asked, strict=True)]


def _awaited(hub: Hub) -> list[Awaited]:
    if not hub.config.partners:
        return []
    with hub.store.transaction() as session:
        counts = awaiting_by_partner(session)
    return [
        Awaited(partner, *counts.get(partner, (0, 0))) for partner in sorted(hub.config.partners)
    ]


@router.get("/sources")
async def sources(request: Request) -> Response:
    """Poll sources (schedule, last run, success, error), sinks (backlog, last success and
    error) and the acknowledgements partners still owe."""
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    shown = await run_in_threadpool(sources_of, hub)
    sinks = await run_in_threadpool(_sinks, hub)
    awaited = await run_in_threadpool(_awaited, hub)
    return page(
        "sources.html",
        signed=signed,
        sources=shown.sources,
        sinks=sinks,
        window=WINDOW,
        awaited=awaited,
    )
