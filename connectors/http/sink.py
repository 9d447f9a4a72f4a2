"""HTTP sink: POST (or PUT) each message to a partner's endpoint with httpx.

2xx is delivered; 408, 429 and 5xx, timeouts and connection errors are retried
(honouring Retry-After); any other status is fatal. Every request carries an
``Idempotency-Key`` stable per message and sink, so a partner can drop repeats.

A URL may carry credentials (``https://user:${PASSWORD}@host``): receipts and errors
show it with the password replaced by ``***``, since they end up in the event
history, the dead letters and the log.
"""

from __future__ import annotations

import email.utils
import threading
import time
from datetime import UTC
from typing import Literal

import httpx
from pydantic import Field, SecretStr

from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Receipt,
    RetriableDeliveryError,
    Sink,
    redact,
    redact_url,
)

__all__ = ["HttpSink", "HttpSinkOptions", "parse_retry_after"]

_RETRIABLE = {408, 425, 429, 500, 502, 503, 504}


class HttpSinkOptions(ConnectorOptions):
    url: str = Field(pattern=r"^https?://", description="the partner's endpoint")
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    bearer_token: SecretStr | None = None
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    verify_tls: bool = True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


class HttpSink(Sink[HttpSinkOptions]):
    options_model = HttpSinkOptions
    # Every attempt sends the same Idempotency-Key; the partner keeps one copy per key.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def __init__(
        self, name: str, options: HttpSinkOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()  # worker threads share one sink and one connection pool

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                headers = dict(self.options.headers)
                if self.options.bearer_token is not None:
                    token = self.options.bearer_token.get_secret_value()
                    headers["Authorization"] = f"Bearer {token}"
                self._client = httpx.Client(
                    timeout=self.options.timeout_seconds,
                    verify=self.options.verify_tls,
                    headers=headers,
                    follow_redirects=False,
                )
            return self._client

    def deliver(self, delivery: Delivery) -> Receipt:
        url = self.options.url
        shown = redact_url(url)
        timeout = self.options.timeout_seconds
        if delivery.timeout is not None:
            timeout = min(timeout, delivery.timeout)
        try:
            response = self.client.request(
                self.options.method,
                url,
                content=delivery.body,
                headers={
                    "Content-Type": delivery.content_type,
                    "Idempotency-Key": delivery.idempotency_key,
                    "X-Hub-Message-Id": delivery.message_id,
                    "X-Hub-Attempt": str(delivery.attempt),
                },
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            raise RetriableDeliveryError(
                f"{shown} timed out after {timeout}s ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise RetriableDeliveryError(
                f"cannot reach {shown}: {redact(str(exc)) or type(exc).__name__}"
            ) from None
        status = response.status_code
        snippet = response.text[:200].strip()
        if 200 <= status < 300:
            return Receipt(f"HTTP {status} from {shown}")
        detail = f"HTTP {status} from {shown}" + (f": {redact(snippet)}" if snippet else "")
        if status in _RETRIABLE:
            raise RetriableDeliveryError(
                detail, retry_after=parse_retry_after(response.headers.get("retry-after"))
            )
        raise FatalDeliveryError(
            detail, hint="the partner refused the message; fix it, then send it again"
        )

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
