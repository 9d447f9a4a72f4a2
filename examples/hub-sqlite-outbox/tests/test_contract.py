import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hub_sqlite_outbox import InboxSource, OutboxSink, TokenSource

from hub.sdk import Delivery, InboundRequest, PollSource, Receipt, Sink
from hub.sdk.testing import PollSourceContract, PushSourceContract, SinkContract


class TestOutboxSink(SinkContract):
    sink_class = OutboxSink

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"database": tmp_path / "outbox.db"}

    @pytest.fixture
    def unreachable_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"database": tmp_path / "no-such-dir" / "outbox.db"}

    @pytest.fixture
    def refusing_options(self, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "notes.txt").write_bytes(b"not a database, " * 200)
        return {"database": tmp_path / "notes.txt"}

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        with closing(sqlite3.connect(sink.options.database)) as db:
            rows = db.execute("SELECT body FROM outbox WHERE key = ?", (delivery.idempotency_key,))
            return [bytes(body) for (body,) in rows]


class TestTokenSource(PushSourceContract):
    source_class = TokenSource

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        return {"token": "s3cret"}

    @pytest.fixture
    def good_request(self) -> InboundRequest:
        return InboundRequest(route="r", body=b'{"a": 1}', headers={"x-api-token": "s3cret"})

    @pytest.fixture
    def bad_request(self) -> InboundRequest:
        return InboundRequest(route="r", body=b'{"a": 1}', headers={"x-api-token": "wrong"})


class TestInboxSource(PollSourceContract):
    source_class = InboxSource

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        with closing(sqlite3.connect(tmp_path / "inbox.db")) as db, db:
            db.execute("CREATE TABLE inbox (id INTEGER PRIMARY KEY, body BLOB)")
        return {"database": tmp_path / "inbox.db"}

    @pytest.fixture
    def unreachable_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"database": tmp_path / "not-yet.db"}

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        with closing(sqlite3.connect(source.options.database)) as db, db:
            db.executemany("INSERT INTO inbox (body) VALUES (?)", [(b,) for b in bodies])
