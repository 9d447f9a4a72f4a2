"""Loopback peers for the connector contract tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from .http_peer import HttpPeer, PeerHandler, PeerServer


@pytest.fixture(scope="session")
def _http_server() -> Iterator[HttpPeer]:
    server = PeerServer(("127.0.0.1", 0), PeerHandler)
    host, port = server.server_address[:2]
    server.peer = HttpPeer(url=f"http://{host!s}:{port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.peer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_peer(_http_server: HttpPeer, monkeypatch: pytest.MonkeyPatch) -> HttpPeer:
    """The loopback partner, emptied for this test."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    _http_server.reset()
    return _http_server


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections but never answers (for timeouts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]
