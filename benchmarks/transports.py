"""``make bench``: the sftp and amqp connectors beside the bare library, in one run.

1. SFTP pickup: N files of 4 KB on an SFTP server on loopback (asyncssh's, as in the tests).
   The ``sftp`` source polls and confirms them (moved to done/) page by page, as the hub's
   poller does; the bare loop is paramiko doing the same listing, reads and renames.
2. AMQP publish: N messages of 4 KB to the local RabbitMQ through the ``amqp`` sink
   (persistent, mandatory, publisher confirms), beside a bare pika loop with the same
   properties and confirms.
3. AMQP pickup: the ``amqp`` source's poll and ack of those N messages, beside a bare pika
   basic_get/basic_ack loop.

Settings: BENCH_TRANSPORT_N (1000), BENCH_AMQP_URL (amqp://guest:guest@127.0.0.1:5672/%2F).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pika

from connectors.amqp import AmqpOptions, AmqpSink, AmqpSinkOptions, AmqpSource
from connectors.sftp import SftpSource, SftpSourceOptions
from hub.sdk.testing import make_delivery
from tests.sftp_server import PASSWORD, USER, running_sftp

N = int(os.environ.get("BENCH_TRANSPORT_N", "1000"))
BROKER = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
BODY = (b'{"order": "1001", "lines": [' + b'{"sku": "A-1", "qty": 1},' * 150)[:4096]


def _timed(work: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    done = work()
    return time.perf_counter() - started, done


def _fill(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    then = time.time() - 60
    for n in range(N):
        path = folder / f"order-{n:05d}.json"
        path.write_bytes(BODY)
        os.utime(path, (then, then))


def bench_sftp(tmp: Path) -> tuple[float, float]:
    with running_sftp(tmp) as server:
        _fill(server.root / "hub")
        _fill(server.root / "bare")
        source = SftpSource(
            "bench",
            SftpSourceOptions.model_validate(
                server.options(path="/hub", pattern="*.json", settle_seconds=0)
            ),
        )

        def hub() -> int:
            taken = 0
            while True:
                poll = source.poll(None, 100)
                source.confirm(poll.items)
                taken += len(poll.items)
                if not poll.more:
                    return taken

        hub_s, hub_n = _timed(hub)
        source.close()

        def bare() -> int:
            transport = paramiko.Transport(("127.0.0.1", server.port))
            transport.connect(username=USER, password=PASSWORD)
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            taken = 0
            try:
                sftp.mkdir("/bare/done")
                for entry in sftp.listdir_attr("/bare"):
                    if not entry.filename.endswith(".json"):
                        continue
                    path = posixpath.join("/bare", entry.filename)
                    with sftp.open(path, "rb") as remote:
                        remote.prefetch(entry.st_size or 0)
                        remote.read()
                    sftp.rename(path, posixpath.join("/bare/done", entry.filename))
                    taken += 1
            finally:
                transport.close()
            return taken

        bare_s, bare_n = _timed(bare)
        assert hub_n == bare_n == N, (hub_n, bare_n)
        return N / hub_s, N / bare_s


def _channel() -> tuple[Any, Any]:
    connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    return connection, connection.channel()


def bench_amqp() -> tuple[float, float, float, float]:
    hub_queue, bare_queue = (f"bench-{uuid.uuid4().hex[:8]}-{k}" for k in ("hub", "bare"))
    sink = AmqpSink("bench", AmqpSinkOptions(url=BROKER, queue=hub_queue))

    def hub_publish() -> int:
        for n in range(N):
            sink.deliver(make_delivery(BODY, message_id=f"m-{n}", idempotency_key=f"m-{n}:b"))
        return N

    pub_s, _ = _timed(hub_publish)
    sink.close()
    connection, channel = _channel()
    channel.queue_declare(queue=bare_queue, durable=True)
    channel.confirm_delivery()

    def bare_publish() -> int:
        for n in range(N):
            channel.basic_publish(
                "",
                bare_queue,
                BODY,
                pika.BasicProperties(
                    message_id=f"m-{n}:b",
                    content_type="application/json",
                    delivery_mode=2,
                    headers={"idempotency-key": f"m-{n}:b"},
                ),
                mandatory=True,
            )
        return N

    bare_pub_s, _ = _timed(bare_publish)
    source = AmqpSource("bench", AmqpOptions(url=BROKER, queue=hub_queue))

    def hub_take() -> int:
        taken = 0
        while True:
            poll = source.poll(None, 100)
            source.confirm(poll.items)
            taken += len(poll.items)
            if not poll.more:
                return taken

    take_s, took = _timed(hub_take)
    source.close()

    def bare_take() -> int:
        taken = 0
        while True:
            method, _, _ = channel.basic_get(bare_queue, auto_ack=False)
            if method is None:
                return taken
            channel.basic_ack(method.delivery_tag)
            taken += 1

    bare_take_s, bare_took = _timed(bare_take)
    assert took == bare_took == N, (took, bare_took)
    for queue in (hub_queue, bare_queue):
        channel.queue_delete(queue=queue)
    connection.close()
    return N / pub_s, N / bare_pub_s, N / take_s, N / bare_take_s


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sftp_hub, sftp_bare = bench_sftp(Path(tmp))
    pub_hub, pub_bare, take_hub, take_bare = bench_amqp()
    rows = [
        ("SFTP pickup (poll, read, move)", "files/s", sftp_hub, sftp_bare, "paramiko loop"),
        ("AMQP publish (confirms)", "msg/s", pub_hub, pub_bare, "pika loop"),
        ("AMQP pickup (get, ack)", "msg/s", take_hub, take_bare, "pika loop"),
    ]
    print(f"Transports: {N} items of {len(BODY)} bytes on loopback")
    print(f"{'':34} {'connector':>12} {'bare':>12} {'ratio':>7}  bare library")
    for name, unit, hub, bare, lib in rows:
        print(f"{name:34} {hub:>8.0f} {unit:<3} {bare:>8.0f} {unit:<3} {hub / bare:>6.2f}x  {lib}")


if __name__ == "__main__":
    main()
