"""The HTTP server of ``hub run`` (and of ``hub worker``'s operations port): uvicorn, guarded.

A client that opens a connection and sends its request a byte every few seconds holds that
connection, and a file descriptor, for as long as it likes: uvicorn has no deadline for a
request's head (its keep-alive timeout only runs between requests, and any byte resets it).
A thousand such clients exhaust the process. So the server here:

- closes a connection that has no request being served and has not sent a complete request
  head within ``server.header_timeout_seconds`` (counted from the connection's start, or from
  the previous answer on a kept-alive connection): a slow head, or bytes trickling after an
  answer, get no more time than that;
- refuses, with uvicorn's ``503``, a request that arrives while ``server.max_connections``
  connections are open (uvicorn's ``limit_concurrency``) -- except the operations endpoints
  (``/healthz``, ``/readyz``, ``/metrics``), so a saturated hub can still be probed and watched;
- caps a request head at ``server.max_header_bytes`` (uvicorn's
  ``h11_max_incomplete_event_size``; more is a ``400``);
- closes an idle kept-alive connection after ``server.keep_alive_seconds``.

The request *body* has its own deadline in the application (``server.body_timeout_seconds``,
:class:`hub.api.middleware.BodyTimeout`): a ``408`` that closes the connection.

The protocol is uvicorn's own, with a timer added: its h11 implementation, or its httptools
one (``server.http``; httptools and uvloop come with the ``fast`` extra). httptools has no cap on
an incomplete head of its own, so the hub counts the bytes of a head still being read there and
answers ``400`` past ``server.max_header_bytes``, as h11 does. Both rely on the protocols'
attributes ``cycle``, ``transport``, ``scope``, ``loop`` and ``limit_concurrency``, which the
tests (tests/hostile/test_slow_clients.py, run with each parser) exercise against the
installed uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar, Literal, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hub.config.models import ServerConfig
from hub.errors import HubError

__all__ = [
    "OPERATIONS_PATHS",
    "GuardedH11Protocol",
    "event_loop",
    "guarded_protocol",
    "http_parser",
    "serve",
    "uvicorn_config",
]

log = logging.getLogger("hub.server")

#: Exempt from ``server.max_connections``: a probe or a scrape must reach a saturated hub.
OPERATIONS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

Parser = Literal["h11", "httptools"]
FAST_HINT = "install the fast extra: pip install 'switchboard-hub[fast]'"


class _Guards:
    """What the hub adds to either uvicorn HTTP/1.1 protocol: a deadline for the request head
    and the operations paths exempt from the connection cap. Mixed in before the protocol."""

    header_timeout: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        self._connection_cap: int | None = None
        super().__init__(*args, **kwargs)

    # uvicorn reads ``limit_concurrency`` once a request's head is parsed and ``scope`` set.
    @property
    def limit_concurrency(self) -> int | None:
        scope = getattr(self, "scope", None)
        if scope is not None and scope.get("path") in OPERATIONS_PATHS:
            return None
        return self._connection_cap

    @limit_concurrency.setter
    def limit_concurrency(self, value: int | None) -> None:
        self._connection_cap = value

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(Any, super()).connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        cast(Any, super()).on_response_complete()
        if not cast(Any, self).transport.is_closing():
            self._arm()  # the next request's head gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        cast(Any, super()).connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        loop: asyncio.AbstractEventLoop = cast(Any, self).loop
        self._head_timer = loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        protocol: Any = self
        serving = protocol.cycle is not None and not protocol.cycle.response_complete
        if serving or protocol.transport.is_closing():
            return  # a request is being answered: its body has its own deadline
        log.debug(
            "closed a connection from %s: no complete request within %g s",
            protocol.client,
            self.header_timeout,
        )
        protocol.transport.close()  # connection_lost follows, as for any closed connection


class GuardedH11Protocol(_Guards, H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and exempt probe paths
    (h11 itself caps an incomplete head: ``h11_max_incomplete_event_size``)."""


def _httptools_protocol() -> type[asyncio.Protocol]:
    """The guarded httptools protocol; imported only when httptools is installed."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(_Guards, HttpToolsProtocol):
        """uvicorn's httptools protocol with the same guards, and a cap on the bytes of a
        request head still incomplete (``max_head_bytes``), which httptools lacks."""

        max_head_bytes: ClassVar[int] = 16 * 1024

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._head_bytes = 0
            self._reading_head = True
            super().__init__(*args, **kwargs)

        def data_received(self, data: bytes) -> None:
            if self._reading_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if (
                self._reading_head
                and self._head_bytes > self.max_head_bytes
                and not self.transport.is_closing()
            ):
                log.debug("refused a request head over %d bytes", self.max_head_bytes)
                self.send_400_response("Request head too large.")

        def on_headers_complete(self) -> None:
            self._reading_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._reading_head, self._head_bytes = True, 0  # a pipelined next request

    return GuardedHttpToolsProtocol


def http_parser(setting: str) -> Parser:
    """The parser ``server.http`` asks for: ``auto`` is httptools when installed, else h11."""
    installed = importlib.util.find_spec("httptools") is not None
    if setting == "h11":
        return "h11"
    if setting == "httptools" and not installed:
        raise HubError(
            "server.http is httptools, but httptools is not installed",
            where="server.http",
            hint=f"{FAST_HINT}, or set server.http: h11",
        )
    return "httptools" if installed else "h11"


def event_loop(setting: str) -> str:
    """The loop ``server.loop`` asks for, for uvicorn; uvloop named but missing is an error."""
    if setting == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise HubError(
            "server.loop is uvloop, but uvloop is not installed",
            where="server.loop",
            hint=f"{FAST_HINT}, or set server.loop: asyncio",
        )
    return setting


def _loop_name(setting: str) -> str:
    if setting != "auto":
        return setting
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def guarded_protocol(server: ServerConfig) -> type[asyncio.Protocol]:
    """The protocol class for ``server``: its parser, with its deadline and head cap."""
    parser = http_parser(server.http)
    base = GuardedH11Protocol if parser == "h11" else _httptools_protocol()
    attributes: dict[str, Any] = {"header_timeout": server.header_timeout_seconds}
    if parser == "httptools":
        attributes["max_head_bytes"] = server.max_header_bytes
    return type(f"Hub{base.__name__}", (base,), attributes)


def uvicorn_config(app: Any, server: ServerConfig, **overrides: Any) -> uvicorn.Config:
    """A uvicorn config with the server section's limits (``overrides`` win)."""
    settings: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "log_config": None,  # uvicorn's records go through the hub's handler
        "http": guarded_protocol(server),
        "loop": event_loop(server.loop),
        "limit_concurrency": server.max_connections,
        "timeout_keep_alive": server.keep_alive_seconds,
        "h11_max_incomplete_event_size": server.max_header_bytes,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


class _Server(uvicorn.Server):
    """Calls ``on_exit`` when a signal asks it to stop, before it waits for open requests
    (``hub run`` cancels running previews there, so none keeps it waiting)."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._on_exit is not None:
            self._on_exit()
        super().handle_exit(sig, frame)


def serve(
    app: Any,
    server: ServerConfig,
    *,
    sockets: list[socket.socket] | None = None,
    on_exit: Callable[[], None] | None = None,
    **overrides: Any,
) -> bool:
    """Run ``app`` until the process is told to stop; False when the server did not start."""
    running = _Server(uvicorn_config(app, server, **overrides), on_exit)
    log.info("HTTP parser %s, event loop %s", http_parser(server.http), _loop_name(server.loop))
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C
        running.run(sockets=sockets)
    return running.started
