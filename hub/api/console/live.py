"""What the console's pages refresh without a reload: the counts by route and status.

A small JSON answer for the page's own script (``static/console.js``), behind the same
session cookie as the pages (``read``): the JSON API takes keys, a browser holds a cookie.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.api.console.common import hub_of
from hub.api.console.session import signed_in
from hub.credentials import READ
from hub.message import MessageStatus, utcnow
from hub.store.queries import count_by_route_and_status

__all__ = ["POLL_SECONDS", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

#: How often the Messages page asks (the page says so; the script reads it from the page).
POLL_SECONDS = 5


@router.get("/live/counts")
async def counts(request: Request) -> JSONResponse:
    """Per route of the config, per status: how many messages (zeros included)."""
    signed = await signed_in(request)
    if signed is None:
        return _answer({"error": "signed out"}, 401)
    if not signed.caller.may(READ):
        return _answer({"error": "needs scope read"}, 403)
    hub = hub_of(request)
    found = await run_in_threadpool(count_by_route_and_status, hub.store)
    statuses = [status.value for status in MessageStatus]
    shown = {
        route: {status: found.get(route, {}).get(MessageStatus(status), 0) for status in statuses}
        for route in sorted(hub.routes)
    }
    return _answer({"at": utcnow().isoformat(), "statuses": statuses, "counts": shown}, 200)


def _answer(body: dict[str, object], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
