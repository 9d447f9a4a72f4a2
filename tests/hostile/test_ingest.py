"""Data loss and wrong answers at ingest, tried against a real ``hub run``.

Each attack once lost an order or gave a wrong answer: keys cut to 200 characters made a
second order a "duplicate"; a lone surrogate or a NUL in a key gave a 500 or a 503 that the
sender retried forever; a replayed webhook was stored again; two keys that differ only in
characters a file name cannot hold wrote one file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import RunningHub, StartHub
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

ORDER: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
JSON = {"Content-Type": "application/json"}
SECRET = "wc-s3cret"


def post(hub: RunningHub, order: dict[str, Any], **headers: str) -> httpx.Response:
    return hub.post("/ingest/shop-orders", json.dumps(order).encode(), headers={**JSON, **headers})


def settled(hub: RunningHub, message_id: str, *states: str) -> dict[str, Any]:
    def observe() -> dict[str, Any]:
        body: dict[str, Any] = hub.get(f"/messages/{message_id}").json()
        return body

    return wait_for_progress(
        observe, lambda m: m["status"] in states, what=f"{message_id} to be {states}"
    )


def test_long_idempotency_keys_sharing_a_prefix_are_two_orders(hostile_hub: StartHub) -> None:
    hub = hostile_hub()
    first = post(hub, ORDER, **{"Idempotency-Key": "k" * 200 + "A"})
    second = post(hub, {**ORDER, "number": "728"}, **{"Idempotency-Key": "k" * 200 + "B"})
    assert (first.status_code, second.status_code) == (202, 202), second.text
    assert second.json()["duplicate"] is False
    for answer in (first, second):
        settled(hub, answer.json()["id"], "delivered")
    assert len(list((hub.folder / "outbox").iterdir())) == 2


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("a\u0000b", "a NUL character at character 2"),
        ("\ud800", "a lone surrogate U+D800 at character 1, which is not valid text"),
    ],
)
def test_a_key_the_store_cannot_hold_is_a_400_that_says_where(
    hostile_hub: StartHub,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    store: str,
    bad: str,
    problem: str,
) -> None:
    url = request.getfixturevalue("postgres_url") if store == "postgres" else None
    hub = hostile_hub(demo_config(tmp_path / "hub", store_url=url))
    for _ in range(3):  # a sender that retries gets the same clear answer, never a 5xx
        answer = post(hub, {**ORDER, "number": bad})
        assert answer.status_code == 400, answer.text
        assert "retry-after" not in answer.headers
        error = answer.json()["error"]
        assert error["message"] == f"the correlation key at `number` contains {problem}"
        assert error["where"] == "number"
    assert hub.get("/messages").json()["messages"] == []
    assert post(hub, ORDER).status_code == 202  # and the next order goes through


def test_a_filter_by_date_is_answered_without_sql(hostile_hub: StartHub) -> None:
    hub = hostile_hub()
    post(hub, ORDER)
    for path in ("/dead-letters?since=2020-01-01", "/messages?since=2020-01-01"):
        answer = hub.get(path)
        assert answer.status_code == 200, answer.text
    nul = hub.get("/dead-letters", params={"correlation_key": "a\u0000b"})
    assert nul.status_code == 400
    assert "SELECT" not in nul.text
    assert nul.json()["error"]["where"] == "correlation_key"


def _signed_route(tmp_path: Path, signature: dict[str, Any]) -> dict[str, Any]:
    config = demo_config(tmp_path / "hub")
    route = config["routes"]["shop-orders"]
    route["source"] = {"type": "http", "options": {"signature": signature}}
    route["idempotency"] = {"path": ["id", "date_modified_gmt"]}  # as config.example.yaml
    return config


def test_a_replayed_woocommerce_webhook_is_stored_once(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    hub = hostile_hub(
        _signed_route(tmp_path, {"header": "X-WC-Webhook-Signature", "secret": SECRET})
    )

    def send(order: dict[str, Any]) -> httpx.Response:
        body = json.dumps(order).encode()
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
        return hub.post(
            "/ingest/shop-orders", body, headers={**JSON, "X-WC-Webhook-Signature": signature}
        )

    first = send(ORDER)
    replays = [send(ORDER) for _ in range(3)]
    updated = send({**ORDER, "status": "completed", "date_modified_gmt": "2026-11-21T08:00:00"})
    assert first.status_code == 202
    assert {r.status_code for r in replays} == {200}
    assert {r.json()["id"] for r in replays} == {first.json()["id"]}
    assert all(r.json()["duplicate"] for r in replays)
    assert updated.status_code == 202
    assert updated.json()["id"] != first.json()["id"]
    assert len(hub.get("/messages").json()["messages"]) == 2


def test_a_signed_request_replayed_later_is_refused(hostile_hub: StartHub, tmp_path: Path) -> None:
    hub = hostile_hub(
        _signed_route(
            tmp_path,
            {
                "header": "X-Signature",
                "secret": SECRET,
                "encoding": "hex",
                "timestamp_header": "X-Timestamp",
                "tolerance_seconds": 60,
            },
        )
    )
    body = EXAMPLE_ORDER.read_bytes()

    def signed(stamp: int) -> dict[str, str]:
        payload = f"{stamp}.".encode() + body
        digest = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
        return {**JSON, "X-Signature": digest, "X-Timestamp": str(stamp)}

    assert hub.post("/ingest/shop-orders", body, headers=signed(int(time.time()))).status_code == (
        202
    )
    stale = hub.post("/ingest/shop-orders", body, headers=signed(int(time.time()) - 3600))
    assert stale.status_code == 401
    error = stale.json()["error"]
    assert "this route accepts at most 60 s" in error["message"]
    assert "replayed" in error["hint"]
    metrics = hub.get("/metrics").text
    assert 'hub_ingest_rejected_total{reason="stale",route="shop-orders"} 1.0' in metrics


def test_keys_that_differ_only_in_unsafe_characters_write_two_files(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    outbox = tmp_path / "hub" / "outbox"
    config = demo_config(tmp_path / "hub")
    config["routes"]["shop-orders"]["sinks"] = [
        {
            "name": "erp",
            "type": "file",
            "options": {"directory": str(outbox), "filename": "{correlation}.{extension}"},
        }
    ]
    hub = hostile_hub(config)
    ids = [post(hub, {**ORDER, "number": number}).json()["id"] for number in ("a/b", "a_b")]
    for message_id in ids:
        settled(hub, message_id, "delivered")
    assert sorted(p.name for p in outbox.iterdir()) == ["a%2Fb.json", "a_b.json"]

    too_long = post(hub, {**ORDER, "number": "7" * 300}).json()["id"]
    failed = settled(hub, too_long, "failed", "delivered")
    assert failed["status"] == "failed"
    assert failed["attempts"] == 1  # fatal at once, not retried as if transient
    assert "the file system cannot hold the file name" in failed["error"]["message"]
    assert "{message_id}" in failed["error"]["message"]  # the hint, in the stored text
