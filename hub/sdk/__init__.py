"""The connector SDK: everything a connector may import from the hub, and nothing more."""

from hub.errors import (
    DeliveryError,
    FatalDeliveryError,
    HubError,
    InboundRejected,
    RetriableDeliveryError,
    RetriableSourceError,
    SourceError,
)
from hub.redact import redact, redact_url
from hub.sdk.base import (
    Capability,
    ConnectorContext,
    ConnectorOptions,
    Delivery,
    DeliverySemantics,
    Inbound,
    InboundRequest,
    Poll,
    Polled,
    PollSource,
    PushSource,
    Receipt,
    Reply,
    Sink,
    Stored,
)
from hub.sdk.plugin import ConnectorPlugin

__all__ = [
    "Capability",
    "ConnectorContext",
    "ConnectorOptions",
    "ConnectorPlugin",
    "Delivery",
    "DeliveryError",
    "DeliverySemantics",
    "FatalDeliveryError",
    "HubError",
    "Inbound",
    "InboundRejected",
    "InboundRequest",
    "Poll",
    "PollSource",
    "Polled",
    "PushSource",
    "Receipt",
    "Reply",
    "RetriableDeliveryError",
    "RetriableSourceError",
    "Sink",
    "SourceError",
    "Stored",
    "redact",
    "redact_url",
]
