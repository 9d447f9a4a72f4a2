"""The HTTP API: ingest, message lookup, health and metrics."""

from hub.api.app import create_app

__all__ = ["create_app"]
