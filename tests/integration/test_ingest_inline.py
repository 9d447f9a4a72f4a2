"""Ingest on the event loop: a small body from a quick source is decoded on the loop and
its commit awaited; anything else goes through a thread. Both answer alike, and a request
cancelled while its commit is pending still commits (the 202 promise, either way)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from hub.api import create_app
from hub.api.ingest import Accepted
from hub.message import MessageStatus
from hub.pipeline.ingest import INLINE_BODY_BYTES
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import serve_app
from tests.waiting import wait_for_progress

ORDER: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))


def body(number: int, *, padding: int = 0) -> bytes:
    return json.dumps({**ORDER, "number": str(number), "customer_note": "x" * padding}).encode()


def request(content: bytes) -> InboundRequest:
    return InboundRequest(
        route="shop-orders", body=content, headers={"content-type": "application/json"}
    )


@contextmanager
def hub_for(tmp_path: Path, store_url: str) -> Iterator[Hub]:
    config = demo_config(tmp_path, store_url=store_url, worker={"enabled": False})
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        yield hub
    finally:
        hub.close()


class Threaded:
    """Counts the requests that took the thread path (``Ingestor.ingest``)."""

    def __init__(self, hub: Hub) -> None:
        self.calls = 0
        self._ingest = hub.ingestor.ingest
        hub.ingestor.ingest = self  # type: ignore[method-assign]

    def __call__(self, inbound: InboundRequest) -> Any:
        self.calls += 1
        return self._ingest(inbound)


def test_small_and_large_bodies_are_answered_alike(tmp_path: Path, store_url: str) -> None:
    small, large = body(1), body(2, padding=INLINE_BODY_BYTES["json"])
    with hub_for(tmp_path, store_url) as hub:
        assert hub.ingestor.inline(request(small))
        assert not hub.ingestor.inline(request(large))
        threaded = Threaded(hub)
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=30) as client:
            answers = [
                client.post(
                    "/ingest/shop-orders",
                    content=content,
                    headers={"Content-Type": "application/json", "Idempotency-Key": key},
                )
                for content, key in ((small, "a"), (large, "b"), (small, "a"), (large, "b"))
            ]
        assert threaded.calls == 2  # the large body, twice; the small one on the loop
        assert [a.status_code for a in answers] == [202, 202, 200, 200]
        first, second, again, twice = (a.json() for a in answers)
        assert first["correlation_key"] == "1"
        assert second["correlation_key"] == "2"
        assert again == {**first, "duplicate": True}
        assert twice == {**second, "duplicate": True}
        assert answers[0].headers["location"] == f"/messages/{first['id']}"
        for answer in (first, second, again, twice):  # built as a dict: it is what it declares
            assert Accepted.model_validate(answer).model_dump() == answer
        assert hub.store.count_by_status() == {MessageStatus.RECEIVED: 2}


def test_a_store_that_cannot_take_it_is_a_503_on_both_paths(tmp_path: Path, store_url: str) -> None:
    with hub_for(tmp_path, store_url) as hub:
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=30) as client:
            hub.store.writer.close()  # as at shutdown: nothing more is accepted
            answers = [
                client.post(
                    "/ingest/shop-orders",
                    content=content,
                    headers={"Content-Type": "application/json"},
                )
                for content in (body(1), body(2, padding=INLINE_BODY_BYTES["json"]))
            ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == {
                "type": "store_unavailable",
                "message": "the store is closed (the hub is shutting down)",
            }


def test_a_request_cancelled_while_its_commit_waits_still_commits(
    tmp_path: Path, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that goes away does not take back what it sent: the commit it was waiting
    for happens, as it would in a thread, and answering the gone request is no error."""
    release, running = threading.Event(), threading.Event()

    def blocker(_session: Session) -> None:
        running.set()
        release.wait(60)

    async def cancel_one(hub: Hub) -> None:
        task = asyncio.create_task(hub.ingestor.ingest_inline(request(body(7))))
        await asyncio.to_thread(
            wait_for_progress,
            lambda: len(hub.store.writer._queue),
            lambda n: n == 1,
            what="the request's commit queued",
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with hub_for(tmp_path, store_url) as hub:
        held = threading.Thread(target=hub.store.writer.run, args=(blocker,))
        held.start()
        assert running.wait(60)
        try:
            asyncio.run(cancel_one(hub))
        finally:
            release.set()
            held.join(60)
        wait_for_progress(
            lambda: hub.store.count_by_status(),
            lambda counts: counts == {MessageStatus.RECEIVED: 1},
            what="the cancelled request's message committed",
        )
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_only_quick_sources_with_the_hubs_reply_run_on_the_loop(
    tmp_path: Path, store_url: str
) -> None:
    with hub_for(tmp_path, store_url) as hub:
        route = hub.routes["shop-orders"]
        assert route.source.quick_accept  # the http source: a header check and an HMAC
        source_type = type(route.source)
        try:
            source_type.quick_accept = False  # as a plugin's source is unless it says so
            assert not hub.ingestor.inline(request(body(1)))
            source_type.quick_accept = True
            # a source that answers in its own protocol (an AS2 MDN) signs in a thread
            source_type.reply = lambda self, request, inbound, stored: None  # type: ignore[method-assign]
            assert not hub.ingestor.inline(request(body(1)))
        finally:
            source_type.quick_accept = True
            del source_type.reply  # the inherited one again
        assert hub.ingestor.inline(request(body(1)))
        assert not hub.ingestor.inline(InboundRequest(route="nowhere", body=b"{}", headers={}))


def test_the_size_taken_on_the_loop_is_the_formats(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each input format has its own limit (XML decodes about 30 times slower per byte than
    JSON); a format with none (a plugin's) always goes to a thread."""
    limit = INLINE_BODY_BYTES["json"]
    with hub_for(tmp_path, store_url) as hub:
        assert hub.ingestor.inline(request(b" " * limit))
        assert not hub.ingestor.inline(request(b" " * (limit + 1)))
        monkeypatch.setitem(INLINE_BODY_BYTES, "json", 100)
        assert not hub.ingestor.inline(request(body(1)))
        monkeypatch.delitem(INLINE_BODY_BYTES, "json")
        assert not hub.ingestor.inline(request(b"{}"))
    assert INLINE_BODY_BYTES["xml"] < INLINE_BODY_BYTES["csv"] < limit
