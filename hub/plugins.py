"""Connector plugins, discovered through the ``hub.connectors`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal

from hub.errors import PluginError
from hub.sdk import ConnectorPlugin, PollSource, PushSource, Sink

__all__ = ["available_connectors", "connector_plugins", "sink_class", "source_class"]

GROUP = "hub.connectors"
Role = Literal["source", "sink"]


@cache
def connector_plugins() -> dict[str, ConnectorPlugin]:
    """Load every registered plugin once; a malformed one fails here, by name."""
    plugins: dict[str, ConnectorPlugin] = {}
    for ep in entry_points(group=GROUP):
        try:
            plugin = ep.load()
        except Exception as exc:  # a third-party import can fail in any way
            raise PluginError(
                f"connector plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
            ) from exc
        if not isinstance(plugin, ConnectorPlugin):
            raise PluginError(
                f"connector plugin {ep.name!r} ({ep.value}) is a {type(plugin).__name__}, "
                "not a hub.sdk.ConnectorPlugin"
            )
        plugins[ep.name] = plugin
    return plugins


def available_connectors(role: Role) -> list[str]:
    return sorted(name for name, p in connector_plugins().items() if getattr(p, role) is not None)


def _role_class(name: str, role: Role) -> Any:
    plugin = connector_plugins().get(name)
    cls = getattr(plugin, role) if plugin else None
    if cls is None:
        raise PluginError(
            f"no {role} connector named {name!r}",
            hint=f"{role} connectors installed: " + ", ".join(available_connectors(role)),
        )
    return cls


def source_class(name: str) -> type[PushSource[Any]] | type[PollSource[Any]]:
    cls: type[PushSource[Any]] | type[PollSource[Any]] = _role_class(name, "source")
    return cls


def sink_class(name: str) -> type[Sink[Any]]:
    cls: type[Sink[Any]] = _role_class(name, "sink")
    return cls
