"""The ``http`` connector: inbound webhooks and an outbound HTTP sink."""

from connectors.http.inbound import HttpInbound, HttpInboundOptions
from connectors.http.sink import HttpSink, HttpSinkOptions
from hub.sdk import ConnectorPlugin

__all__ = ["HttpInbound", "HttpInboundOptions", "HttpSink", "HttpSinkOptions", "plugin"]

plugin = ConnectorPlugin(
    name="http",
    description="Receive webhooks on /ingest/{route}; deliver by HTTP POST/PUT.",
    source=HttpInbound,
    sink=HttpSink,
)
