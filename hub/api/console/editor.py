"""The mapping preview editor: a sample input and an edited mapping, run as ``POST /preview``
runs them.

The page posts the mapping text, the sample and the route; the run is ``/preview``'s own
(:func:`hub.api.preview._preview` on its pool of ``mappings.preview_workers``, under
``mappings.limits``, the route's schemas and formats), so what the editor says is what the
API says. Nothing is saved: the operator copies the text into the file, and hot reload
serves it. Problems come back located; a place in the mapping text (``mapping_text:L:C``)
is shown as its line and column, with a link that puts the caret there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from hub.api.console.common import bad_form, hub_of, page, reader, refused, to_login
from hub.api.console.replay_preview import pretty
from hub.api.console.session import Signed, csrf_ok, form_values, signed_in
from hub.api.preview import PreviewRequest, PreviewResponse, _preview
from hub.api.preview_pool import PreviewBusy, PreviewPool, PreviewStopped
from hub.credentials import OPERATE, READ_PAYLOAD
from hub.errors import HubError, Problem
from hub.runtime import Hub
from hub.store.queries import MessageFilter, find_messages

__all__ = ["Located", "locate", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

_AT = re.compile(r"^mapping_text:(?P<line>\d+)(?::(?P<column>\d+))?$")


@dataclass(frozen=True)
class Located:
    """One problem as the page shows it: a line and column of the mapping text when known."""

    message: str
    where: str | None
    hint: str | None
    line: int | None = None
    column: int | None = None


def locate(message: str, where: str | None, hint: str | None) -> Located:
    found = _AT.match(where or "")
    if found is None:
        return Located(message, where, hint)
    column = int(found.group("column")) if found.group("column") else None
    return Located(message, where, hint, int(found.group("line")), column)


def _problems(exc: HubError) -> list[Located]:
    listed: list[Problem] = list(exc.problems) or [Problem(exc.message, exc.where, exc.hint)]
    return [locate(p.message, p.where, p.hint) for p in listed]


def _mapped_routes(hub: Hub) -> list[str]:
    return sorted(name for name, route in hub.routes.items() if route.config.mapping is not None)


def _file_text(hub: Hub, route: str) -> str:
    mapping = hub.routes[route].config.mapping
    if mapping is None:
        return ""
    try:
        return hub.loaded.resolve(mapping, "mapping file").read_text(encoding="utf-8")
    except (HubError, OSError, UnicodeDecodeError):
        return ""


def _newest_body(hub: Hub, route: str) -> str:
    """The newest stored body of the route (a realistic sample), or nothing."""
    found = find_messages(hub.store, MessageFilter(route=route, limit=1)).messages
    if not found:
        return ""
    record = hub.store.get(found[0].id)
    if record.payload_dropped_at is not None:
        return ""
    return pretty(record.message.body.decode("utf-8", errors="replace"))


async def _operator(request: Request) -> Signed | Response:
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    if not signed.caller.may(OPERATE):
        return refused(signed, OPERATE)  # POST /preview needs it too
    return signed


@router.get("/mappings/editor")
async def editor(request: Request) -> Response:
    signed = await _operator(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    routes = _mapped_routes(hub)
    route = request.query_params.get("route", "")
    if route not in routes:
        route = routes[0] if routes else ""
    text = await run_in_threadpool(_file_text, hub, route) if route else ""
    sample = ""
    if route and signed.caller.may(READ_PAYLOAD):
        sample = await run_in_threadpool(_newest_body, hub, route)
    return _editor_page(signed, routes, route, text, sample)


@router.post("/mappings/editor")
async def run_preview(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    hub = hub_of(request)
    # as large as POST /preview may be: a whole mapping and a whole sample document
    form = await form_values(request, limit=hub.config.server.max_body_bytes)
    first = {name: values[0] for name, values in (form or {}).items()}
    if form is None or not csrf_ok(signed, first):
        return bad_form(signed)
    if not signed.caller.may(OPERATE):
        return refused(signed, OPERATE)
    routes = _mapped_routes(hub)
    route = first.get("route", "")
    text = first.get("mapping_text", "").replace("\r\n", "\n")
    sample = first.get("input", "").replace("\r\n", "\n")
    if route not in routes:
        problems = [locate(f"no route {route!r} runs a mapping", "route", "pick one")]
        return _editor_page(signed, routes, route, text, sample, problems=problems, status=400)
    asked = PreviewRequest(route=route, mapping_text=text, input=sample)
    pool: PreviewPool = request.app.state.previews
    ran: PreviewResponse | None = None
    problems = []
    status = 200
    try:
        ran = await pool.run(lambda cancel: _preview(asked, hub, cancel))
    except (PreviewBusy, PreviewStopped):
        hint = "try again shortly (mappings.preview_workers sets how many run at once)"
        problems = [locate("every preview slot is busy, or the hub is stopping", None, hint)]
        status = 503
    except RecursionError:
        problems = [locate("the input nests too deeply", "input", "send a flatter document")]
        status = 422
    except HubError as exc:
        problems, status = _problems(exc), 422
    return _editor_page(
        signed, routes, route, text, sample, ran=ran, problems=problems, status=status
    )


def _editor_page(
    signed: Signed,
    routes: list[str],
    route: str,
    text: str,
    sample: str,
    *,
    ran: PreviewResponse | None = None,
    problems: list[Located] | None = None,
    status: int = 200,
) -> Response:
    warnings = [locate(w.message, w.where, w.hint) for w in ran.warnings] if ran else []
    shown: dict[str, Any] = {
        "signed": signed,
        "routes": routes,
        "route": route,
        "text": text,
        "sample": sample,
        "ran": ran,
        "output": pretty(ran.encoded) if ran is not None else None,
        "problems": problems or [],
        "warnings": warnings,
    }
    return page("editor.html", status, **shown)
