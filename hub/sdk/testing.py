"""The contract test kit every connector reuses.

Subclass :class:`SinkContract` or :class:`PushSourceContract` in a test module,
provide the few fixtures they ask for, and pytest runs the standard tests::

    class TestFileSink(SinkContract):
        sink_class = FileSink

        @pytest.fixture
        def options(self, tmp_path): return {"directory": str(tmp_path)}

        def read_back(self, sink, delivery, receipt): ...

A sink whose peer keeps every copy (a queue) declares
``delivery_semantics = DeliverySemantics.AT_LEAST_ONCE_KEYED`` and implements
``read_back_keyed`` instead, returning (idempotency key, body) for every copy.

pytest rewrites this module's asserts (the ``pytest11`` entry point registers it, see
:mod:`hub.sdk.pytest_plugin`), so a failing contract test shows what differed.

The tests talk to a real peer (a directory, a loopback server); they check
behaviour the engine relies on: exact bytes, safe redelivery, and errors that
say whether to retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from hub.errors import (
    FatalDeliveryError,
    InboundRejected,
    RetriableDeliveryError,
    RetriableSourceError,
    SourceError,
)
from hub.sdk.base import (
    ConnectorContext,
    Delivery,
    DeliverySemantics,
    Inbound,
    InboundRequest,
    Poll,
    Polled,
    PollSource,
    PushSource,
    Receipt,
    Sink,
)

__all__ = ["PollSourceContract", "PushSourceContract", "SinkContract", "drain", "make_delivery"]

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
    """Standard tests for a sink. Provide ``sink_class``, ``options`` and a read-back hook.

    The redelivery check follows ``sink_class.delivery_semantics``: a peer that
    de-duplicates (``PEER_DEDUPLICATES``) must hold one copy after a redelivery, read with
    ``read_back``; a peer that keeps every copy (``AT_LEAST_ONCE_KEYED``) must hold copies
    that all carry the idempotency key and the exact bytes, read with ``read_back_keyed``.
    """

    sink_class: ClassVar[type[Sink[Any]]]

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        """Options that point the sink at a working peer."""
        raise NotImplementedError("the contract needs an `options` fixture")

    @pytest.fixture
    def unreachable_options(self) -> dict[str, Any]:
        """Options that point the sink at a peer that is down (a closed port, say)."""
        raise NotImplementedError("the contract needs an `unreachable_options` fixture")

    @pytest.fixture
    def refusing_options(self) -> dict[str, Any]:
        """Options that point the sink at a peer that refuses the message for good (an HTTP
        4xx, a queue nothing is bound to, a name the file system cannot hold)."""
        raise NotImplementedError("the contract needs a `refusing_options` fixture")

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        """Every copy of ``delivery`` the peer holds (``PEER_DEDUPLICATES`` sinks)."""
        raise NotImplementedError(
            f"the contract needs `read_back` for a {self._semantics.name} sink: return every "
            "copy of the delivery the peer holds, as a list of bytes"
        )

    def read_back_keyed(
        self, sink: Sink[Any], delivery: Delivery, receipt: Receipt
    ) -> list[tuple[str, bytes]]:
        """Every copy of ``delivery`` the peer holds, each as (the idempotency key it
        carries, its body) (``AT_LEAST_ONCE_KEYED`` sinks).

        Find the copies by something other than the key (the message id, a queue used by
        this test only), so a copy that lost its key shows up instead of going unseen.
        """
        raise NotImplementedError(
            f"the contract needs `read_back_keyed` for a {self._semantics.name} sink: return "
            "every copy of the delivery the peer holds as (idempotency key it carries, body), "
            "the key read from where the peer keeps it (a header, an attribute, a file name)"
        )

    @property
    def _semantics(self) -> DeliverySemantics:
        return self.sink_class.delivery_semantics

    def _assert_peer_holds(
        self, sink: Sink[Any], delivery: Delivery, receipt: Receipt, body: bytes
    ) -> None:
        """The peer holds ``body`` for ``delivery``, once."""
        if self._semantics is DeliverySemantics.AT_LEAST_ONCE_KEYED:
            assert self.read_back_keyed(sink, delivery, receipt) == [
                (delivery.idempotency_key, body)
            ]
        else:
            assert self.read_back(sink, delivery, receipt) == [body]

    @pytest.fixture
    def sink(self, options: dict[str, Any], tmp_path: Path) -> Iterator[Sink[Any]]:
        """Built the way the engine builds it, with a context (relative paths start there)."""
        model = self.sink_class.options_model
        sink = self.sink_class("contract-sink", model(**options), ConnectorContext(tmp_path))
        yield sink
        sink.close()

    def test_delivery_semantics_are_declared(self) -> None:
        assert isinstance(self._semantics, DeliverySemantics), (
            f"{self.sink_class.__name__}.delivery_semantics must be a hub.sdk.DeliverySemantics"
        )

    @pytest.mark.parametrize("payload", sorted(_PAYLOADS))
    def test_peer_receives_the_exact_bytes(self, sink: Sink[Any], payload: str) -> None:
        delivery = make_delivery(_PAYLOADS[payload])
        receipt = sink.deliver(delivery)
        self._assert_peer_holds(sink, delivery, receipt, _PAYLOADS[payload])

    def test_receipt_says_what_happened(self, sink: Sink[Any]) -> None:
        receipt = sink.deliver(make_delivery())
        assert isinstance(receipt, Receipt)
        assert receipt.detail.strip()

    def test_redelivery_with_the_same_key_is_safe(self, sink: Sink[Any]) -> None:
        delivery = make_delivery()
        sink.deliver(delivery)
        receipt = sink.deliver(make_delivery(attempt=2))
        if self._semantics is DeliverySemantics.AT_LEAST_ONCE_KEYED:
            # The peer may keep both copies; its reader drops the repeat by the key.
            copies = self.read_back_keyed(sink, delivery, receipt)
            assert 1 <= len(copies) <= 2, f"the peer holds {len(copies)} copies after 2 sends"
            assert copies == [(delivery.idempotency_key, delivery.body)] * len(copies)
        else:
            copies_held = self.read_back(sink, delivery, receipt)
            assert copies_held == [delivery.body], (
                "a PEER_DEDUPLICATES sink must leave one copy per idempotency key; if the "
                "peer keeps every copy by design (a queue), declare delivery_semantics = "
                "DeliverySemantics.AT_LEAST_ONCE_KEYED and implement read_back_keyed"
            )

    def test_distinct_messages_stay_distinct(self, sink: Sink[Any]) -> None:
        first = make_delivery(b"first")
        second = make_delivery(
            b"second",
            message_id="5d0c0a57-0000-4000-8000-000000000002",
            idempotency_key="5d0c0a57-0000-4000-8000-000000000002:contract-sink",
        )
        first_receipt = sink.deliver(first)
        second_receipt = sink.deliver(second)
        self._assert_peer_holds(sink, first, first_receipt, b"first")
        self._assert_peer_holds(sink, second, second_receipt, b"second")

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

    def test_a_refusing_peer_is_fatal(
        self, refusing_options: dict[str, Any], tmp_path: Path
    ) -> None:
        model = self.sink_class.options_model
        sink = self.sink_class(
            "contract-sink", model(**refusing_options), ConnectorContext(tmp_path)
        )
        try:
            with pytest.raises(FatalDeliveryError) as caught:
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


def drain(
    source: PollSource[Any],
    cursor: str | None = None,
    *,
    limit: int = 100,
    pages: int = 100,
    confirm: bool = False,
) -> tuple[list[Polled], str | None]:
    """Poll until the source has nothing more, as the hub does in one run.

    With ``confirm`` each page is confirmed before the next poll (the hub's commit went
    through); without it, polling stops once a page brings no item not seen before (a
    folder or a queue gives the same items until they are confirmed). Returns every item
    found and the last cursor (the one the hub would store).
    """
    found: list[Polled] = []
    seen: set[object] = set()
    for _ in range(pages):
        poll = source.poll(cursor, limit)
        assert isinstance(poll, Poll), f"poll() returned {type(poll).__name__}, not a Poll"
        new = [i for i in poll.items if i.key is None or (i.key, i.inbound.body) not in seen]
        seen.update((i.key, i.inbound.body) for i in poll.items)
        found.extend(new)
        cursor = poll.cursor if poll.cursor is not None else cursor
        if confirm:
            source.confirm(poll.items)
        if not poll.more or (not confirm and not new):
            return found, cursor
    raise AssertionError(f"the source still says `more` after {pages} polls")


class PollSourceContract:
    """Standard tests for a poll source, against a real peer.

    Provide ``source_class``, the ``options`` and ``unreachable_options`` fixtures, and
    :meth:`put`, which places items at the peer (writes files, publishes messages, adds
    records to a local API server). The tests check what the hub's exactly-once pickup
    relies on: exact bytes, stable keys, nothing confirmed by ``poll`` itself (a crash
    before the commit finds the same items again), the cursor surviving a restart, and a
    peer that is down raising :class:`RetriableSourceError`.
    """

    source_class: ClassVar[type[PollSource[Any]]]

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        """Options that point the source at a working peer with nothing on it."""
        raise NotImplementedError("the contract needs an `options` fixture")

    @pytest.fixture
    def unreachable_options(self) -> dict[str, Any]:
        """Options that point the source at a peer that is down."""
        raise NotImplementedError("the contract needs an `unreachable_options` fixture")

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        """Place one item per body at the peer, in this order."""
        raise NotImplementedError("the contract needs `put`: place items at the peer")

    def build(self, options: dict[str, Any], tmp_path: Path) -> PollSource[Any]:
        """A new instance, as after a restart of the hub."""
        model = self.source_class.options_model
        return self.source_class("contract-source", model(**options), ConnectorContext(tmp_path))

    @pytest.fixture
    def source(self, options: dict[str, Any], tmp_path: Path) -> Iterator[PollSource[Any]]:
        source = self.build(options, tmp_path)
        yield source
        source.close()

    def _bodies(self, items: list[Polled]) -> list[bytes]:
        return [item.inbound.body for item in items]

    def test_an_empty_peer_gives_nothing(self, source: PollSource[Any]) -> None:
        items, _ = drain(source)
        assert items == []

    @pytest.mark.parametrize("payload", sorted(_PAYLOADS))
    def test_items_come_with_the_exact_bytes(self, source: PollSource[Any], payload: str) -> None:
        self.put(source, [_PAYLOADS[payload]])
        items, _ = drain(source)
        assert self._bodies(items) == [_PAYLOADS[payload]]

    def test_keys_are_stable_and_distinct(self, source: PollSource[Any]) -> None:
        self.put(source, [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}'])
        first, _ = drain(source)
        source.release(first)  # the hub's commit failed: the same items must come back
        again, _ = drain(source)
        keys = {item.key: item.inbound.body for item in first}
        assert len(first) == 3
        assert len(keys) == 3, f"items share a key: {[item.key for item in first]}"
        assert {item.key: item.inbound.body for item in again} == keys
        source.release(again)

    def test_poll_confirms_nothing(
        self, source: PollSource[Any], tmp_path: Path, options: dict[str, Any]
    ) -> None:
        self.put(source, [b'{"n": 1}', b'{"n": 2}'])
        found, _ = drain(source)
        source.close()  # the hub crashed before its commit
        restarted = self.build(options, tmp_path)
        try:
            again, _ = drain(restarted)
            assert sorted(self._bodies(again)) == sorted(self._bodies(found))
            assert {i.key for i in again} == {i.key for i in found}
            restarted.release(again)
        finally:
            restarted.close()

    def test_confirmed_items_are_not_new_again(
        self, source: PollSource[Any], tmp_path: Path, options: dict[str, Any]
    ) -> None:
        """After a confirm and a restart (the cursor kept), nothing comes back as new.

        A source may give a confirmed item again (a REST API's watermark is inclusive),
        but only under its old key, which the hub recognises; new items come with new keys.
        """
        self.put(source, [b'{"n": 1}', b'{"n": 2}'])
        found, cursor = drain(source)
        assert len(found) == 2
        seen = {item.key for item in found}
        source.confirm(found)
        source.close()
        restarted = self.build(options, tmp_path)
        try:
            again, cursor = drain(restarted, cursor)
            back = [item for item in again if item.key not in seen or item.key is None]
            assert back == [], "confirmed items came back under new keys"
            restarted.confirm(again)
            self.put(restarted, [b'{"n": 3}'])
            news, _ = drain(restarted, cursor)
            fresh = [item for item in news if item.key not in seen]
            assert self._bodies(fresh) == [b'{"n": 3}']
            restarted.confirm(news)
        finally:
            restarted.close()

    def test_confirm_twice_is_safe(self, source: PollSource[Any]) -> None:
        self.put(source, [b'{"n": 1}'])
        found, _ = drain(source)
        source.confirm(found)
        # After a crash the hub may confirm again. A SourceError is allowed (the hub logs
        # it and goes on); anything else would stop the poll run.
        with contextlib.suppress(SourceError):
            source.confirm(found)

    def test_the_limit_is_honoured(self, source: PollSource[Any]) -> None:
        bodies = [f'{{"n": {n}}}'.encode() for n in range(5)]
        self.put(source, bodies)
        poll = source.poll(None, 2)
        assert 1 <= len(poll.items) <= 2
        assert poll.more, "items are left, yet the source says there is no more"
        source.confirm(poll.items)
        rest, _ = drain(source, poll.cursor, limit=2, confirm=True)
        got = [*poll.items, *rest]
        assert sorted(self._bodies(got)) == sorted(bodies)
        assert len({item.key for item in got}) == len(bodies)

    def test_unreachable_peer_is_retriable(
        self, unreachable_options: dict[str, Any], tmp_path: Path
    ) -> None:
        source = self.build(unreachable_options, tmp_path)
        try:
            with pytest.raises(RetriableSourceError) as caught:
                source.poll(None, 10)
            assert caught.value.message
        finally:
            source.close()

    def test_unknown_option_is_rejected(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match="bogus_option"):
            self.source_class.options_model.model_validate({**options, "bogus_option": 1})

    def test_close_twice_is_safe(self, source: PollSource[Any]) -> None:
        drain(source)
        source.close()
        source.close()
