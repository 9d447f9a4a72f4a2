"""A loopback HTTP partner that records what the hub sends it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class HttpPeer:
    """A partner endpoint on 127.0.0.1 that records requests.

    ``POST``/``PUT`` to any path answer 200 and keep the body once per
    ``Idempotency-Key`` (repeats are acknowledged and dropped, as a partner
    honouring the key would). ``/status/<code>`` answers with that status
    instead; 429 and 503 carry ``Retry-After: 7``.
    """

    url: str
    requests: list[Recorded] = field(default_factory=list)
    kept: dict[str, list[bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.kept.clear()

    def record(self, request: Recorded) -> int:
        with self.lock:
            self.requests.append(request)
            if request.path.startswith("/status/"):
                return int(request.path.rsplit("/", 1)[1])
            key = request.headers.get("idempotency-key", "")
            copies = self.kept.setdefault(key, [])
            if not copies or not key:
                copies.append(request.body)
            return 200


class PeerHandler(BaseHTTPRequestHandler):
    server: PeerServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = self.server.peer.record(Recorded(self.command, self.path, headers, body))
        reply = b'{"ok": true}' if status < 300 else b'{"error": "refused"}'
        self.send_response(status)
        if status in (429, 503):
            self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    peer: HttpPeer
