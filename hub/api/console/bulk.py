"""Dead letters by the handful: replay or discard every selected one, with one reason.

The Dead letters page's checkboxes post here (CSRF, ``operate``). Each message succeeds or
fails on its own, as ``POST /dead-letters/replay`` does: one already replayed or discarded
by someone else is reported, not a reason to stop the rest.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from hub.api.console.common import bad_form, hub_of, page, refused, to_login
from hub.api.console.session import csrf_ok, form_values, signed_in
from hub.credentials import OPERATE
from hub.errors import HubError
from hub.runtime import Hub
from hub.store import ReplayMode

__all__ = ["MAX_SELECTED", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

#: The most messages one selection acts on (the page lists at most 200).
MAX_SELECTED = 200
#: How many failures the summary names (the rest are counted).
_NAMED = 5


@router.post("/dead-letters/selection")
async def act_on_selection(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    form = await form_values(request)
    first = {name: values[0] for name, values in (form or {}).items()}
    if form is None or not csrf_ok(signed, first):
        return bad_form(signed)
    if not signed.caller.may(OPERATE):
        return refused(signed, OPERATE)
    action = first.get("action", "")
    ids = list(dict.fromkeys(i.strip() for i in form.get("ids", []) if i.strip()))
    reason = first.get("reason", "").strip()
    problem = _problem(action, ids, reason)
    if problem is not None:
        return page("error.html", 400, signed=signed, **problem)
    mode: ReplayMode = "original" if first.get("mode") == "original" else "current"
    hub = hub_of(request)
    results = await run_in_threadpool(
        _act, hub, action, ids, actor=signed.caller.name, reason=reason, mode=mode
    )
    if action == "replay":
        hub.worker.wake()
    done = urlencode({"done": _summary(action, results)})
    return RedirectResponse(f"/ui/dead-letters?{done}", status_code=303)


def _problem(action: str, ids: list[str], reason: str) -> dict[str, str] | None:
    title = "Nothing done"
    if action not in ("replay", "discard"):
        return {"title": title, "message": "no action chosen", "hint": "press Replay or Discard"}
    if not ids:
        return {
            "title": title,
            "message": "no dead letter selected",
            "hint": "tick the ones to act on, or Select all",
        }
    if len(ids) > MAX_SELECTED:
        return {
            "title": title,
            "message": f"{len(ids)} selected, more than the {MAX_SELECTED} one form acts on",
            "hint": "filter by route and act on fewer at a time",
        }
    if action == "discard" and not reason:
        return {"title": title, "message": "a discard needs a reason", "hint": "say why"}
    return None


def _act(
    hub: Hub, action: str, ids: list[str], *, actor: str, reason: str, mode: ReplayMode
) -> dict[str, str | None]:
    """Per id: None when done, else why not."""
    results: dict[str, str | None] = {}
    for message_id in ids:
        try:
            if action == "replay":
                hub.dead_letters.replay(message_id, actor=actor, reason=reason, mode=mode)
            else:
                hub.dead_letters.discard(message_id, actor=actor, reason=reason)
            results[message_id] = None
        except HubError as exc:
            results[message_id] = exc.message
    return results


def _summary(action: str, results: dict[str, str | None]) -> str:
    done = sum(1 for why in results.values() if why is None)
    verb = "replayed" if action == "replay" else "discarded"
    text = f"{verb} {done} of {len(results)}"
    failed = [(i, why) for i, why in results.items() if why is not None]
    if failed:
        named = "; ".join(f"{i}: {why}" for i, why in failed[:_NAMED])
        more = f" and {len(failed) - _NAMED} more" if len(failed) > _NAMED else ""
        text += f" (not: {named}{more})"
    return text
