"""Access to the running hub from request handlers."""

from __future__ import annotations

from fastapi import Request

from hub.runtime import Hub

__all__ = ["get_hub"]


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub
