"""AS2 test parties, a self-signed certificate and RSA key each, generated at test time,
and a partner's AS2 server on loopback (the as2 source behind a threaded HTTP server).

Nothing here is committed as a key file: every test makes fresh ones in its temporary folder
(``<name>-TEST-ONLY.key``), so no private key lives in the repository.
"""

from __future__ import annotations

import datetime
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from connectors.as2 import As2Inbound
from connectors.as2.inbound import MIC_HEADER
from connectors.as2.mdn import build_mdn
from hub.sdk import Inbound, InboundRequest, Stored

_KEYS: dict[str, rsa.RSAPrivateKey] = {}  # RSA generation is slow: one key per name per run


@dataclass(frozen=True)
class Party:
    as2_id: str
    certificate: Path
    key: Path


def make_party(folder: Path, as2_id: str, *, variant: str = "") -> Party:
    """A party ``as2_id`` with a certificate and key in ``folder``; another ``variant``
    gives the same id a different key (an impostor, or a partner's changed certificate)."""
    name = f"{as2_id}{variant}"
    key = _KEYS.get(name)
    if key is None:
        key = _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, as2_id)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / f"{name}.pem"
    key_path = folder / f"{name}-TEST-ONLY.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Party(as2_id, cert_path, key_path)


@dataclass
class As2Peer:
    """A partner's AS2 server: our as2 source behind a threaded HTTP server."""

    source: As2Inbound
    url: str = ""
    kept: dict[str, list[bytes]] = field(default_factory=dict)
    refused: list[Inbound] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    wrong_mic: bool = False  # answer a signed, positive MDN for other bytes than received
    unsigned_mdn: bool = False  # answer with an MDN nobody signed

    def handle(self, request: InboundRequest) -> tuple[int, dict[str, str], bytes]:
        inbound = self.source.accept(request)
        stored = None
        if inbound is not None:
            key = inbound.key or ""
            with self.lock:
                if inbound.refused is not None:
                    self.refused.append(inbound)
                    stored = Stored(("dead",), refused=True)
                else:
                    copies = self.kept.setdefault(key, [])
                    duplicate = bool(copies)
                    if not duplicate:
                        copies.append(inbound.body)
                    stored = Stored((key,), duplicate=duplicate)
        if self.wrong_mic and inbound is not None:
            digest = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, sha-256"
            inbound = replace(inbound, headers={**inbound.headers, MIC_HEADER: digest})
        if self.unsigned_mdn and inbound is not None:
            headers, body = build_mdn(
                original_message_id=request.headers["message-id"],
                reporter=self.source.options.as2_id,
                recipient=request.headers["as2-from"],
                mic=inbound.headers.get(MIC_HEADER),
                failure=None,
                signer=None,
            )
            return 200, headers, body
        reply = self.source.reply(request, inbound, stored)
        assert reply is not None
        return reply.status, dict(reply.headers), reply.body


class _Handler(BaseHTTPRequestHandler):
    server: _PeerServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back 40 ms on every keep-alive answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            status, answer_headers, answer = self.server.peer.handle(
                InboundRequest(route=self.server.peer.source.name, body=body, headers=headers)
            )
        except Exception as exc:  # an InboundRejected: the 4xx the hub would give
            status, answer_headers, answer = getattr(exc, "status", 500), {}, str(exc).encode()
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


class _PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    peer: As2Peer


@contextmanager
def running_as2_peer(source: As2Inbound) -> Iterator[As2Peer]:
    """``source`` served on loopback at ``peer.url``; closed afterwards."""
    server = _PeerServer(("127.0.0.1", 0), _Handler)
    server.peer = As2Peer(source)
    host, port = server.server_address[:2]
    server.peer.url = f"http://{host!s}:{port}/as2/{source.name}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.peer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        server.peer.source.close()
