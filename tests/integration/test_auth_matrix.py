"""Every endpoint x every kind of caller gets the right status, and no refusal says anything.

The endpoints come from the OpenAPI document, so one added without a row here fails
:func:`test_the_matrix_covers_every_operation_of_the_document`. Each allowed call is checked
for the exact answer its handler gives on real data (a delivered order, a route, a
mapping), so a guard that let everything through, or refused everything, cannot pass. The
config has no ``auth`` section: nothing is open to anonymous callers but the probes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hub.api import create_app
from hub.credentials import SCOPES, grants
from hub.message import Message, utcnow
from hub.runtime import Hub
from hub.store.tables import ApiKeyRow, MessageRow
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.peers import serve_app
from tests.waiting import wait_for_progress

#: What the example order holds that nobody without read:payload may see.
PERSONAL = ("Müller", "Hauptstraße", "zoe.mueller@example.com")
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Call:
    """One request to one operation, and what its handler answers when the caller may."""

    method: str
    path: str  # with {id} for the delivered message
    allowed: int
    body: Any = None
    scope: str = ""  # what the operation needs; "" for the probes (open to all)


ORDER = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))

#: Keyed by the document's (method, path template).
CALLS: dict[tuple[str, str], Call] = {
    ("POST", "/ingest/shop-orders"): Call(
        "POST", "/ingest/shop-orders", 202, ORDER, "ingest:shop-orders"
    ),
    ("GET", "/messages"): Call("GET", "/messages", 200, scope="read"),
    ("GET", "/dead-letters"): Call("GET", "/dead-letters", 200, scope="read"),
    ("GET", "/messages/{message_id}"): Call("GET", "/messages/{id}", 200, scope="read"),
    ("GET", "/messages/{message_id}/audit"): Call("GET", "/messages/{id}/audit", 200, scope="read"),
    ("GET", "/mappings"): Call("GET", "/mappings", 200, scope="read"),
    ("GET", "/sources"): Call("GET", "/sources", 200, scope="read"),
    ("GET", "/messages/{message_id}/body"): Call(
        "GET", "/messages/{id}/body", 200, scope="read:payload"
    ),
    ("GET", "/messages/{message_id}/output"): Call(
        "GET", "/messages/{id}/output", 200, scope="read:payload"
    ),
    # a delivered message is not a dead letter: the handler's own 409 shows it ran
    ("POST", "/messages/{message_id}/replay"): Call(
        "POST", "/messages/{id}/replay", 409, {"reason": "again"}, "operate"
    ),
    ("POST", "/messages/{message_id}/discard"): Call(
        "POST", "/messages/{id}/discard", 409, {"reason": "gone"}, "operate"
    ),
    ("POST", "/dead-letters/replay"): Call(
        "POST", "/dead-letters/replay", 200, {"ids": ["{id}"]}, "operate"
    ),
    ("POST", "/preview"): Call(
        "POST", "/preview", 200, {"mapping": "woocommerce-order-to-erp", "input": ORDER}, "operate"
    ),
    ("GET", "/metrics"): Call("GET", "/metrics", 200, scope="metrics"),
    ("GET", "/keys"): Call("GET", "/keys", 200, scope="admin"),
    ("GET", "/healthz"): Call("GET", "/healthz", 200),
    ("GET", "/readyz"): Call("GET", "/readyz", 200),
}

#: Every kind of key the matrix calls with: one per scope, and one for another route only.
KEYED = [*SCOPES, "ingest:other-route"]


@dataclass
class World:
    client: httpx.Client
    hub: Hub
    message_id: str
    tokens: dict[str, str]  # by kind: each scope, "revoked", "expired", "unknown", "malformed"
    folder: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("auth")
    config = demo_config(folder, auth=None)
    outbox = {"name": "o", "type": "file", "options": {"directory": str(folder / "other")}}
    config["routes"]["other-route"] = {"sinks": [outbox]}
    hub = Hub.from_file(write_config(folder, config))
    tokens = {kind: hub.keys.create(f"key-{kind.replace(':', '-')}", [kind])[1] for kind in KEYED}
    tokens["revoked"] = hub.keys.create("revoked", ["admin"])[1]
    hub.keys.revoke("revoked")
    tokens["expired"] = hub.keys.create(
        "expired", ["admin"], expires_at=utcnow() + timedelta(days=1)
    )[1]
    with hub.store.transaction() as session:  # its expiry passed (no waiting for a clock)
        session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.name == "expired")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    admin = tokens["admin"]
    # a well-formed token of a key that does not exist: the admin's id, another secret
    tokens["unknown"] = admin[:-43] + ("A" if admin[-43] != "A" else "B") * 43
    tokens["malformed"] = "not-a-hub-key"
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=30) as client:
        bearer = {"Authorization": f"Bearer {admin}"}
        accepted = client.post("/ingest/shop-orders", json=ORDER, headers=bearer)
        assert accepted.status_code == 202, accepted.text
        message_id = accepted.json()["id"]
        wait_for_progress(
            lambda: client.get(f"/messages/{message_id}", headers=bearer).json()["status"],
            lambda status: status == "delivered",
            what="the order to be delivered",
        )
        yield World(client, hub, message_id, tokens, folder)


def _send(world: World, call: Call, headers: dict[str, str]) -> httpx.Response:
    path = call.path.replace("{id}", world.message_id)
    body = json.loads(json.dumps(call.body).replace("{id}", world.message_id))
    if call.method == "GET":
        return world.client.get(path, headers=headers)
    return world.client.post(path, json=body, headers={**JSON, **headers})


def _assert_says_nothing(world: World, answer: httpx.Response, status: int) -> None:
    """A refusal: the status, the hub's error shape, and nothing about any message."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert set(error) == {"type", "message", "hint"}
    assert error["type"] == ("unauthorized" if status == 401 else "forbidden")
    text = answer.text
    assert world.message_id not in text
    for secret in (*PERSONAL, *world.tokens.values()):
        assert secret not in text
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="hub"'


