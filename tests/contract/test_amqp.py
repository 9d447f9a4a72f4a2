"""The ``amqp`` source and sink against the machine's RabbitMQ (127.0.0.1:5672).

Each test uses queues of its own, deleted afterwards. If the broker is down the tests
fail with the connection error: they never pass without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from connectors.amqp import AmqpSink, AmqpSinkOptions, AmqpSource
from hub.sdk import Delivery, FatalDeliveryError, PollSource, Receipt, Sink
from hub.sdk.testing import PollSourceContract, SinkContract, drain, make_delivery
from tests.peers import free_port

BROKER = os.environ.get("HUB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"hub-test-{uuid.uuid4().hex[:12]}"
    yield name
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    try:
        connection.channel().queue_delete(queue=name)
    finally:
        connection.close()


def _publish(queue: str, bodies: list[bytes]) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    try:
        channel = connection.channel()
        channel.queue_declare(queue=queue, durable=True)
        for body in bodies:
            channel.basic_publish(
                "",
                queue,
                body,
                pika.BasicProperties(message_id=str(uuid.uuid4()), delivery_mode=2),
            )
    finally:
        connection.close()


def _take_all(queue: str) -> list[tuple[Any, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    try:
        channel = connection.channel()
        found = []
        while True:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return found
            found.append((props, bytes(body)))
    finally:
        connection.close()


class TestAmqpSourceContract(PollSourceContract):
    source_class = AmqpSource

    @pytest.fixture
    def options(self, queue: str) -> dict[str, Any]:
        return {"url": BROKER, "queue": queue}

    @pytest.fixture
    def unreachable_options(self, queue: str) -> dict[str, Any]:
        return {"url": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F", "queue": queue}

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        assert isinstance(source, AmqpSource)
        _publish(source.options.queue, bodies)


class TestAmqpSinkContract(SinkContract):
    sink_class = AmqpSink

    @pytest.fixture
    def options(self, queue: str) -> dict[str, Any]:
        return {"url": BROKER, "queue": queue}

    @pytest.fixture
    def unreachable_options(self, queue: str) -> dict[str, Any]:
        return {"url": f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F", "queue": queue}

    @pytest.fixture
    def refusing_options(self, queue: str) -> dict[str, Any]:
        return {"url": BROKER, "queue": queue, "exchange": "amq.direct", "routing_key": queue}

    def read_back_keyed(
        self, sink: Sink[Any], delivery: Delivery, receipt: Receipt
    ) -> list[tuple[str, bytes]]:
        assert isinstance(sink, AmqpSink)
        copies = []
        for props, body in _take_all(sink.options.queue):
            if (props.headers or {}).get("hub-message-id") == delivery.message_id:
                copies.append((str(props.message_id), body))
            else:  # another test message: put it back for its own read
                _publish_raw(sink.options.queue, props, body)
        return copies


def _publish_raw(queue: str, props: Any, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    try:
        connection.channel().basic_publish("", queue, body, props)
    finally:
        connection.close()


def test_a_message_no_queue_takes_is_refused_for_good(queue: str) -> None:
    sink = AmqpSink(
        "orders",
        AmqpSinkOptions(url=BROKER, queue=queue, exchange="amq.direct", routing_key=queue),
    )
    try:
        with pytest.raises(FatalDeliveryError, match="no queue takes messages") as caught:
            sink.deliver(make_delivery())
        assert caught.value.hint
    finally:
        sink.close()


def test_the_headers_carry_the_keys(queue: str) -> None:
    sink = AmqpSink("orders", AmqpSinkOptions(url=BROKER, queue=queue))
    try:
        sink.deliver(make_delivery())
    finally:
        sink.close()
    [(props, _)] = _take_all(queue)
    assert props.delivery_mode == 2
    assert props.headers["idempotency-key"] == props.message_id
    assert props.headers["correlation-key"] == "1001"


def test_unacked_messages_return_to_the_queue_when_the_source_dies(queue: str) -> None:
    _publish(queue, [b"one", b"two"])
    source = AmqpSource("orders", AmqpSource.options_model(url=BROKER, queue=queue))
    items, _ = drain(source)
    assert sorted(i.inbound.body for i in items) == [b"one", b"two"]
    source.close()  # as a crash would: the broker gets the channel back, unacked
    assert sorted(body for _, body in _take_all(queue)) == [b"one", b"two"]
