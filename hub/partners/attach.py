"""Wire the partner profiles into a running hub once its store is open.

* a route with ``partner:`` gets an :class:`~hub.partners.outgoing.Enveloper`;
* an inbox route gets an :class:`~hub.partners.inbox.Inbox` (at ingest) and an
  :class:`~hub.partners.inbox.InboxTranslator` (in the worker's turn);
* each partner with a ``sink`` gets the hub's own route ``NAME.acks``, which delivers the
  acknowledgements generated for it. These routes are the worker's only: they are not in
  the config's routes, so no one can post to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from typing import Any

from hub.config import LoadedConfig, RouteConfig
from hub.config.models import RetryConfig
from hub.delivery.retry import RetryPolicy
from hub.errors import InboundRejected
from hub.formats.edifact import EdifactCodec, EdifactOptions
from hub.formats.x12 import X12Codec, X12Options
from hub.partners.directory import PartnerDirectory
from hub.partners.inbox import Inbox, ack_route
from hub.partners.outgoing import Enveloper
from hub.partners.turns import InboxTranslator, VerbatimTranslator
from hub.pipeline.build import CompiledRoute
from hub.plugins import sink_class
from hub.sdk import ConnectorContext, Inbound, InboundRequest, PushSource
from hub.sdk.base import ConnectorOptions
from hub.store import Store

__all__ = ["attach_partners"]


class _NoIngest(PushSource[ConnectorOptions]):
    """The source of an acknowledgement route: nothing arrives on it from outside."""

    options_model = ConnectorOptions

    def accept(self, request: InboundRequest) -> Inbound | None:
        raise InboundRejected("acknowledgement routes take no requests", status=404)


def attach_partners(
    loaded: LoadedConfig,
    routes: MutableMapping[str, CompiledRoute],
    store: Store,
) -> dict[str, CompiledRoute]:
    """Give the config's routes their partner parts; return the acknowledgement routes."""
    config = loaded.config
    if not config.partners:
        return {}
    directory = PartnerDirectory(config.partners)
    context = ConnectorContext(base_dir=loaded.base_dir)
    acks: dict[str, CompiledRoute] = {}
    ack_sinks: dict[str, str] = {}
    for name, profile in config.partners.items():
        if profile.sink is None:
            continue
        cls = sink_class(profile.sink.type)
        sink = cls(
            profile.sink.name, cls.options_model.model_validate(profile.sink.options), context
        )
        plain = {"structure": False, "validate": False}  # the bytes are sent as made
        codec: Any = (
            X12Codec(X12Options.model_validate(plain))
            if profile.standard == "x12"
            else EdifactCodec(EdifactOptions.model_validate(plain))
        )
        route_name = ack_route(name)
        acks[route_name] = CompiledRoute(
            name=route_name,
            source_type="partner",
            source=_NoIngest(route_name, ConnectorOptions(), context),
            translator=VerbatimTranslator(route=route_name, input_codec=codec, output_codec=codec),
            sinks={profile.sink.name: sink},
            retry=RetryPolicy.from_config(RetryConfig()),
            config=RouteConfig(sinks=[profile.sink], description=f"acknowledgements to {name}"),
        )
        ack_sinks[name] = profile.sink.name
    route_sinks = {name: list(route.sinks) for name, route in routes.items()}
    for name, route in routes.items():
        cfg = route.config
        if cfg.partner is not None and cfg.partner in config.partners:
            enveloper = Enveloper(cfg.partner, config.partners[cfg.partner])
            route.translator = dataclasses.replace(route.translator, envelope=enveloper)
        if cfg.inbox:
            translator = route.translator
            options = getattr(translator.input_codec, "options", None)
            edifact = options if isinstance(options, EdifactOptions) else None
            x12 = options if isinstance(options, X12Options) else None
            inbox = Inbox(
                route=name,
                directory=directory,
                store=store,
                sinks=list(route.sinks),
                edifact_options=edifact,
                x12_options=x12,
                limits=config.limits,
                ack_sinks=ack_sinks,
            )
            route.inbox = inbox
            route.translator = InboxTranslator(
                route=name,
                input_codec=translator.input_codec,
                output_codec=translator.output_codec,
                inbox=inbox,
                route_sinks=route_sinks,
            )
    return acks
