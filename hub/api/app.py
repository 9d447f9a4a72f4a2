"""The FastAPI application around a :class:`hub.runtime.Hub`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hub import __version__
from hub.api import deadletters, health, ingest, mappings, messages, preview
from hub.api.errors import install_error_handlers
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
    install_error_handlers(app)
    app.include_router(ingest.router)
    app.include_router(messages.router)
    app.include_router(deadletters.router)
    app.include_router(preview.router)
    app.include_router(mappings.router)
    app.include_router(health.router)
    return app
