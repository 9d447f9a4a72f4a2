"""The ``amqp`` connector for RabbitMQ: a poll source and a sink with publisher confirms.

Source: each poll takes up to ``batch`` messages from a queue without acknowledging them;
the hub acknowledges them only after it committed them, so a crash returns them to the
queue. A message's ``message_id`` property is its key: redelivered after a crash, it is
recognised and stored once (publish with a message id to get exactly-once pickup; without
one a crash between the commit and the ack may store a message twice).

Sink: publishes persistent messages with publisher confirms and ``mandatory``: a delivery
counts only when the broker confirmed it, a message no queue would take is refused.
Every copy carries the idempotency key (``message_id`` and the ``idempotency-key``
header), so a reader drops repeats after a redelivery.

pika's blocking connection is not thread-safe: each connector holds one connection and
uses it under a lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Inbound,
    Poll,
    Polled,
    PollSource,
    Receipt,
    RetriableDeliveryError,
    RetriableSourceError,
    Sink,
    SourceError,
    redact_url,
)

__all__ = ["AmqpOptions", "AmqpSink", "AmqpSinkOptions", "AmqpSource", "plugin"]


class AmqpOptions(ConnectorOptions):
    url: str = Field(
        pattern=r"^amqps?://",
        description="the broker, e.g. amqp://user:${AMQP_PASSWORD}@127.0.0.1:5672/%2F",
    )
    queue: str = Field(min_length=1, description="the queue to read (source) or fill (sink)")
    declare: bool = Field(True, description="declare the queue (durable) if it is missing")
    heartbeat_seconds: int = Field(60, ge=0)
    timeout_seconds: float = Field(10.0, gt=0, le=300)


class AmqpSinkOptions(AmqpOptions):
    exchange: str = Field("", description='the exchange ("": the default, straight to `queue`)')
    routing_key: str | None = Field(None, description="defaults to `queue`")


class _Connection:
    """One blocking connection and channel, opened on first use, reopened after a loss."""

    def __init__(self, options: AmqpOptions, *, confirms: bool) -> None:
        self.options = options
        self.confirms = confirms
        self.lock = threading.RLock()
        self._connection: Any = None
        self._channel: Any = None

    def channel(self) -> Any:
        import pika

        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.drop()
        params = pika.URLParameters(self.options.url)
        params.heartbeat = self.options.heartbeat_seconds
        params.blocked_connection_timeout = self.options.timeout_seconds
        params.socket_timeout = self.options.timeout_seconds
        params.stack_timeout = self.options.timeout_seconds
        params.connection_attempts = 1
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        if self.options.declare:
            channel.queue_declare(queue=self.options.queue, durable=True)
        if self.confirms:
            channel.confirm_delivery()
        self._channel = channel
        return channel

    def drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to release
                connection.close()

    @property
    def shown(self) -> str:
        return redact_url(self.options.url)


class AmqpSource(PollSource[AmqpOptions]):
    options_model = AmqpOptions

    def __init__(
        self, name: str, options: AmqpOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._conn = _Connection(options, confirms=False)

    def poll(self, cursor: str | None, limit: int) -> Poll:
        import pika.exceptions as px

        items: list[Polled] = []
        with self._conn.lock:
            try:
                channel = self._conn.channel()
                while len(items) < limit:
                    method, props, body = channel.basic_get(self.options.queue, auto_ack=False)
                    if method is None:
                        break
                    headers = {
                        str(k): str(v) for k, v in (props.headers or {}).items() if v is not None
                    }
                    items.append(
                        Polled(
                            Inbound(bytes(body), headers, props.content_type),
                            key=props.message_id or None,
                            ref=method.delivery_tag,
                        )
                    )
            except px.AMQPError as exc:
                self._conn.drop()  # what was taken returns to the queue with the channel
                raise RetriableSourceError(
                    f"cannot read queue {self.options.queue!r} at {self._conn.shown}: {_said(exc)}",
                    hint="is the broker up and the queue there? the hub keeps trying",
                ) from None
        return Poll(items, cursor=None, more=len(items) == limit)

    def confirm(self, items: Sequence[Polled]) -> None:
        self._settle(items, "ack")

    def release(self, items: Sequence[Polled]) -> None:
        self._settle(items, "nack")

    def reject(self, item: Polled, reason: str) -> None:
        self._settle([item], "reject")

    def _settle(self, items: Sequence[Polled], how: str) -> None:
        import pika.exceptions as px

        if not items:
            return
        with self._conn.lock:
            channel = self._conn._channel
            if channel is None or not channel.is_open:
                raise SourceError(
                    f"the channel to {self._conn.shown} closed before the {how}: the broker "
                    "gives the messages again",
                )
            try:
                for item in items:
                    tag = item.ref
                    if how == "ack":
                        channel.basic_ack(delivery_tag=tag)
                    elif how == "nack":
                        channel.basic_nack(delivery_tag=tag, requeue=True)
                    else:  # to the queue's dead-letter exchange, if it has one
                        channel.basic_reject(delivery_tag=tag, requeue=False)
            except px.AMQPError as exc:
                self._conn.drop()
                raise SourceError(
                    f"cannot {how} on {self._conn.shown}: {_said(exc)}; the broker gives the "
                    "messages again",
                ) from None

    def close(self) -> None:
        with self._conn.lock:
            self._conn.drop()


class AmqpSink(Sink[AmqpSinkOptions]):
    options_model = AmqpSinkOptions
    # A queue keeps every copy; each carries the idempotency key for its reader.
    delivery_semantics = DeliverySemantics.AT_LEAST_ONCE_KEYED

    def __init__(
        self, name: str, options: AmqpSinkOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._conn = _Connection(options, confirms=True)

    @property
    def routing_key(self) -> str:
        return (
            self.options.routing_key
            if self.options.routing_key is not None
            else (self.options.queue)
        )

    def deliver(self, delivery: Delivery) -> Receipt:
        import pika
        import pika.exceptions as px

        headers = {
            "idempotency-key": delivery.idempotency_key,
            "hub-message-id": delivery.message_id,
            "hub-route": delivery.route,
        }
        if delivery.correlation_key is not None:
            headers["correlation-key"] = delivery.correlation_key
        properties = pika.BasicProperties(
            message_id=delivery.idempotency_key,
            content_type=delivery.content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        )
        where = f"{self.options.exchange or '(default exchange)'} -> {self.routing_key}"
        with self._conn.lock:
            try:
                channel = self._conn.channel()
                channel.basic_publish(
                    exchange=self.options.exchange,
                    routing_key=self.routing_key,
                    body=delivery.body,
                    properties=properties,
                    mandatory=True,
                )
            except px.UnroutableError:
                raise FatalDeliveryError(
                    f"no queue takes messages sent to {where} on {self._conn.shown}",
                    hint="declare and bind the queue, or fix exchange/routing_key",
                ) from None
            except px.NackError:
                raise RetriableDeliveryError(
                    f"the broker {self._conn.shown} refused to confirm the message ({where})"
                ) from None
            except px.AMQPError as exc:
                self._conn.drop()
                raise RetriableDeliveryError(
                    f"cannot publish to {where} on {self._conn.shown}: {_said(exc)}"
                ) from None
        return Receipt(f"published to {where}, confirmed by the broker")

    def close(self) -> None:
        with self._conn.lock:
            self._conn.drop()


def _said(exc: Exception) -> str:
    text = str(exc).strip()
    return redact_url(text) if text else type(exc).__name__


plugin = ConnectorPlugin(
    name="amqp",
    description="RabbitMQ: read a queue (acked after the hub stored it); publish with confirms",
    source=AmqpSource,
    sink=AmqpSink,
)
