"""Slow and numerous clients, from raw sockets, against a real ``hub run``.

Before: a thousand connections sending a byte every five seconds were all kept open. Now a
request body must arrive within ``server.body_timeout_seconds`` (else 408 and the connection
is closed), a request head within ``server.header_timeout_seconds`` (else the connection is
closed), and beyond ``server.max_connections`` open connections a request gets 503 -- except
``/healthz``, which the probe of every hostile test keeps calling throughout.

Every test runs once with each HTTP parser (``server.http``): uvicorn's h11 and its httptools
protocol (the ``fast`` extra, installed with the dev extras) carry the same guards.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import RunningHub, StartHub
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

PARSERS = ("h11", "httptools")
Guarded = Callable[..., RunningHub]

#: The longest any single step below may stall before the test gives up.
PATIENCE = 120.0


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest) -> str:
    """The HTTP parser the hub under attack runs (``server.http``)."""
    name: str = request.param
    if name == "httptools":
        import httptools  # noqa: F401  # missing: the dev extras are not installed; fail loudly
    return name


@pytest.fixture
def guarded(hostile_hub: StartHub, tmp_path: Path, parser: str) -> Guarded:
    """Starts the demo hub with these server settings on the parser of this run, and checks
    from its log that uvicorn serves with that parser."""

    def start(**server: Any) -> RunningHub:
        settings = {"host": "127.0.0.1", "port": 8080, "http": parser, **server}
        hub = hostile_hub(demo_config(tmp_path / "hub", server=settings))
        assert f"HTTP parser {parser}," in (hub.folder / "hub.log").read_text()
        return hub

    return start


def connect(hub: RunningHub) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", hub.process.port), timeout=PATIENCE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(length: int, path: str = "/ingest/shop-orders") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def trickle(sock: socket.socket, data: bytes, every: float) -> tuple[bytes, float, int]:
    """Send ``data`` a byte every ``every`` seconds until the server answers or closes.

    Returns (everything the server sent until it closed, seconds until its first byte,
    bytes of ``data`` sent)."""
    started = time.monotonic()
    answer = b""
    first: float | None = None
    sent = 0
    while time.monotonic() - started < PATIENCE:
        if sent < len(data):
            try:
                sock.sendall(data[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break  # closed
            if first is None:
                first = time.monotonic() - started
            answer += chunk
    return answer, (first if first is not None else time.monotonic() - started), sent


def test_a_trickled_body_gets_408_and_the_connection_is_closed(guarded: Guarded) -> None:
    hub = guarded(body_timeout_seconds=2)
    body = EXAMPLE_ORDER.read_bytes()
    with connect(hub) as sock:
        sock.sendall(head(len(body)))
        answer, after, sent = trickle(sock, body, every=0.2)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert b"the request body did not arrive within 2 s" in answer
    assert after >= 1.5  # not cut short (the deadline started with the head) ...
    assert sent < len(body)  # ... and not waited out: the body never arrived in full
    assert hub.get("/messages").json()["messages"] == []  # nothing half-read was stored
    metrics = hub.get("/metrics").text
    assert 'hub_ingest_rejected_total{reason="body_timeout",route="shop-orders"} 1.0' in metrics


def test_a_trickled_request_head_is_closed(guarded: Guarded) -> None:
    hub = guarded(header_timeout_seconds=2)
    with connect(hub) as sock:
        answer, after, sent = trickle(sock, head(10) * 50, every=0.2)
    assert answer == b""  # closed without an answer: no request was ever complete
    assert after >= 1.5
    assert sent < len(head(10) * 50)
    with connect(hub) as silent:  # a connection that sends nothing at all
        silent.settimeout(PATIENCE)
        assert silent.recv(1024) == b""


def test_a_request_head_larger_than_the_cap_is_refused(guarded: Guarded) -> None:
    hub = guarded(max_header_bytes=4096)
    with connect(hub) as sock:  # a head that keeps growing: 8 KB of it, not yet complete
        sock.sendall(b"GET /messages HTTP/1.1\r\nHost: hub\r\nX-Big: " + b"x" * 8192)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert httpx.get(f"{hub.url}/messages", timeout=PATIENCE).status_code == 200


@contextlib.contextmanager
def stalled_requests(hub: RunningHub, most: int) -> Iterator[tuple[list[socket.socket], bytes]]:
    """Open connections one at a time, each sending a request head and holding its body
    back, until the server refuses one; yields the held ones and the refusal."""
    held: list[socket.socket] = []
    refusal = b""
    try:
        while len(held) < most and not refusal:
            sock = connect(hub)
            sock.sendall(head(1000))
            readable, _, _ = select.select([sock], [], [], 0.5)  # an answer now is a refusal
            if readable:
                refusal = sock.recv(65536)
                sock.close()
            else:
                held.append(sock)
        yield held, refusal
    finally:
        for sock in held:
            sock.close()


def test_beyond_the_connection_cap_requests_get_503_and_the_probe_still_answers(
    guarded: Guarded,
) -> None:
    cap = 20
    hub = guarded(max_connections=cap, body_timeout_seconds=60)

    def status(path: str) -> int:
        return httpx.get(f"{hub.url}{path}", timeout=PATIENCE).status_code

    with stalled_requests(hub, cap * 2) as (held, refusal):
        # the probe's kept-alive connection counts too: one or two fewer than the cap are held
        assert cap - 3 <= len(held) < cap, len(held)
        assert refusal.startswith(b"HTTP/1.1 503 "), refusal
        assert status("/messages") == 503
        answer = httpx.post(
            f"{hub.url}/ingest/shop-orders", content=EXAMPLE_ORDER.read_bytes(), timeout=PATIENCE
        )
        assert answer.status_code == 503  # nothing stored: the sender sends it again
        assert status("/healthz") == 200  # a probe on a new connection gets through
        assert status("/metrics") == 200
        probes = hub.probe.probes
        wait_for_progress(
            lambda: hub.probe.probes, lambda n: n >= probes + 3, what="the probe to go on"
        )
        assert not hub.probe.failed
        for sock in held[: cap // 2]:  # half the slow clients give up
            sock.close()
        wait_for_progress(
            lambda: status("/messages"), lambda s: s == 200, what="room below the cap again"
        )
    assert hub.get("/messages").json()["messages"] == []
