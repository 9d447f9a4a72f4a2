"""HTTP inbound: the hub's ingest endpoint hands each request here to be checked.

Optionally verifies an HMAC signature header, as WooCommerce, Shopify and
GitHub webhooks send it, and acknowledges WooCommerce's webhook ping (a form
body ``webhook_id=N`` sent when a webhook is created) without storing it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.sdk import ConnectorOptions, Inbound, InboundRejected, InboundRequest, PushSource

__all__ = ["HttpInbound", "HttpInboundOptions", "SignatureOptions"]

_PING = re.compile(rb"^webhook_id=\d+$")
_KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "idempotency-key")


class SignatureOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = Field(description="header carrying the signature, e.g. X-WC-Webhook-Signature")
    secret: SecretStr
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["base64", "hex"] = "base64"
    prefix: str = Field("", description="text before the digest, e.g. 'sha256=' for GitHub")


class HttpInboundOptions(ConnectorOptions):
    signature: SignatureOptions | None = None
    acknowledge_pings: bool = Field(
        True, description="answer WooCommerce's `webhook_id=N` ping with 200 and store nothing"
    )
    keep_headers: list[str] = Field(
        default_factory=list, description="extra request headers to keep with the message"
    )


class HttpInbound(PushSource[HttpInboundOptions]):
    options_model = HttpInboundOptions

    def accept(self, request: InboundRequest) -> Inbound | None:
        content_type = request.content_type or ""
        if (
            self.options.acknowledge_pings
            and content_type.startswith("application/x-www-form-urlencoded")
            and _PING.match(request.body.strip())
        ):
            return None  # WooCommerce sends the ping unsigned; nothing is stored
        if self.options.signature is not None:
            self._verify(request)
        wanted = (*_KEPT_HEADERS, *(h.lower() for h in self.options.keep_headers))
        headers = {name: request.headers[name] for name in wanted if name in request.headers}
        return Inbound(body=request.body, headers=headers, content_type=request.content_type)

    def _verify(self, request: InboundRequest) -> None:
        sig = self.options.signature
        assert sig is not None
        given = request.headers.get(sig.header.lower())
        if not given:
            raise InboundRejected(
                f"the {sig.header} header is missing",
                status=401,
                reason="unauthorized",
                hint="the sender must sign the body with the shared secret",
            )
        digest = hmac.new(
            sig.secret.get_secret_value().encode(), request.body, getattr(hashlib, sig.algorithm)
        ).digest()
        expected = sig.prefix + (
            base64.b64encode(digest).decode() if sig.encoding == "base64" else digest.hex()
        )
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise InboundRejected(
                f"the {sig.header} signature does not match the body",
                status=401,
                reason="unauthorized",
                hint="check that sender and route share the same secret",
            )
