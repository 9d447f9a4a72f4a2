"""The ``as2`` connector: AS2 (RFC 4130) inbound on ``POST /as2/{route}`` and an AS2 sink,
signed, encrypted and optionally compressed, with synchronous or asynchronous MDNs.

Needs the ``as2`` extra (``asn1crypto``) beside ``cryptography``.
"""

from connectors.as2.inbound import As2Inbound, As2InboundOptions
from connectors.as2.sink import As2Sink, As2SinkOptions
from hub.sdk import ConnectorPlugin

__all__ = ["As2Inbound", "As2InboundOptions", "As2Sink", "As2SinkOptions", "plugin"]

plugin = ConnectorPlugin(
    name="as2",
    description="Receive AS2 on /as2/{route} with signed MDNs; send AS2 and await the MDN.",
    source=As2Inbound,
    sink=As2Sink,
)
