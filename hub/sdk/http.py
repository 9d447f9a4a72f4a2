"""What sinks that speak HTTP share: one request within the delivery's time budget, and the
hub's reading of the answer, so the HTTP and AS2 sinks retry and give up alike.

2xx is delivered; 408, 425, 429 and 5xx, timeouts and connection errors are retried; any
other status is fatal. The URL is shown with its password replaced by ``***`` and the
partner's answer redacted, since both end up in events, dead letters and the log.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC

import httpx

from hub.errors import FatalDeliveryError, RetriableDeliveryError
from hub.redact import redact, redact_url
from hub.sdk.base import Delivery

__all__ = ["RETRIABLE", "LazyClient", "parse_retry_after", "send"]

#: The statuses a later attempt may get past.
RETRIABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class LazyClient:
    """An ``httpx.Client`` made on first use and shared by the worker threads (one pool of
    connections per connector); :meth:`close` ends it, and a later use makes another."""

    def __init__(self, make: Callable[[], httpx.Client]) -> None:
        self._make = make
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = self._make()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


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


def send(
    client: httpx.Client,
    delivery: Delivery,
    *,
    method: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    refused_hint: str,
    honour_retry_after: bool = True,
) -> httpx.Response:
    """The 2xx answer to one request; ``timeout`` is cut to the delivery's budget. Raises
    :class:`RetriableDeliveryError` or :class:`FatalDeliveryError` (with ``refused_hint``)."""
    shown = redact_url(url)
    if delivery.timeout is not None:
        timeout = min(timeout, delivery.timeout)
    try:
        response = client.request(method, url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise RetriableDeliveryError(
            f"{shown} timed out after {timeout}s ({type(exc).__name__})"
        ) from None
    except httpx.TransportError as exc:
        raise RetriableDeliveryError(
            f"cannot reach {shown}: {redact(str(exc)) or type(exc).__name__}"
        ) from None
    status = response.status_code
    if 200 <= status < 300:
        return response
    snippet = response.text[:200].strip()
    detail = f"HTTP {status} from {shown}" + (f": {redact(snippet)}" if snippet else "")
    if status in RETRIABLE:
        wait = parse_retry_after(response.headers.get("retry-after"))
        raise RetriableDeliveryError(detail, retry_after=wait if honour_retry_after else None)
    raise FatalDeliveryError(detail, hint=refused_hint)
