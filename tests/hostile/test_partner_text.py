"""A partner's error text with characters a database refuses (NUL, a lone surrogate) is
stored cleaned: the turn is recorded, retries stop at max_attempts, and the dead letter
shows the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import StartHub
from tests.peers import HttpPeer, Reply, http_peer

pytestmark = pytest.mark.slow

#: Declared as unicode_escape, the body decodes to a NUL and a lone surrogate (U+D800),
#: besides the raw NUL byte: exactly what a hostile or broken partner can make httpx read.
HOSTILE = Reply(
    500,
    headers={"Content-Type": "text/plain; charset=unicode_escape"},
    body=b"database \\x00 exploded \\ud800 near \x00 row 7",
)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def partner() -> Iterator[HttpPeer]:
    with http_peer() as peer:
        peer.default = HOSTILE
        yield peer


def test_a_partner_error_with_nul_and_a_lone_surrogate_is_recorded_and_retries_stop(
    hostile_hub: StartHub, partner: HttpPeer, store_url: str, tmp_path: Path
) -> None:
    cfg = demo_config(
        tmp_path / "hub",
        store_url=store_url,
        sinks=[{"name": "partner", "type": "http", "options": {"url": partner.url}}],
        retry={"max_attempts": 3, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.2},
    )
    hub = hostile_hub(cfg)
    response = hub.post(
        "/ingest/shop-orders",
        EXAMPLE_ORDER.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]

    message = hub.process.wait_status(message_id, "failed")
    assert len(partner.received) == 3  # max_attempts, not one per lease period forever
    cleaned = "database \ufffd exploded \ufffd near \ufffd row 7"
    error = message["error"]
    assert isinstance(error, dict)
    assert error["type"] == "retries_exhausted"
    assert error["message"].startswith("gave up after 3 attempts")
    assert cleaned in error["message"]
    deliveries = message["deliveries"]
    assert isinstance(deliveries, list)
    assert cleaned in deliveries[0]["last_error"]
    events = message["events"]
    assert isinstance(events, list)
    attempts = [e for e in events if e["kind"] == "attempt"]
    assert [a["data"]["outcome"] for a in attempts] == ["retry", "retry", "retry"]
    assert all(cleaned in a["detail"] for a in attempts)
    listed = hub.get("/dead-letters", params={"route": "shop-orders"}).json()
    assert [m["id"] for m in listed] == [message_id]
