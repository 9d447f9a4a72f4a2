"""HTTP sink: POST (or PUT) each message to a partner's endpoint with httpx.

2xx is delivered; 408, 429 and 5xx, timeouts and connection errors are retried
(honouring Retry-After); any other status is fatal. Every request carries an
``Idempotency-Key`` stable per message and sink, so a partner can drop repeats.

A URL may carry credentials (``https://user:${PASSWORD}@host``): receipts and errors
show it with the password replaced by ``***``, since they end up in the event
history, the dead letters and the log.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import Field, SecretStr

from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    Delivery,
    DeliverySemantics,
    Receipt,
    Sink,
    redact_url,
)
from hub.sdk.http import LazyClient, parse_retry_after, send

__all__ = ["HttpSink", "HttpSinkOptions", "parse_retry_after"]


class HttpSinkOptions(ConnectorOptions):
    url: str = Field(pattern=r"^https?://", description="the partner's endpoint")
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token: SecretStr | None = None
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    verify_tls: bool = True


class HttpSink(Sink[HttpSinkOptions]):
    options_model = HttpSinkOptions
    # Every attempt sends the same Idempotency-Key; the partner keeps one copy per key.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def __init__(
        self, name: str, options: HttpSinkOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._client = LazyClient(self._new_client)  # worker threads share one pool

    @property
    def client(self) -> httpx.Client:
        return self._client.get()

    def _new_client(self) -> httpx.Client:
        headers = dict(self.options.headers)
        if self.options.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.options.bearer_token.get_secret_value()}"
        return httpx.Client(
            timeout=self.options.timeout_seconds,
            verify=self.options.verify_tls,
            headers=headers,
            follow_redirects=False,
        )

    def deliver(self, delivery: Delivery) -> Receipt:
        response = send(
            self.client,
            delivery,
            method=self.options.method,
            url=self.options.url,
            body=delivery.body,
            headers={
                "Content-Type": delivery.content_type,
                "Idempotency-Key": delivery.idempotency_key,
                "X-Hub-Message-Id": delivery.message_id,
                "X-Hub-Attempt": str(delivery.attempt),
            },
            timeout=self.options.timeout_seconds,
            refused_hint="the partner refused the message; fix it, then send it again",
        )
        return Receipt(f"HTTP {response.status_code} from {redact_url(self.options.url)}")

    def close(self) -> None:
        self._client.close()
