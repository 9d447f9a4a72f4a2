"""ASGI middleware around every answer: browser safety headers and the request body deadline.

Plain ASGI (not Starlette's ``BaseHTTPMiddleware``), so a streamed body is not buffered and
the cost per request is a dictionary lookup or two.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BODY_TIMEOUT_HEADERS", "BodyTimeout", "SecurityHeaders"]

#: Added to every answer that does not set them itself. ``nosniff``: a browser takes the
#: declared type, never guesses a script in a JSON answer; ``frame-ancestors 'none'`` and
#: ``X-Frame-Options``: no page may frame the API (clickjacking). No ``default-src`` here,
#: so /docs (Swagger UI, which loads its script) still works; stored payloads get a policy
#: that forbids everything (:mod:`hub.api.downloads`).
_SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


#: The 408 closes the connection: the rest of the body may still be on its way.
BODY_TIMEOUT_HEADERS = {"Connection": "close"}


class BodyTimedOut(HTTPException):
    """The request body did not arrive in time (an HTTPException, so FastAPI's own body
    parsing lets it through to the error handler instead of calling it a parse error)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body did not arrive within {seconds:g} s",
            headers=BODY_TIMEOUT_HEADERS,
        )


class BodyTimeout:
    """The whole request body must arrive within ``seconds`` of the request's start.

    A client that trickles its body (a byte every few seconds) would otherwise hold a
    connection, and the request's memory, for as long as it likes. Once the body is in,
    later ``receive()`` calls (waiting for a disconnect) are not limited.
    """

    def __init__(self, app: ASGIApp, seconds: float, on_timeout: Any = None) -> None:
        self.app = app
        self.seconds = seconds
        self.on_timeout = on_timeout  # called with the scope, to count it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if self.on_timeout is not None:
                    self.on_timeout(scope)
                raise BodyTimedOut(self.seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)
