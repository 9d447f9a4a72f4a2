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

The protocol is uvicorn's own h11 implementation with a timer added; it relies on
``H11Protocol``'s attributes ``conn``, ``cycle``, ``transport``, ``scope`` and
``limit_concurrency``, which the tests exercise against the installed uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hub.config.models import ServerConfig

__all__ = ["OPERATIONS_PATHS", "GuardedH11Protocol", "serve", "uvicorn_config"]

log = logging.getLogger("hub.server")

#: Exempt from ``server.max_connections``: a probe or a scrape must reach a saturated hub.
OPERATIONS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and exempt probe paths."""

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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        serving = self.cycle is not None and not self.cycle.response_complete
        if serving or self.transport.is_closing():
            return  # a request is being answered: its body has its own deadline
        log.debug(
            "closed a connection from %s: no complete request within %g s",
            self.client,
            self.header_timeout,
        )
        self.transport.close()  # connection_lost follows, as for any closed connection


def _protocol(header_timeout: float) -> type[GuardedH11Protocol]:
    return type("HubH11Protocol", (GuardedH11Protocol,), {"header_timeout": header_timeout})


def uvicorn_config(app: Any, server: ServerConfig, **overrides: Any) -> uvicorn.Config:
    """A uvicorn config with the server section's limits (``overrides`` win)."""
    settings: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "log_config": None,  # uvicorn's records go through the hub's handler
        "http": _protocol(server.header_timeout_seconds),
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
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C
        running.run(sockets=sockets)
    return running.started
