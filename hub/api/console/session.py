"""Who uses the console: sign-in (an API key, or a console user's name and password), the
session cookie, and CSRF checks.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
it) and Secure when the console is served over https. Every POST form carries the
session's CSRF token, compared in constant time; a form without it changes nothing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import Caller
from hub.runtime import Hub
from hub.store.consoles import ConsoleSessions
from hub.store.users import ConsoleUsers

__all__ = [
    "COOKIE",
    "MAX_FORM",
    "Signed",
    "console_users",
    "csrf_ok",
    "form_of",
    "form_values",
    "sessions",
    "set_cookie",
    "signed_in",
]

COOKIE = "hub_console"
#: The largest form the console accepts (a discard reason, a search): bytes.
MAX_FORM = 64 * 1024


@dataclass(frozen=True)
class Signed:
    """The signed-in user: the caller (key name and scopes) and the session's CSRF token."""

    caller: Caller
    csrf: str
    token: str


def sessions(request: Request) -> ConsoleSessions:
    found: ConsoleSessions = request.app.state.console_sessions
    return found


def console_users(request: Request) -> ConsoleUsers:
    found: ConsoleUsers = request.app.state.console_users
    return found


async def signed_in(request: Request) -> Signed | None:
    """The session the request's cookie names, if it is live."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    session = await run_in_threadpool(sessions(request).find, token)
    if session is None:
        return None
    hub: Hub = request.app.state.hub
    # what anyone may do, a key or user may do too (as in hub.api.auth)
    scopes = frozenset(session.scopes) | frozenset(hub.config.auth.anonymous)
    caller = Caller(session.name, scopes, session.key_id)
    return Signed(caller=caller, csrf=session.csrf, token=token)


async def form_of(request: Request) -> dict[str, str] | None:
    """The urlencoded form of a POST (the first value of each field); None: too large or
    not a form."""
    values = await form_values(request)
    if values is None:
        return None
    return {name: given[0] for name, given in values.items()}


async def form_values(request: Request, limit: int = MAX_FORM) -> dict[str, list[str]] | None:
    """The urlencoded form of a POST, every value of each field (checkboxes repeat a name);
    None: larger than ``limit`` bytes or not a form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return parse_qs(text, keep_blank_values=True)


def csrf_ok(signed: Signed, form: dict[str, str]) -> bool:
    given = form.get("csrf", "")
    return hmac.compare_digest(given.encode(), signed.csrf.encode())


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
