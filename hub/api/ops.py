"""The operations port of a process that serves no API (``hub worker``).

It answers ``/healthz``, ``/readyz`` and ``/metrics`` exactly as ``hub run`` does on its own
port (the same router), from a uvicorn server on a thread of its own: the worker threads
can be busy, the event loop here still answers.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from hub import __version__
from hub.api import health
from hub.api.auth import Guard
from hub.api.errors import install_error_handlers
from hub.api.middleware import SecurityHeaders
from hub.api.server import uvicorn_config
from hub.errors import HubError
from hub.runtime import Hub

__all__ = ["OpsServer", "create_ops_app"]

log = logging.getLogger("hub.ops")


def create_ops_app(hub: Hub) -> FastAPI:
    """Health and metrics only; the hub's lifecycle belongs to whoever started it."""
    app = FastAPI(
        title="Switchboard worker",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.hub = hub
    app.state.guard = Guard(hub.keys, hub.config.auth.anonymous, hub.metrics)
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    return app


class OpsServer:
    """``start()`` returns once the port answers; a port that cannot be bound is a HubError."""

    def __init__(self, hub: Hub, host: str, port: int) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        sock = _bind(self.host, self.port)
        # The same guards as the API port: slow clients cannot hold it (hub/api/server.py).
        config = uvicorn_config(create_ops_app(self.hub), self.hub.config.server, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="hub-ops", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise HubError(f"the metrics port {self.host}:{self.port} did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        log.info("health and metrics on http://%s:%d (/healthz /readyz /metrics)", *_shown(sock))

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        self._server = self._thread = None


def _bind(host: str, port: int) -> socket.socket:
    sock: socket.socket | None = None
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise HubError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
            where="worker.metrics_port",
            hint="pick a free port (--metrics-port), or check server.host",
        ) from None
    return sock


def _shown(sock: socket.socket) -> tuple[str, int]:
    host, port = sock.getsockname()[:2]
    return str(host), int(port)
