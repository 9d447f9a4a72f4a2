"""The object a connector package exposes through the ``hub.connectors`` entry point."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from hub.errors import PluginError
from hub.sdk.base import ConnectorOptions, DeliverySemantics, PollSource, PushSource, Sink

__all__ = ["ConnectorPlugin"]


@dataclass(frozen=True)
class ConnectorPlugin:
    """A named connector offering a source role, a sink role, or both.

    It is checked when created, so a broken plugin fails at registration with an
    error naming the plugin and what is missing, not later in the middle of a run.
    """

    name: str
    description: str
    #: A :class:`PushSource` (its peer calls the hub) or a :class:`PollSource` (the hub's
    #: scheduler calls it).
    source: type[PushSource[Any]] | type[PollSource[Any]] | None = None
    sink: type[Sink[Any]] | None = None

    def __post_init__(self) -> None:
        missing: list[str] = []
        if self.source is None and self.sink is None:
            missing.append("neither a source nor a sink class is given")
        roles: tuple[tuple[str, Any, tuple[type, ...]], ...] = (
            ("source", self.source, (PushSource, PollSource)),
            ("sink", self.sink, (Sink,)),
        )
        for role, cls, bases in roles:
            if cls is None:
                continue
            if not (inspect.isclass(cls) and issubclass(cls, bases)):
                names = " or ".join(f"hub.sdk.{b.__name__}" for b in bases)
                missing.append(f"{role} {cls!r} is not a subclass of {names}")
                continue
            if inspect.isabstract(cls):
                abstract = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
                missing.append(f"{role} {cls.__name__} does not implement {abstract}")
            if not _takes_context(cls):
                missing.append(
                    f"{role} {cls.__name__}.__init__ must accept (name, options, context=None)"
                )
            options_model = getattr(cls, "options_model", None)
            if not (inspect.isclass(options_model) and issubclass(options_model, ConnectorOptions)):
                missing.append(f"{role} {cls.__name__}.options_model is not a ConnectorOptions")
            semantics = getattr(cls, "delivery_semantics", None)
            if role == "sink" and not isinstance(semantics, DeliverySemantics):
                missing.append(
                    f"sink {cls.__name__}.delivery_semantics is {semantics!r}, "
                    "not a hub.sdk.DeliverySemantics"
                )
        if missing:
            raise PluginError(
                f"connector plugin {self.name!r} is malformed: " + "; ".join(missing),
                hint="see docs/connectors.md for what a plugin must provide",
            )


def _takes_context(cls: type) -> bool:
    """The engine builds connectors as ``cls(name, options, context)``."""
    try:
        inspect.signature(cls).bind("name", object(), None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a C extension): trust it
        return True
    return True
