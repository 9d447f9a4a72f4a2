"""Real loopback peers for tests: an HTTP server that records what it receives."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO

from tests.waiting import wait_for_progress


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'
    hold: threading.Event | None = None  # answer only once the test sets it (a busy partner)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpPeer:
    """Answers with the queued replies in order, then with ``default``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply()
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/inbox"

    def next_reply(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if self.replies else self.default

    def record(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)

    def wait_for(self, count: int) -> list[Received]:
        """Every request so far, once there are ``count``; waits while more arrive."""

        def observe() -> list[Received]:
            with self._lock:
                return list(self.received)

        return wait_for_progress(
            observe, lambda got: len(got) >= count, what=f"{count} requests at the peer"
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a killed hub) is part of these tests, not an error."""
        return


@contextmanager
def http_peer() -> Iterator[HttpPeer]:
    peer = HttpPeer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            reply = peer.next_reply()
            peer.record(
                Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if reply.delay:
                time.sleep(reply.delay)
            if reply.hold is not None:
                reply.hold.wait(60)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            if "content-type" not in {name.lower() for name in reply.headers}:
                self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(reply.body)

        do_PUT = do_POST  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            return

    server = _QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    peer.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_app(app: object, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app under a real uvicorn server on loopback; yields its base URL.

    ``port`` when the URL must be known before the app is built (a hub whose config names
    its own address, as an AS2 route asking for asynchronous MDNs does)."""
    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _alive, started = wait_for_progress(
        lambda: (thread.is_alive(), server.started),
        lambda seen: seen[1] or not seen[0],
        what="uvicorn to start",
        interval=0.01,
    )
    if not started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


class TricklePeer:
    """A partner that never finishes answering: it sends its status line and headers,
    then one byte of body every ``interval`` seconds until :meth:`release` (or forever).

    No read timeout fires (bytes keep coming), so a sink waiting for the whole answer
    stalls: the turn can only be ended by the worker's turn budget.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.requests: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self.server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/inbox"

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def release(self) -> None:
        """Let every connection, open or to come, end (the stuck calls return)."""
        self.released.set()

    def handle(self, rfile: BinaryIO, wfile: BinaryIO) -> None:
        request_line = rfile.readline().decode("latin-1").strip()
        headers: dict[str, str] = {}
        while (line := rfile.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = rfile.read(int(headers.get("content-length") or 0))
        method, _, rest = request_line.partition(" ")
        with self._lock:
            self.requests.append(Received(method, rest.split(" ")[0], headers, body))
        wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
        wfile.write(b"Content-Length: 1000000\r\n\r\n")
        wfile.flush()
        while not self.released.wait(self.interval):
            wfile.write(b".")
            wfile.flush()


@contextmanager
def trickle_peer(interval: float = 0.2) -> Iterator[TricklePeer]:
    peer = TricklePeer(interval)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                peer.handle(self.rfile, self.wfile)
            except OSError:  # the hub hung up (a timeout, a kill): part of these tests
                return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    peer.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        peer.release()
        server.shutdown()
        server.server_close()
