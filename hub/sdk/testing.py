"""The contract test kit every connector reuses.

Subclass :class:`SinkContract` or :class:`PushSourceContract` in a test module,
provide the few fixtures they ask for, and pytest runs the standard tests::

    class TestFileSink(SinkContract):
        sink_class = FileSink

        @pytest.fixture
        def options(self, tmp_path): return {"directory": str(tmp_path)}

        def read_back(self, sink, delivery, receipt): ...

The tests talk to a real peer (a directory, a loopback server); they check
behaviour the engine relies on: exact bytes, safe redelivery, and errors that
say whether to retry.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from hub.errors import InboundRejected, RetriableDeliveryError
from hub.sdk.base import (
    ConnectorContext,
    Delivery,
    Inbound,
    InboundRequest,
    PushSource,
    Receipt,
    Sink,
)

__all__ = ["PushSourceContract", "SinkContract", "make_delivery"]

_PAYLOADS = {
    "json": b'{"order": "1001", "total": "12.50"}',
    "unicode": "Zo\u00eb\u2019s B\u00e4ckerei: 3\u00d7 Br\u00f6tchen \u2014 \U0001f950\n".encode(),
    "binary": bytes(range(256)),
    "empty": b"",
}


def make_delivery(body: bytes = _PAYLOADS["json"], **overrides: Any) -> Delivery:
    """A delivery with sensible defaults, for connector tests."""
    values: dict[str, Any] = {
        "message_id": "0b7e6f1e-4a8e-4df4-9d5e-3c1f7d2a9b10",
        "route": "contract-route",
        "sink": "contract-sink",
        "body": body,
        "content_type": "application/json",
        "extension": "json",
        "correlation_key": "1001",
        "idempotency_key": "0b7e6f1e-4a8e-4df4-9d5e-3c1f7d2a9b10:contract-sink",
    }
    values.update(overrides)
    return Delivery(**values)


class SinkContract:
    """Standard tests for a sink. Provide ``sink_class``, ``options`` and ``read_back``."""

    sink_class: ClassVar[type[Sink[Any]]]

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        """Options that point the sink at a working peer."""
        raise NotImplementedError("the contract needs an `options` fixture")

    @pytest.fixture
    def unreachable_options(self) -> dict[str, Any]:
        """Options that point the sink at a peer that is down (a closed port, say)."""
        raise NotImplementedError("the contract needs an `unreachable_options` fixture")

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        """Every copy of ``delivery`` the peer holds (after dropping duplicates by key)."""
        raise NotImplementedError("the contract needs `read_back`")

    @pytest.fixture
    def sink(self, options: dict[str, Any], tmp_path: Path) -> Iterator[Sink[Any]]:
        """Built the way the engine builds it, with a context (relative paths start there)."""
        model = self.sink_class.options_model
        sink = self.sink_class("contract-sink", model(**options), ConnectorContext(tmp_path))
        yield sink
        sink.close()

    @pytest.mark.parametrize("payload", sorted(_PAYLOADS))
    def test_peer_receives_the_exact_bytes(self, sink: Sink[Any], payload: str) -> None:
        delivery = make_delivery(_PAYLOADS[payload])
        receipt = sink.deliver(delivery)
        assert self.read_back(sink, delivery, receipt) == [_PAYLOADS[payload]]

    def test_receipt_says_what_happened(self, sink: Sink[Any]) -> None:
        receipt = sink.deliver(make_delivery())
        assert isinstance(receipt, Receipt)
        assert receipt.detail.strip()

    def test_redelivery_with_the_same_key_leaves_one_copy(self, sink: Sink[Any]) -> None:
        delivery = make_delivery()
        sink.deliver(delivery)
        receipt = sink.deliver(make_delivery(attempt=2))
        assert self.read_back(sink, delivery, receipt) == [delivery.body]

    def test_distinct_messages_stay_distinct(self, sink: Sink[Any]) -> None:
        first = make_delivery(b"first")
        second = make_delivery(
            b"second",
            message_id="5d0c0a57-0000-4000-8000-000000000002",
            idempotency_key="5d0c0a57-0000-4000-8000-000000000002:contract-sink",
        )
        first_receipt = sink.deliver(first)
        second_receipt = sink.deliver(second)
        assert self.read_back(sink, first, first_receipt) == [b"first"]
        assert self.read_back(sink, second, second_receipt) == [b"second"]

    def test_unreachable_peer_is_retriable(self, unreachable_options: dict[str, Any]) -> None:
        sink = self.sink_class(
            "contract-sink", self.sink_class.options_model(**unreachable_options)
        )
        try:
            with pytest.raises(RetriableDeliveryError) as caught:
                sink.deliver(make_delivery())
            assert caught.value.message
        finally:
            sink.close()

    def test_unknown_option_is_rejected(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match="bogus_option"):
            self.sink_class.options_model.model_validate({**options, "bogus_option": 1})

    def test_close_twice_is_safe(self, sink: Sink[Any]) -> None:
        sink.deliver(make_delivery())
        sink.close()
        sink.close()


class PushSourceContract:
    """Standard tests for a push source. Provide ``source_class``, ``options`` and requests."""

    source_class: ClassVar[type[PushSource[Any]]]

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        raise NotImplementedError("the contract needs an `options` fixture")

    @pytest.fixture
    def good_request(self) -> InboundRequest:
        """A request the source must accept."""
        raise NotImplementedError("the contract needs a `good_request` fixture")

    @pytest.fixture
    def bad_request(self) -> InboundRequest:
        """A request the source must refuse (a wrong signature, say)."""
        raise NotImplementedError("the contract needs a `bad_request` fixture")

    @pytest.fixture
    def source(self, options: dict[str, Any], tmp_path: Path) -> Iterator[PushSource[Any]]:
        model = self.source_class.options_model
        source = self.source_class("contract-source", model(**options), ConnectorContext(tmp_path))
        yield source
        source.close()

    def test_accepted_body_is_kept_byte_for_byte(
        self, source: PushSource[Any], good_request: InboundRequest
    ) -> None:
        inbound = source.accept(good_request)
        assert isinstance(inbound, Inbound)
        assert inbound.body == good_request.body

    def test_bad_request_is_refused_with_a_4xx(
        self, source: PushSource[Any], bad_request: InboundRequest
    ) -> None:
        with pytest.raises(InboundRejected) as caught:
            source.accept(bad_request)
        assert 400 <= caught.value.status < 500
        assert caught.value.message

    def test_unknown_option_is_rejected(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match="bogus_option"):
            self.source_class.options_model.model_validate({**options, "bogus_option": 1})
