"""A local stand-in for a shop's REST API, following WooCommerce's published contract.

``GET /wp-json/wc/v3/orders`` as WooCommerce REST API v3 documents it: HTTP basic auth with
the consumer key and secret, ``page`` / ``per_page`` (at most 100), ``modified_after``
(ISO 8601) with ``orderby=modified&order=asc``, ``X-WP-Total`` / ``X-WP-TotalPages`` and a
``Link: <...>; rel="next"`` header, and errors as ``{"code", "message", "data": {"status"}}``.
``GET /api/records`` pages with a cursor in the body instead (``{"data", "next_cursor"}``,
the style of Stripe-like APIs). Rate limiting answers 429 with ``Retry-After``.

Pointing the ``http-pull`` source at the real shop's URL is the only change a user makes.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

KEY, SECRET = "ck_test_0123456789", "cs_test_abcdefghij"


@dataclass
class Shop:
    url: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    #: Answer 429 to every n-th request (0: never).
    throttle_every: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new order, modified one second after the last one."""
        with self.lock:
            n = len(self.orders) + 1
            order = {
                "id": 700 + n,
                "number": str(700 + n),
                "date_modified_gmt": f"2026-11-30T10:{n // 60:02d}:{n % 60:02d}",
                **body,
            }
            self.orders.append(order)
            return order


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        shop = self.server.shop
        with shop.lock:
            shop.requests += 1
            throttled = shop.throttle_every and shop.requests % shop.throttle_every == 0
        if throttled:
            return self._error(
                429,
                "woocommerce_rest_too_many_requests",
                "Too many requests.",
                {"Retry-After": "1"},
            )
        if not self._authorised():
            return self._error(
                401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
            )
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if split.path == "/wp-json/wc/v3/orders":
            return self._orders(query)
        if split.path == "/api/records":
            return self._records(query)
        return self._error(404, "rest_no_route", "No route was found matching the URL.")

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        return base64.b64decode(header[6:]).decode() == f"{KEY}:{SECRET}"

    def _matching(self, query: dict[str, str]) -> list[dict[str, Any]]:
        since = query.get("modified_after")
        with self.server.shop.lock:
            found = [
                o
                for o in self.server.shop.orders
                if since is None or o["date_modified_gmt"] >= since
            ]
        return sorted(found, key=lambda o: (o["date_modified_gmt"], o["id"]))

    def _orders(self, query: dict[str, str]) -> None:
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", "10"))
        except ValueError:
            return self._error(400, "rest_invalid_param", "Invalid parameter(s): page")
        if not 1 <= per_page <= 100 or page < 1:
            return self._error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        found = self._matching(query)
        pages = max(1, -(-len(found) // per_page))
        chunk = found[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(found)), "X-WP-TotalPages": str(pages)}
        if page < pages:
            following = urlencode({**query, "page": page + 1})
            headers["Link"] = (
                f'<{self.server.shop.url}/wp-json/wc/v3/orders?{following}>; rel="next"'
            )
        self._json(200, chunk, headers)
        return None

    def _records(self, query: dict[str, str]) -> None:
        found = self._matching(query)
        start = int(query.get("cursor", "0") or 0)
        size = int(query.get("limit", "10"))
        chunk = found[start : start + size]
        following = str(start + size) if start + size < len(found) else None
        self._json(200, {"data": chunk, "next_cursor": following})

    def _error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"code": code, "message": message, "data": {"status": status}}, headers)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    shop: Shop


@contextmanager
def running_shop() -> Iterator[Shop]:
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.shop = Shop(url=f"http://{host!s}:{port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.shop
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
