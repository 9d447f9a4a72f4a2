"""The console's pages at ``/ui``: server-rendered HTML over the same store the API reads.

Each page asks the session (:mod:`hub.api.console.session`) who is signed in, and shows
or does only what that key's scopes allow: bodies and outputs need ``read:payload``,
replay and discard need ``operate``. Forms are plain HTML POSTs with a CSRF token.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from hub.api.console.common import HINTS, bad_form, hub_of, page, reader, refused, to_login
from hub.api.console.live import POLL_SECONDS
from hub.api.console.replay_preview import pretty, preview_replay
from hub.api.console.session import (
    COOKIE,
    console_users,
    csrf_ok,
    form_of,
    sessions,
    set_cookie,
    signed_in,
)
from hub.api.console.throttle import SignInThrottle
from hub.api.mappings import mappings_of
from hub.credentials import OPERATE, READ, READ_PAYLOAD, grants
from hub.errors import HubError
from hub.message import MessageStatus, utcnow
from hub.store import ReplayMode
from hub.store.apikeys import ApiKey
from hub.store.queries import MessageFilter, count_by_route_and_status, find_messages
from hub.store.users import ConsoleUser

__all__ = ["router"]

log = logging.getLogger("hub.console")

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/login")
async def login_page(request: Request) -> Response:
    return page("login.html", signed=None, error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in with a console user's name and password, or with an API key; failures are
    counted per address and per name (:mod:`hub.api.console.throttle`)."""
    form = await form_of(request) or {}
    hub = hub_of(request)
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else None
    name = form.get("user", "").strip() if "user" in form else None
    refusal = throttle.refusal(address, name)
    if refusal is None:
        with throttle.checking() as refusal:
            if refusal is None:
                return await _sign_in(request, form, throttle, address, name)
    hub.metrics.auth_failures.labels("throttled").inc()
    log.warning("console sign-in not checked: %s", refusal.message, extra={"reason": "throttled"})
    response = page("login.html", refusal.status, signed=None, error=refusal.message)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


async def _sign_in(
    request: Request,
    form: dict[str, str],
    throttle: SignInThrottle,
    address: str | None,
    name: str | None,
) -> Response:
    hub = hub_of(request)
    who: ApiKey | ConsoleUser | None = None
    if name is not None:
        said = await run_in_threadpool(console_users(request).check, name, form.get("password", ""))
        who, reason = said.user, said.reason
        wrong = "that user name and password do not match an active user"
    else:
        token = form.get("key", "").strip()
        verdict = await run_in_threadpool(hub.keys.check, token) if token else None
        who = verdict.key if verdict is not None and verdict.ok else None
        reason = verdict.reason if verdict is not None else "missing"
        wrong = "that key is not a valid active key"
    if who is None:
        throttle.failed(address, name)
        hub.metrics.auth_failures.labels(reason).inc()  # counted as the API's refusals are
        log.warning("console sign-in refused: %s", reason, extra={"reason": reason})
        return page("login.html", 401, signed=None, error=wrong)
    throttle.succeeded(name)
    if not grants(frozenset(who.scopes) | frozenset(hub.config.auth.anonymous), READ):
        return page("login.html", 403, signed=None, error=f"{who.name!r} lacks scope read")
    cookie = await run_in_threadpool(sessions(request).open, who)
    response = RedirectResponse("/ui/messages", status_code=303)
    set_cookie(response, request, cookie)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    if not csrf_ok(signed, await form_of(request) or {}):
        return bad_form(signed)
    await run_in_threadpool(sessions(request).close, signed.token)
    response = to_login()
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("")
async def home(request: Request) -> Response:
    return RedirectResponse("/ui/messages", status_code=303)