def test_the_matrix_covers_every_operation_of_the_document(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path != "/ingest/other-route"  # the same as shop-orders, another route
    }
    assert set(operations) == set(CALLS)
    for key, operation in operations.items():  # and the document says the same scopes
        assert operation["x-hub-scope"] == (CALLS[key].scope or "public"), key


OPERATIONS = sorted(CALLS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_key(world: World, method: str, path: str) -> None:
    call = CALLS[(method, path)]
    answer = _send(world, call, {})
    if not call.scope:
        assert answer.status_code == call.allowed, answer.text
    else:
        _assert_says_nothing(world, answer, 401)


@pytest.mark.parametrize("kind", ["unknown", "malformed", "revoked", "expired"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_key_that_is_not_valid_is_refused_everywhere_but_the_probes(
    world: World, method: str, path: str, kind: str
) -> None:
    call = CALLS[(method, path)]
    for headers in (
        {"Authorization": f"Bearer {world.tokens[kind]}"},
        {"X-API-Key": world.tokens[kind]},
    ):
        answer = _send(world, call, headers)
        if not call.scope:
            assert answer.status_code == call.allowed, answer.text
        else:
            _assert_says_nothing(world, answer, 401)
            reason = {"revoked": "was revoked", "expired": "has expired"}.get(kind, "not valid")
            assert reason in answer.json()["error"]["message"]


@pytest.mark.parametrize("kind", KEYED)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_each_scope_may_do_what_it_grants_and_nothing_else(
    world: World, method: str, path: str, kind: str
) -> None:
    call = CALLS[(method, path)]
    answer = _send(world, call, {"Authorization": f"Bearer {world.tokens[kind]}"})
    if not call.scope or grants([kind], call.scope):
        assert answer.status_code == call.allowed, answer.text
    else:
        _assert_says_nothing(world, answer, 403)
        assert call.scope in answer.json()["error"]["message"]


def test_a_wrong_scheme_or_two_different_keys_are_refused(world: World) -> None:
    call = CALLS[("GET", "/messages")]
    admin = world.tokens["admin"]
    for headers in (
        {"Authorization": f"Basic {admin}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {admin}", "X-API-Key": world.tokens["read"]},
    ):
        _assert_says_nothing(world, _send(world, call, headers), 401)
    both = {"Authorization": f"Bearer {admin}", "X-API-Key": admin}
    assert _send(world, call, both).status_code == 200


def test_refusals_are_counted_by_reason_and_logged_without_the_secret(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    def failures() -> dict[str, float]:
        text = world.client.get("/metrics", headers={"X-API-Key": world.tokens["metrics"]}).text
        found = {}
        for line in text.splitlines():
            if line.startswith("hub_auth_failures_total{"):
                reason = line.split('reason="')[1].split('"')[0]
                found[reason] = float(line.rsplit(" ", 1)[1])
        return found

    before = failures()
    with caplog.at_level("WARNING", logger="hub.auth"):
        world.client.get("/messages")
        world.client.get("/messages", headers={"X-API-Key": world.tokens["unknown"]})
        world.client.get("/messages", headers={"X-API-Key": world.tokens["revoked"]})
        world.client.get("/keys", headers={"X-API-Key": world.tokens["read"]})
    after = failures()
    for reason in ("missing", "unknown", "revoked", "scope"):
        assert after.get(reason, 0) == before.get(reason, 0) + 1, (reason, before, after)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused GET /messages" in logged
    for token in world.tokens.values():
        secret = token[-43:]  # hub_<id>_<secret>: the id may be logged, never the secret
        assert secret not in logged


def test_the_audit_names_the_key_never_a_header(world: World) -> None:
    """A dead letter replayed with a forged X-Hub-Actor is recorded under the key's name."""
    operate = world.tokens["operate"]
    failed = world.hub.store.add([_dead_letter(world)], ["erp"])[0]
    with world.hub.store.transaction() as session:
        session.execute(update(MessageRow).where(MessageRow.id == failed).values(status="failed"))
    answer = world.client.post(
        f"/messages/{failed}/replay",
        json={"reason": "fixed"},
        headers={"Authorization": f"Bearer {operate}", "X-Hub-Actor": "admin@victim.example"},
    )
    assert answer.status_code == 200, answer.text
    trail = world.client.get(
        f"/messages/{failed}/audit", headers={"X-API-Key": world.tokens["read"]}
    ).json()
    assert [entry["actor"] for entry in trail] == ["key-operate"]


def _dead_letter(world: World) -> Message:
    return Message(
        id="00000000-0000-4000-8000-00000000dead",
        route="shop-orders",
        source="http",
        body=b"{}",
        format="json",
    )
