"""What the console tests share: a hub whose partner refuses every order (so each becomes a
dead letter), signing in with a key, the CSRF token of a page, and an order to ingest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import HttpPeer, Reply, http_peer


@contextmanager
def refusing_partner(tmp: Path) -> Iterator[tuple[HttpPeer, Path]]:
    """A partner that answers 400 to every order, and the path of a demo config delivering
    to it, where only ``ingest`` is anonymous."""
    with http_peer() as peer:
        peer.default = Reply(400, body=b'{"error": "no"}')
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        config = demo_config(tmp, sinks=sinks, auth={"anonymous": ["ingest"]})
        yield peer, write_config(tmp, config)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def sign_in(url: str, key: str) -> httpx.Client:
    """A client signed in to the console at ``url`` with an API key (close it after)."""
    client = httpx.Client(base_url=url, timeout=10)
    answer = client.post("/ui/login", data={"key": key})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/ui/messages"
    return client


def order(number: int) -> dict[str, Any]:
    """The example WooCommerce order, numbered ``number``."""
    made: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    made["id"], made["number"] = number, str(number)
    return made
