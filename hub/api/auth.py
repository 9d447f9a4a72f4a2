"""Who is calling, and whether they may: API keys and scopes, checked before anything else.

Every endpoint names the scope it needs with :func:`needs` (or :data:`PUBLIC`) and is served
by a :class:`GuardedRoute`: the app's :class:`Guard` identifies the caller (a key sent as
``Authorization: Bearer`` or ``X-API-Key``, or anonymous) and answers 401 or 403 itself,
before the body is read or a parameter looked at: a refused caller learns nothing about
messages, routes or the request's validity. A route that names no scope is refused to
everyone (a forgotten declaration fails closed).

- no key, and the anonymous scopes (``auth.anonymous``) lack the scope: 401;
- a key that is malformed, unknown, revoked or expired: 401, whatever anonymous may do;
- a valid key without the scope: 403.

Refusals are counted (``hub_auth_failures_total``) and logged with the key's public id at
most, never its secret. Handlers get the caller with ``Depends(get_caller)``: the audit
trail's "who" is its name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from hub.credentials import grants, parse_token
from hub.errors import StoreError, StoreUnavailable
from hub.metrics import HubMetrics
from hub.store.apikeys import ApiKeys

__all__ = [
    "ANONYMOUS",
    "PUBLIC",
    "SCOPE_EXTENSION",
    "UNDECLARED",
    "Caller",
    "Guard",
    "GuardedRoute",
    "get_caller",
    "needs",
    "scope_of",
]

log = logging.getLogger("hub.auth")

#: What an endpoint open to everyone declares (/healthz, /readyz).
PUBLIC = "public"
#: The name of a caller without a key (in the audit trail).
ANONYMOUS = "anonymous"
#: What a route that declared no scope needs: nothing grants it, admin neither.
UNDECLARED = "(undeclared)"
_ATTRIBUTE = "hub_scope"
#: The OpenAPI extension that carries an operation's scope.
SCOPE_EXTENSION = "x-hub-scope"
_CALLER = "hub.caller"

F = TypeVar("F", bound=Callable[..., Any])


def needs(scope: str) -> Callable[[F], F]:
    """Declare the scope an endpoint needs (``{route}`` is filled from the path)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ATTRIBUTE, scope)
        return endpoint

    return mark


def scope_of(endpoint: Callable[..., Any]) -> str | None:
    """The scope an endpoint declared, if it declared one."""
    found = getattr(endpoint, _ATTRIBUTE, None)
    return found if isinstance(found, str) else None


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a key's name, or :data:`ANONYMOUS`."""

    name: str
    scopes: frozenset[str]
    key_id: str | None = None

    def may(self, scope: str) -> bool:
        return grants(self.scopes, scope)


async def get_caller(request: Request) -> Caller:
    """The caller the :class:`Guard` identified (a dependency for handlers; async, so
    FastAPI does not hop to its thread pool to call it)."""
    caller = request.scope.get(_CALLER)
    if not isinstance(caller, Caller):  # pragma: no cover - every route is a GuardedRoute
        raise RuntimeError("the route is not a GuardedRoute")
    return caller


@dataclass(frozen=True)
class _Refusal:
    status: int
    reason: str  # the metric's label
    message: str
    hint: str


