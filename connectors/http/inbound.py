"""HTTP inbound: the hub's ingest endpoint hands each request here to be checked.

Optionally verifies an HMAC signature header, as WooCommerce, Shopify and
GitHub webhooks send it, and acknowledges WooCommerce's webhook ping (a form
body ``webhook_id=N`` sent when a webhook is created) without storing it.

A valid signature does not make a request fresh: whoever saw one webhook can send
it again. Senders that sign a timestamp with the body (Slack, Stripe, Svix) allow
replay protection: with ``timestamp_header``, the signed content is built from a
template such as ``{timestamp}.{body}``, and a request signed longer ago (or further
ahead) than ``tolerance_seconds`` is refused. Senders that sign the body only
(WooCommerce) are protected by the route's idempotency key instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hub.sdk import ConnectorOptions, Inbound, InboundRejected, InboundRequest, PushSource

__all__ = ["HttpInbound", "HttpInboundOptions", "SignatureOptions"]

_PING = re.compile(rb"^webhook_id=\d+$")
_UNIX_TIME = re.compile(r"^\d{1,12}(\.\d{1,9})?$")
_KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "idempotency-key")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class SignatureOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = Field(description="header carrying the signature, e.g. X-WC-Webhook-Signature")
    secret: SecretStr
    algorithm: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["base64", "hex"] = "base64"
    prefix: str = Field("", description="text before the digest, e.g. 'sha256=' for GitHub")
    timestamp_header: str | None = Field(
        None,
        description="header carrying the Unix time (seconds) the sender signed with the body, "
        "e.g. X-Slack-Request-Timestamp: turns replay protection on",
    )
    tolerance_seconds: float = Field(
        300, gt=0, description="refuse a request signed longer ago (or further ahead) than this"
    )
    signed_payload: str | None = Field(
        None,
        description="what the sender signs, from {timestamp} and {body}; default {body}, or "
        "{timestamp}.{body} with a timestamp_header (Stripe); Slack: v0:{timestamp}:{body}",
    )

    @model_validator(mode="after")
    def _payload_matches_the_timestamp(self) -> SignatureOptions:
        template = self.payload_template
        names = _PLACEHOLDER.findall(template)
        unknown = sorted(set(names) - {"timestamp", "body"})
        if unknown:
            raise ValueError(
                f"signed_payload has unknown placeholder(s) {unknown}; "
                "use {timestamp} and {body}"
            )
        if names.count("body") != 1:
            raise ValueError("signed_payload must contain {body} exactly once")
        if "timestamp" in names and self.timestamp_header is None:
            raise ValueError("signed_payload uses {timestamp}: set timestamp_header too")
        if self.timestamp_header is not None and "timestamp" not in names:
            raise ValueError(
                "with timestamp_header, signed_payload must contain {timestamp}: a timestamp "
                "the signature does not cover could be changed by anyone"
            )
        return self

    @property
    def payload_template(self) -> str:
        if self.signed_payload is not None:
            return self.signed_payload
        return "{body}" if self.timestamp_header is None else "{timestamp}.{body}"


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
    quick_accept = True  # headers and at most one HMAC of the body

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
        stamp = _timestamp(sig, request) if sig.timestamp_header is not None else None
        head, _, tail = sig.payload_template.partition("{body}")
        signed = b"".join((_fill(head, stamp), request.body, _fill(tail, stamp)))
        digest = hmac.new(
            sig.secret.get_secret_value().encode(), signed, getattr(hashlib, sig.algorithm)
        ).digest()
        expected = sig.prefix + (
            base64.b64encode(digest).decode() if sig.encoding == "base64" else digest.hex()
        )
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise InboundRejected(
                f"the {sig.header} signature does not match the body",
                status=401,
                reason="unauthorized",
                hint="check that sender and route share the same secret"
                + (f" and that it signs {sig.payload_template}" if stamp is not None else ""),
            )
        if stamp is not None:
            _check_fresh(sig, stamp)


def _timestamp(sig: SignatureOptions, request: InboundRequest) -> str:
    """The signed timestamp as sent (it is part of the signed content, byte for byte)."""
    assert sig.timestamp_header is not None
    value = request.headers.get(sig.timestamp_header.lower(), "").strip()
    if not value:
        raise InboundRejected(
            f"the {sig.timestamp_header} header is missing",
            status=401,
            reason="unauthorized",
            hint="the sender must send the Unix time it signed the request at (replay protection)",
        )
    if not _UNIX_TIME.match(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise InboundRejected(
            f"the {sig.timestamp_header} header is not a Unix time in seconds: {shown!r}",
            status=401,
            reason="unauthorized",
            hint="send the number of seconds since 1970-01-01 UTC, e.g. 1767225600",
        )
    return value


def _fill(template: str, stamp: str | None) -> bytes:
    return template.replace("{timestamp}", stamp or "").encode()


def _check_fresh(sig: SignatureOptions, stamp: str) -> None:
    """A request signed too long ago is a replay (or held up): refuse it, saying by how much."""
    age = time.time() - float(stamp)
    if abs(age) <= sig.tolerance_seconds:
        return
    limit = f"{sig.tolerance_seconds:g} s"
    if age > 0:
        message = f"the request was signed {age:.0f} s ago; this route accepts at most {limit}"
        hint = "a replayed or delayed webhook: the sender must sign each request when it sends it"
    else:
        message = f"the request is signed {-age:.0f} s in the future; at most {limit} is allowed"
        hint = "the sender's clock is ahead: check that both clocks are set (NTP)"
    raise InboundRejected(
        message,
        status=401,
        reason="stale",
        where=f"header {sig.timestamp_header}",
        hint=hint + f" (signature.tolerance_seconds is {limit})",
    )
