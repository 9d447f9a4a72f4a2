"""The ``http`` sink against a loopback partner: the contract kit plus HTTP specifics."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.http import HttpSink, HttpSinkOptions
from connectors.http.sink import parse_retry_after
from hub.sdk import Delivery, FatalDeliveryError, Receipt, RetriableDeliveryError, Sink
from hub.sdk.testing import SinkContract, make_delivery

from .http_peer import HttpPeer


class TestHttpSinkContract(SinkContract):
    sink_class = HttpSink

    @pytest.fixture
    def options(self, http_peer: HttpPeer) -> dict[str, Any]:
        return {"url": f"{http_peer.url}/orders", "timeout_seconds": 5}

    @pytest.fixture
    def unreachable_options(self, closed_port: int) -> dict[str, Any]:
        return {"url": f"http://127.0.0.1:{closed_port}/orders", "timeout_seconds": 2}

    @pytest.fixture
    def refusing_options(self, http_peer: HttpPeer) -> dict[str, Any]:
        return {"url": f"{http_peer.url}/status/422"}

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        peer = self.peer
        return list(peer.kept.get(delivery.idempotency_key, []))

    @pytest.fixture(autouse=True)
    def _remember_peer(self, http_peer: HttpPeer) -> None:
        self.peer = http_peer


@pytest.fixture
def make_sink(http_peer: HttpPeer) -> Iterator[Any]:
    sinks: list[HttpSink] = []

    def make(path: str = "/orders", **options: Any) -> HttpSink:
        options.setdefault("url", f"{http_peer.url}{path}")
        sink = HttpSink("partner", HttpSinkOptions(**options))
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.close()


def test_success_receipt_names_status_and_url(make_sink: Any, http_peer: HttpPeer) -> None:
    receipt = make_sink().deliver(make_delivery())
    assert receipt.detail == f"HTTP 200 from {http_peer.url}/orders"


def test_request_headers(make_sink: Any, http_peer: HttpPeer) -> None:
    delivery = make_delivery(b"<order/>", content_type="application/xml", attempt=3)
    make_sink().deliver(delivery)
    [request] = http_peer.requests
    assert request.method == "POST"
    assert request.path == "/orders"
    assert request.body == b"<order/>"
    assert request.headers["idempotency-key"] == delivery.idempotency_key
    assert request.headers["content-type"] == "application/xml"
    assert request.headers["x-hub-message-id"] == delivery.message_id
    assert request.headers["x-hub-attempt"] == "3"
    assert "authorization" not in request.headers


def test_the_idempotency_key_is_the_same_on_every_attempt(
    make_sink: Any, http_peer: HttpPeer
) -> None:
    sink = make_sink()
    sink.deliver(make_delivery(attempt=1))
    sink.deliver(make_delivery(attempt=2))
    keys = {r.headers["idempotency-key"] for r in http_peer.requests}
    assert len(http_peer.requests) == 2
    assert keys == {make_delivery().idempotency_key}


def test_bearer_token_and_extra_headers(make_sink: Any, http_peer: HttpPeer) -> None:
    sink = make_sink(bearer_token="s3cret-token", headers={"X-Partner": "acme"})
    sink.deliver(make_delivery())
    [request] = http_peer.requests
    assert request.headers["authorization"] == "Bearer s3cret-token"
    assert request.headers["x-partner"] == "acme"


def test_bearer_token_is_not_shown_in_options() -> None:
    options = HttpSinkOptions(url="https://partner.example/orders", bearer_token="s3cret-token")
    assert "s3cret-token" not in repr(options)
    assert "s3cret-token" not in str(options.model_dump())


def test_put(make_sink: Any, http_peer: HttpPeer) -> None:
    make_sink(method="PUT").deliver(make_delivery())
    assert http_peer.requests[0].method == "PUT"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retriable(make_sink: Any, status: int) -> None:
    with pytest.raises(RetriableDeliveryError) as caught:
        make_sink(f"/status/{status}").deliver(make_delivery())
    assert f"HTTP {status}" in caught.value.message
    assert "refused" in caught.value.message  # the partner's answer is shown


def test_500_without_retry_after(make_sink: Any) -> None:
    with pytest.raises(RetriableDeliveryError) as caught:
        make_sink("/status/500").deliver(make_delivery())
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_parsed(make_sink: Any, status: int) -> None:
    with pytest.raises(RetriableDeliveryError) as caught:
        make_sink(f"/status/{status}").deliver(make_delivery())
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 301])
def test_client_errors_are_fatal(make_sink: Any, status: int) -> None:
    with pytest.raises(FatalDeliveryError) as caught:
        make_sink(f"/status/{status}").deliver(make_delivery())
    assert f"HTTP {status}" in caught.value.message
    assert caught.value.hint


def test_timeout_is_retriable(silent_port: int) -> None:
    sink = HttpSink(
        "partner",
        HttpSinkOptions(url=f"http://127.0.0.1:{silent_port}/orders", timeout_seconds=0.2),
    )
    started = time.monotonic()
    try:
        with pytest.raises(RetriableDeliveryError, match="timed out"):
            sink.deliver(make_delivery())
    finally:
        sink.close()
    assert time.monotonic() - started < 3


def test_the_routes_attempt_timeout_caps_the_sinks_own(silent_port: int) -> None:
    sink = HttpSink(
        "partner",
        HttpSinkOptions(url=f"http://127.0.0.1:{silent_port}/orders", timeout_seconds=60),
    )
    started = time.monotonic()
    try:
        with pytest.raises(RetriableDeliveryError, match=r"timed out after 0\.3s"):
            sink.deliver(make_delivery(timeout=0.3))
    finally:
        sink.close()
    assert time.monotonic() - started < 5


def test_connection_refused_is_retriable(closed_port: int) -> None:
    sink = HttpSink("partner", HttpSinkOptions(url=f"http://127.0.0.1:{closed_port}/x"))
    try:
        with pytest.raises(RetriableDeliveryError, match="cannot reach"):
            sink.deliver(make_delivery())
    finally:
        sink.close()


def test_the_client_is_reused_and_recreated_after_close(
    make_sink: Any, http_peer: HttpPeer
) -> None:
    sink = make_sink()
    sink.deliver(make_delivery())
    client = sink.client
    sink.deliver(make_delivery(b"x", idempotency_key="other"))
    assert sink.client is client
    sink.close()
    sink.deliver(make_delivery(b"y", idempotency_key="third"))
    assert sink.client is not client
    assert len(http_peer.requests) == 3


@pytest.mark.parametrize(
    "options",
    [
        {"url": "ftp://partner.example/x"},
        {"url": "partner.example/x"},
        {"url": "https://p.example", "method": "GET"},
        {"url": "https://p.example", "timeout_seconds": 0},
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpSinkOptions(**options)


# --- Retry-After -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), (" 120 ", 120.0), ("0", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_in_the_future() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    value = email.utils.format_datetime(when, usegmt=True)
    seconds = parse_retry_after(value)
    assert seconds is not None
    assert 80 <= seconds <= 91


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_parse_retry_after_rejects_negative_and_fractional_seconds() -> None:
    assert parse_retry_after("-5") is None
    assert parse_retry_after("1.5") is None