class Guard:
    """Identifies callers and decides, for every request, before its handler runs."""

    def __init__(self, keys: ApiKeys, anonymous: Iterable[str], metrics: HubMetrics) -> None:
        self.keys = keys
        self.anonymous = frozenset(anonymous)
        self.metrics = metrics

    async def check(self, request: Request, needed: str) -> Response | None:
        """None when the request may go on (its caller is then in its scope), else the
        401, 403 or 503 answer to send instead."""
        scope = request.scope
        if needed == PUBLIC:
            scope[_CALLER] = Caller(ANONYMOUS, self.anonymous)
            return None
        try:
            needed = needed.format(**request.path_params)
        except (KeyError, IndexError, ValueError):
            needed = UNDECLARED
        try:
            outcome = await self._identify(scope)
        except StoreError as exc:
            headers = {"Retry-After": "5"} if isinstance(exc, StoreUnavailable) else {}
            return JSONResponse({"error": exc.to_dict()}, status_code=503, headers=headers)
        if needed == UNDECLARED:  # a route added without needs(): refused to everyone
            outcome = _Refusal(403, "scope", "this endpoint declares no scope", "report it")
        elif isinstance(outcome, Caller) and not outcome.may(needed):
            outcome = self._lacks(outcome, needed)
        if isinstance(outcome, Caller):
            scope[_CALLER] = outcome
            return None
        self.metrics.auth_failures.labels(outcome.reason).inc()
        log.warning(
            "refused %s %s: %s",
            request.method,
            request.url.path,
            outcome.message,
            extra={"reason": outcome.reason},
        )
        headers = {"WWW-Authenticate": 'Bearer realm="hub"'} if outcome.status == 401 else {}
        body = {
            "type": "unauthorized" if outcome.status == 401 else "forbidden",
            "message": outcome.message,
            "hint": outcome.hint,
        }
        return JSONResponse({"error": body}, status_code=outcome.status, headers=headers)

    def _lacks(self, caller: Caller, needed: str) -> _Refusal:
        if caller.key_id is None:
            return _Refusal(
                401,
                "missing",
                f"this needs an API key with scope {needed}",
                "send `Authorization: Bearer <key>` (or X-API-Key); `hub keys create` makes a key",
            )
        return _Refusal(
            403,
            "scope",
            f"the key {caller.name!r} lacks scope {needed}",
            f"a key with scope {needed} (or admin) may do this; `hub keys create` makes one",
        )

    async def _identify(self, scope: Scope) -> Caller | _Refusal:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        presented = _presented(headers)
        if isinstance(presented, _Refusal):
            return presented
        if presented is None:
            return Caller(ANONYMOUS, self.anonymous)
        verdict = await run_in_threadpool(self.keys.check, presented)
        if verdict.key is None or not verdict.ok:
            parts = parse_token(presented)
            shown = f" (key id {parts.key_id})" if parts is not None else ""
            return _Refusal(401, verdict.reason, _WHY[verdict.reason] + shown, _HINT)
        key = verdict.key
        # what anyone may do, a key may do too: the anonymous scopes are a floor
        return Caller(key.name, frozenset(key.scopes) | self.anonymous, key.key_id)


_HINT = "send a key `hub keys create` made and `hub keys list` shows as active"
_WHY = {
    "malformed": "the API key is not valid",
    "unknown": "the API key is not valid",
    "revoked": "the API key was revoked",
    "expired": "the API key has expired",
}


def _presented(headers: dict[str, str]) -> str | _Refusal | None:
    """The token the request presents (None: none at all)."""
    given: list[str] = []
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _Refusal(
                401,
                "malformed",
                "the Authorization header is not `Bearer <key>`",
                "send `Authorization: Bearer <key>`, or the key alone in X-API-Key",
            )
        given.append(token.strip())
    api_key = headers.get("x-api-key")
    if api_key is not None:
        given.append(api_key.strip())
    if len(set(given)) > 1:
        return _Refusal(
            401, "malformed", "Authorization and X-API-Key hold different keys", "send one key"
        )
    return given[0] if given else None


class GuardedRoute(APIRoute):
    """A FastAPI route whose handler first asks the app's :class:`Guard` (``app.state.guard``):
    before the body is read or a parameter is looked at. Its scope is also written into the
    OpenAPI operation (``x-hub-scope``), where :mod:`hub.api.security_docs` declares it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.hub_scope = scope_of(endpoint) or UNDECLARED
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        extra[SCOPE_EXTENSION] = self.hub_scope
        super().__init__(path, endpoint, openapi_extra=extra, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needed = self.hub_scope

        async def guarded(request: Request) -> Response:
            guard: Guard = request.app.state.guard
            refused = await guard.check(request, needed)
            if refused is not None:
                return refused
            return await handler(request)

        return guarded