def _time(text: str | None, field: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise HubError(
            f"{field} is not a date and time", where=field, hint="2026-11-30T14:00"
        ) from exc


@router.get("/messages")
async def messages(request: Request) -> Response:
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    q = request.query_params
    fields = ("key", "route", "status", "since", "until", "awaiting_ack")
    asked = {name: q.get(name, "").strip() for name in fields}
    error: HubError | None = None
    found: list[Any] = []
    try:
        statuses = (MessageStatus(asked["status"]),) if asked["status"] else ()
    except ValueError:
        statuses = ()
        error = HubError(f"no status {asked['status']!r}", where="status")
    if asked["awaiting_ack"] not in ("", "any", "overdue"):
        error = HubError("awaiting_ack is any or overdue", where="awaiting_ack")
    if error is None:
        try:
            where = MessageFilter(
                statuses=statuses,
                route=asked["route"] or None,
                correlation_key=asked["key"] or None,
                with_parts=True,
                since=_time(asked["since"], "since"),
                until=_time(asked["until"], "until"),
                awaiting_ack=asked["awaiting_ack"] if asked["awaiting_ack"] else None,
                limit=100,
            )
            found = list((await run_in_threadpool(find_messages, hub.store, where)).messages)
        except HubError as exc:
            error = exc
    counts = await run_in_threadpool(count_by_route_and_status, hub.store)
    return page(
        "messages.html",
        400 if error is not None else 200,
        signed=signed,
        asked=asked,
        found=found,
        error=error,
        counts=counts,
        now=utcnow(),
        poll_seconds=POLL_SECONDS,
        routes=sorted(hub.routes),
        statuses=[s.value for s in MessageStatus],
    )


@router.get("/messages/{message_id}")
async def message(request: Request, message_id: str) -> Response:
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    try:
        record = await run_in_threadpool(hub.store.get, message_id)
    except HubError as exc:
        return page(
            "error.html",
            404,
            signed=signed,
            title="No such message",
            message=exc.message,
            hint="search for it on the Messages page",
        )
    payloads = signed.caller.may(READ_PAYLOAD)
    body = output = None
    if payloads and record.payload_dropped_at is None:
        body = pretty(record.message.body.decode("utf-8", errors="replace"))
        stored = await run_in_threadpool(hub.store.output, message_id)
        output = pretty(stored[0].decode("utf-8", errors="replace")) if stored else None
    audit = await run_in_threadpool(hub.dead_letters.audit, message_id)
    return page(
        "message.html",
        signed=signed,
        record=record,
        payloads=payloads,
        body=body,
        output=output,
        audit=audit,
        hint=HINTS.get(record.error.type) if record.error is not None else None,
        may_operate=signed.caller.may(OPERATE),
        done=request.query_params.get("done", ""),
    )


@router.get("/dead-letters")
async def dead_letters(request: Request) -> Response:
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    route = request.query_params.get("route", "").strip() or None
    if route is not None and route not in hub.routes:
        route = None
    where = MessageFilter(statuses=(MessageStatus.FAILED,), route=route, limit=200)
    found = await run_in_threadpool(hub.dead_letters.find, where)
    return page(
        "dead_letters.html",
        signed=signed,
        found=found,
        route=route or "",
        routes=sorted(hub.routes),
        hints=HINTS,
        may_operate=signed.caller.may(OPERATE),
        done=request.query_params.get("done", ""),
    )


@router.post("/dead-letters/{message_id}/preview")
async def replay_preview(request: Request, message_id: str) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    if not csrf_ok(signed, await form_of(request) or {}):
        return bad_form(signed)
    if not signed.caller.may(OPERATE):
        return refused(signed, OPERATE)
    hub = hub_of(request)
    try:
        record = await run_in_threadpool(hub.store.get, message_id)
        shown = await preview_replay(hub, request.app.state.previews, message_id)
    except HubError as exc:
        return page(
            "error.html",
            404,
            signed=signed,
            title="No such message",
            message=exc.message,
            hint="pick one on the Dead letters page",
        )
    return page(
        "replay_preview.html",
        signed=signed,
        record=record,
        preview=shown,
        payloads=signed.caller.may(READ_PAYLOAD),
    )


@router.post("/dead-letters/{message_id}/replay")
async def replay(request: Request, message_id: str) -> Response:
    return await _act(request, message_id, "replay")


@router.post("/dead-letters/{message_id}/discard")
async def discard(request: Request, message_id: str) -> Response:
    return await _act(request, message_id, "discard")


async def _act(request: Request, message_id: str, action: str) -> Response:
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    form = await form_of(request)
    if form is None or not csrf_ok(signed, form):
        return bad_form(signed)
    if not signed.caller.may(OPERATE):
        return refused(signed, OPERATE)
    hub = hub_of(request)
    reason = form.get("reason", "").strip()
    actor = signed.caller.name
    try:
        if action == "replay":
            mode: ReplayMode = "original" if form.get("mode") == "original" else "current"
            await run_in_threadpool(
                lambda: hub.dead_letters.replay(message_id, actor=actor, reason=reason, mode=mode)
            )
            hub.worker.wake()
        else:
            if not reason:
                raise HubError("a discard needs a reason", where="reason", hint="say why")
            await run_in_threadpool(
                lambda: hub.dead_letters.discard(message_id, actor=actor, reason=reason)
            )
    except HubError as exc:
        return page(
            "error.html",
            409 if exc.where is None else 400,
            signed=signed,
            title=f"Could not {action}",
            message=exc.message,
            hint=exc.hint,
        )
    done = urlencode({"done": f"{action} {message_id}"})
    target = (
        f"/ui/messages/{message_id}?{done}" if action == "replay" else f"/ui/dead-letters?{done}"
    )
    return RedirectResponse(target, status_code=303)


#: The most messages one trace gathers (each one's history is read).
TRACE_LIMIT = 50


@router.get("/trace")
async def trace(request: Request) -> Response:
    """One business key's messages across every route, their histories merged in time order."""
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    hub = hub_of(request)
    key = request.query_params.get("key", "").strip()
    error: HubError | None = None
    records: list[Any] = []
    if key:
        try:
            where = MessageFilter(correlation_key=key, with_parts=True, limit=TRACE_LIMIT)
            listed = await run_in_threadpool(find_messages, hub.store, where)
            records = [await run_in_threadpool(hub.store.get, m.id) for m in listed.messages]
        except HubError as exc:
            error = exc
    records.sort(key=lambda record: record.message.received_at)
    steps = sorted(
        ((event, record) for record in records for event in record.events),
        key=lambda pair: pair[0].at,
    )
    return page(
        "trace.html",
        400 if error is not None else 200,
        signed=signed,
        key=key,
        error=error,
        records=records,
        steps=steps,
        limit=TRACE_LIMIT,
    )


@router.get("/mappings")
async def mappings(request: Request) -> Response:
    """Which mapping version each route runs, and the last edit hot reload refused."""
    signed = await reader(request)
    if isinstance(signed, Response):
        return signed
    shown = await run_in_threadpool(mappings_of, hub_of(request))
    return page(
        "mappings.html",
        signed=signed,
        routes=shown.routes,
        may_operate=signed.caller.may(OPERATE),
    )
