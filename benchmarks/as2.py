"""``make bench``: AS2 round trips per second, on loopback.

1. Round trip: the ``as2`` sink sends N EDIFACT ORDERS of about 2 KB, signed (sha256) and
   encrypted (AES-256-CBC), to a partner's AS2 server on loopback (the ``as2`` source behind
   a threaded HTTP server, as in the tests), which decrypts, verifies and answers with a
   signed MDN that the sink verifies and whose MIC it compares: one delivery each.
2. The same without HTTP: build, open, MDN built and read, in one loop (the crypto's share).
3. Beside them, a bare loop: the same bodies POSTed unsigned and unencrypted with httpx to
   the same kind of server answering 200 (what AS2's security costs over plain HTTP).

Settings: BENCH_AS2_N (200).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from connectors.as2 import As2Inbound, As2InboundOptions, As2Sink, As2SinkOptions
from connectors.as2.mdn import build_mdn, read_mdn
from connectors.as2.message import build_message, http_entity, open_message
from hub.sdk.testing import make_delivery
from tests.as2_parties import make_party, running_as2_peer

N = int(os.environ.get("BENCH_AS2_N", "200"))
ORDER = (
    b"UNA:+.? 'UNB+UNOC:3+HUB-A+HUB-B+261130:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220+727+9'"
    + b"LIN+1++4006381333931:EN'QTY+21:2'PRI+AAA:12.50'" * 40
    + b"UNT+83+1'UNZ+1+42'"
)


def _rate(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    for _ in range(N):
        work()
    return N / (time.perf_counter() - started)


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-as2-") as folder:
        tmp = Path(folder)
        a, b = make_party(tmp, "HUB-A"), make_party(tmp, "HUB-B")
        source = As2Inbound(
            "as2-in",
            As2InboundOptions(
                as2_id=b.as2_id,
                certificate=b.certificate,
                key=b.key,
                partners={a.as2_id: {"certificate": a.certificate}},
            ),
        )
        with running_as2_peer(source) as peer:
            sink = As2Sink(
                "bench",
                As2SinkOptions(
                    url=peer.url,
                    as2_from=a.as2_id,
                    as2_to=b.as2_id,
                    certificate=a.certificate,
                    key=a.key,
                    partner_certificate=b.certificate,
                ),
            )
            count = iter(range(10**9))

            def round_trip() -> None:
                n = next(count)
                sink.deliver(
                    make_delivery(ORDER, message_id=f"m-{n}", idempotency_key=f"m-{n}:bench")
                )

            round_trips = _rate(round_trip)
            keys = sink.keys
            partner_keys = type(keys)(source.certificate, source.key, keys.ours)

            def in_memory() -> None:
                out = build_message(
                    ORDER,
                    content_type="application/EDIFACT",
                    filename="o.edi",
                    message_id="<1@HUB-A>",
                    as2_from=a.as2_id,
                    as2_to=b.as2_id,
                    keys=keys,
                )
                lowered = {k.lower(): v for k, v in out.headers.items()}
                opened = open_message(
                    http_entity(lowered, out.body),
                    partner_keys,
                    require_signed=True,
                    require_encrypted=True,
                )
                headers, body = build_mdn(
                    original_message_id="<1@HUB-A>",
                    reporter=b.as2_id,
                    recipient=a.as2_id,
                    mic=opened.mic,
                    failure=None,
                    signer=(source.certificate, source.key),
                )
                lowered = {k.lower(): v for k, v in headers.items()}
                read_mdn(http_entity(lowered, body), keys.partner, require_signed=True)

            crypto = _rate(in_memory)
            sink.close()

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        host, port = server.server_address[:2]
        with httpx.Client() as client:
            url = f"http://{host!s}:{port}/"
            bare = _rate(lambda: client.post(url, content=ORDER).raise_for_status() and None)
        server.shutdown()
        server.server_close()
        thread.join(5)

    print(f"AS2, {N} EDIFACT ORDERS of {len(ORDER)} bytes, signed sha256 + AES-256-CBC")
    print(f"  round trip (sink -> AS2 server -> signed MDN, MIC checked): {round_trips:8.1f} msg/s")
    print(f"  the same without HTTP (build, open, MDN, read):            {crypto:8.1f} msg/s")
    print(f"  bare httpx POST of the same body, no security:             {bare:8.1f} msg/s")


if __name__ == "__main__":
    main()
