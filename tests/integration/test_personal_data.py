"""Credentials are never stored; payloads can be encrypted at rest, rotated, and dropped.

Each test looks at what is really on disk: the SQLite file and its write-ahead log, searched
byte for byte for the secrets and the personal data the requests carried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql

from hub.api import create_app
from hub.errors import StoreError
from hub.message import Message, MessageStatus, utcnow
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import Store
from hub.store.apikeys import ApiKeys
from hub.store.migrate import upgrade
from hub.store.payloads import drop_payloads
from hub.store.sealing import Sealer, new_key
from hub.store.tables import MessageRow
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.peers import serve_app
from tests.waiting import wait_for_progress

#: What the example order holds about its customer, as stored (UTF-8).
PERSONAL = ("Müller".encode(), "Hauptstraße".encode(), b"zoe.mueller@example.com")
JSON = {"Content-Type": "application/json"}


def on_disk(folder: Path) -> bytes:
    """Every byte of the store: the database file, its WAL and shared memory."""
    files = sorted(folder.glob("hub.db*"))
    assert files, f"no store in {folder}"
    return b"".join(path.read_bytes() for path in files)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    """Starts the app of a config; yields (client, hub) for each config given."""
    stack: list[Any] = []

    def start(config: dict[str, Any], environ: dict[str, str] | None = None) -> Any:
        hub = Hub.from_file(write_config(tmp_path, config), environ=environ)
        context = serve_app(create_app(hub))
        url = context.__enter__()
        stack.append(context)
        client = httpx.Client(base_url=url, timeout=30)
        stack.append(client)
        return client, hub

    try:
        yield start
    finally:
        for item in reversed(stack):
            item.__exit__(None, None, None)


def delivered(client: httpx.Client, message_id: str, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = wait_for_progress(
        lambda: client.get(f"/messages/{message_id}", headers=headers).json(),
        lambda m: m["status"] == "delivered",
        what=f"{message_id} to be delivered",
    )
    return body


def test_no_credential_header_is_stored_even_one_a_source_was_told_to_keep(
    served: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")  # every line the hub writes
    config = demo_config(tmp_path, auth={"secret_headers": ["X-Partner-Pin"]})
    config["routes"]["shop-orders"]["source"] = {
        "type": "http",
        "options": {
            "keep_headers": [
                "Authorization",
                "Cookie",
                "X-API-Key",
                "X-WC-Webhook-Signature",
                "X-Partner-Pin",
                "X-Shop",
            ]
        },
    }
    client, hub = served(config)
    ingest = hub.keys.create("shop", ["ingest:shop-orders"])[1]
    reader = {"X-API-Key": hub.keys.create("reader", ["read"])[1]}
    secrets = {
        "Authorization": f"Bearer {ingest}",
        "Cookie": "session=cookie-secret-4711",
        "X-WC-Webhook-Signature": "c2lnbmF0dXJlLXNlY3JldA==",
        "X-Partner-Pin": "pin-secret-0815",
    }
    answer = client.post(
        "/ingest/shop-orders",
        content=EXAMPLE_ORDER.read_bytes(),
        headers={**JSON, **secrets, "X-Shop": "berlin", "X-Request-Id": "req-1"},
    )
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["id"]
    delivered(client, message_id, reader)
    with hub.store.transaction() as session:
        headers = session.scalar(select(MessageRow.headers).where(MessageRow.id == message_id))
    # what is not a credential is kept, as the source was told
    assert headers == {
        "content-type": "application/json",
        "user-agent": f"python-httpx/{httpx.__version__}",
        "x-request-id": "req-1",
        "x-shop": "berlin",
    }
    hub.store.close()
    stored = on_disk(tmp_path)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "stored" in logged  # the ingest's DEBUG lines are there ...
    for value in (*secrets.values(), ingest[-43:]):
        assert value.encode() not in stored, value
        assert value not in logged  # ... and no secret in any line


def encrypted_config(tmp_path: Path) -> dict[str, Any]:
    config = demo_config(tmp_path)
    config["store"]["encryption"] = {"keys": "${HUB_PAYLOAD_KEYS}"}
    return config


def test_with_encryption_the_store_holds_no_plaintext_body_or_output(
    served: Any, tmp_path: Path
) -> None:
    key = new_key()
    client, hub = served(encrypted_config(tmp_path), {"HUB_PAYLOAD_KEYS": key})
    answer = client.post("/ingest/shop-orders", content=EXAMPLE_ORDER.read_bytes(), headers=JSON)
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["id"]
    message = delivered(client, message_id, {})
    assert message["size"] == len(EXAMPLE_ORDER.read_bytes())
    assert client.get(f"/messages/{message_id}/body").content == EXAMPLE_ORDER.read_bytes()
    output = client.get(f"/messages/{message_id}/output").json()
    assert output["order_number"] == "727"
    assert "Müller" in json.dumps(output, ensure_ascii=False)  # the output holds the name too
    hub.store.close()
    stored = on_disk(tmp_path)
    assert b'"order_number"' not in stored  # the output is not there in clear
    for text in PERSONAL:
        assert text not in stored, text
    # ... which the same search finds without encryption (the test can fail)
    plain = tmp_path / "plain"
    plain.mkdir()
    store = Store(f"sqlite:///{plain / 'hub.db'}")
    store.migrate()
    store.add(
        Message(id="p", route="r", source="s", body=EXAMPLE_ORDER.read_bytes(), format="json"), []
    )
    store.close()
    assert PERSONAL[0] in on_disk(plain)


def _store(folder: Path, *keys: str) -> Store:
    store = Store(f"sqlite:///{folder / 'hub.db'}", sealer=Sealer(keys))
    store.migrate()
    return store


def _message(n: int) -> Message:
    return Message(
        id=f"m-{n}", route="r", source="s", body=f"order {n} for Müller".encode(), format="json"
    )


def test_keys_rotate_without_losing_a_message(tmp_path: Path) -> None:
    """Old key -> both keys (new first) -> reseal -> new key only: every payload readable at
    every step, and ``hub db reseal`` re-encrypts what an old key wrote."""
    old, new = new_key(), new_key()
    plain = _store(tmp_path)  # written before encryption was turned on
    plain.add(_message(0), [])
    plain.close()
    first = _store(tmp_path, old)
    first.add(_message(1), [])
    assert first.get("m-0").message.body == b"order 0 for M\xc3\xbcller"  # plain stays readable
    first.close()
    both = _store(tmp_path, new, old)
    both.add(_message(2), [])
    assert [both.get(f"m-{n}").message.body for n in range(3)] == [
        _message(n).body for n in range(3)
    ]
    both.close()
    only_new = _store(tmp_path, new)
    with pytest.raises(StoreError, match="key the hub does not have"):
        only_new.get("m-1")
    only_new.close()
    with pytest.raises(StoreError, match="no key for it"):
        _store(tmp_path).get("m-2")

    config = demo_config(tmp_path, store_url=f"sqlite:///{tmp_path / 'hub.db'}")
    config["store"]["encryption"] = {"keys": "${HUB_PAYLOAD_KEYS}"}
    resealed = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "db",
            "reseal",
            "--config",
            str(write_config(tmp_path, config)),
        ],
        env={**os.environ, "HUB_PAYLOAD_KEYS": f"{new},{old}"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert resealed.returncode == 0, resealed.stderr
    assert "3 message(s) re-encrypted" in resealed.stdout
    after = _store(tmp_path, new)
    assert [after.get(f"m-{n}").message.body for n in range(3)] == [
        _message(n).body for n in range(3)
    ]
    after.close()
    assert "Müller".encode() not in on_disk(tmp_path)


def test_a_key_that_is_not_a_fernet_key_is_a_config_error(tmp_path: Path) -> None:
    config = encrypted_config(tmp_path)
    with pytest.raises(Exception, match="not a Fernet key"):
        Hub.from_file(write_config(tmp_path, config), environ={"HUB_PAYLOAD_KEYS": "short"})


def test_retention_drops_delivered_payloads_and_keeps_their_history(
    served: Any, tmp_path: Path
) -> None:
    config = demo_config(tmp_path)
    config["store"]["retention"] = {"finished_days": 30, "payload_days": 7}
    client, hub = served(config)
    good = hub.ingestor.ingest(
        InboundRequest(route="shop-orders", body=EXAMPLE_ORDER.read_bytes())
    ).message_id
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["currency"] = "euro"  # breaks the schema: a dead letter
    order["billing"]["email"] = order["shipping"]["address_1"] = "kept@dead-letter.example"
    bad_body = json.dumps(order, ensure_ascii=False).encode()
    bad = hub.ingestor.ingest(InboundRequest(route="shop-orders", body=bad_body)).message_id
    assert good is not None
    assert bad is not None
    delivered(client, good, {})
    wait_for_progress(
        lambda: hub.store.get(bad).status,
        lambda status: status is MessageStatus.FAILED,
        what="the bad order to fail",
    )
    assert hub.retention.drop_payloads_once() == 0  # nothing is 7 days old yet
    with hub.store.transaction() as session:  # eight days pass
        session.execute(update(MessageRow).values(updated_at=utcnow() - timedelta(days=8)))
    assert hub.retention.drop_payloads_once() == 1
    assert hub.retention.drop_payloads_once() == 0  # dropped once
    for part in ("body", "output"):
        gone = client.get(f"/messages/{good}/{part}")
        assert gone.status_code == 410, gone.text
        assert gone.json()["error"]["type"] == "payload_dropped"
    message = client.get(f"/messages/{good}").json()
    assert message["status"] == "delivered"
    assert message["payload_dropped_at"] is not None
    kinds = [event["kind"] for event in message["events"]]
    assert kinds[0] == "received"
    assert "delivered" in kinds
    assert kinds[-1] == "payload_dropped"
    assert client.get(f"/messages/{bad}/body").content == bad_body
    assert "hub_payloads_dropped_total 1.0" in client.get("/metrics").text
    hub.store.close()
    stored = on_disk(tmp_path)
    assert b"kept@dead-letter.example" in stored  # the dead letter keeps its payload ...
    for text in (b"zoe.mueller@example.com", b"Lieferhof"):  # ... the delivered order's is gone
        assert text not in stored


def test_the_upgrade_removes_credential_headers_stored_before(tmp_path: Path) -> None:
    """A store at revision 0003 whose source kept Authorization: gone after the upgrade."""
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(store.engine, "0003")
    now = utcnow().replace(tzinfo=None)
    with store.engine.begin() as connection:
        connection.execute(
            sql(
                "INSERT INTO messages (id, route, source, format, headers, body, received_at,"
                " status, attempts, next_attempt_at, updated_at) VALUES (:id, 'r', 'http',"
                " 'json', :headers, :body, :now, 'delivered', 1, :now, :now)"
            ),
            {
                "id": "old",
                "headers": json.dumps(
                    {"authorization": "Basic b2xkLXNlY3JldA==", "x-request-id": "r-1"}
                ),
                "body": b"{}",
                "now": now,
            },
        )
    store.migrate()
    record = store.get("old")
    assert record.message.headers == {"x-request-id": "r-1"}
    store.close()
    assert b"b2xkLXNlY3JldA==" not in on_disk(tmp_path)


def test_keys_sealed_payloads_and_drops_on_postgresql(postgres_url: str) -> None:
    """The same store code on PostgreSQL: keys checked, payloads sealed, then dropped."""
    store = Store(postgres_url, sealer=Sealer([new_key()]))
    try:
        store.migrate()
        keys = ApiKeys(store)
        key, token = keys.create("pg", ["read"])
        assert keys.check(token).key == key
        keys.revoke("pg")
        assert keys.check(token).reason == "revoked"
        store.add(_message(1), [])
        assert store.get("m-1").message.body == _message(1).body
        with store.transaction() as session:
            row = session.execute(
                select(MessageRow.body, MessageRow.sealed).where(MessageRow.id == "m-1")
            ).one()
            assert row.sealed is True
            assert b"M\xc3\xbcller" not in row.body
            session.execute(update(MessageRow).values(status="delivered", updated_at=utcnow()))
        assert drop_payloads(store, utcnow() + timedelta(seconds=1)) == 1
        assert store.get("m-1").payload_dropped_at is not None
    finally:
        store.close()


def test_a_claim_of_a_payload_the_hub_has_no_key_for_takes_nothing(tmp_path: Path) -> None:
    """The claimed messages are made after the claim's commit, but an encrypted one is opened
    in it: without its key the claim fails whole, no attempt counted, no lease taken."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    key = new_key()
    writer = Store(url, sealer=Sealer([key]))
    writer.migrate()
    message = Message(id="m-1", route="r", source="http", body=b'{"a": 1}', format="json")
    writer.add(message, ["erp"])
    writer.close()
    keyless = Store(url)
    try:
        with pytest.raises(StoreError, match="no key for it"):
            keyless.claim("w", lease_seconds=30, limit=5)
        assert keyless.count_by_status() == {MessageStatus.RECEIVED: 1}
    finally:
        keyless.close()
    keyed = Store(url, sealer=Sealer([key]))
    try:
        [claimed] = keyed.claim("w", lease_seconds=30, limit=5)
        assert (claimed.message.body, claimed.attempts) == (b'{"a": 1}', 1)
    finally:
        keyed.close()
