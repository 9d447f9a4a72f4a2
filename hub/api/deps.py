"""Access to the running hub from request handlers."""

from __future__ import annotations

from fastapi import Request

from hub.runtime import Hub

__all__ = ["get_hub"]


async def get_hub(request: Request) -> Hub:
    """Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    thread hop on every request for an attribute read."""
    hub: Hub = request.app.state.hub
    return hub
