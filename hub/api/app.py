"""The FastAPI application around a :class:`hub.runtime.Hub`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Scope

from hub import __version__
from hub.api import deadletters, health, keys, mappings, messages, preview, sources
from hub.api.auth import Guard
from hub.api.console import install_console
from hub.api.errors import install_error_handlers
from hub.api.ingest import ingest_router
from hub.api.middleware import BodyTimeout, SecurityHeaders
from hub.api.openapi import IngestDocs, install_openapi
from hub.api.preview_pool import PreviewPool
from hub.runtime import Hub

__all__ = ["create_app"]


def create_app(hub: Hub, *, manage: bool = True) -> FastAPI:
    """Build the app; with ``manage`` the app starts the worker and closes the hub.

    ``app.state.previews`` runs ``POST /preview``; stopping the app cancels running
    previews (``hub run`` also stops it as soon as a signal asks the server to stop).
    """
    previews = PreviewPool(hub.config.mappings.preview_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage:
            hub.start()
        try:
            yield
        finally:
            previews.close()
            if manage:
                hub.close()

    app = FastAPI(
        title="Switchboard",
        version=__version__,
        description="Receive, translate and deliver business messages without losing any.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.previews = previews
    # who calls, and may they: every route asks it before its body is read (hub.api.auth)
    app.state.guard = Guard(hub.keys, hub.config.auth.anonymous, hub.metrics)
    install_error_handlers(app)

    def count_timeout(scope: Scope) -> None:
        route = str(scope.get("path", "")).removeprefix("/ingest/")
        if route in hub.routes and scope.get("path") == f"/ingest/{route}":
            hub.metrics.rejected.labels(route, "body_timeout").inc()

    app.add_middleware(
        BodyTimeout, seconds=hub.config.server.body_timeout_seconds, on_timeout=count_timeout
    )
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer has them
    docs = IngestDocs(hub)
    app.include_router(ingest_router(hub, docs))
    app.include_router(messages.router)
    app.include_router(deadletters.router)
    app.include_router(preview.router)
    app.include_router(mappings.router)
    app.include_router(keys.router)
    app.include_router(sources.router)
    app.include_router(health.router)
    install_console(app, hub)  # /ui: its own sign-in (a session cookie), not in OpenAPI
    install_openapi(app, docs, hub)
    return app
