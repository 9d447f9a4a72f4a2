"""AS2 between two hub instances on loopback (issue 13's proof).

Hub A turns a WooCommerce order into EDIFACT ORDERS D96A and sends it by AS2, signed and
encrypted, to hub B's ``POST /as2/orders-in``. B decrypts and verifies it, commits it, and
only then answers with a signed MDN; A counts the message delivered once the MDN's MIC is
its own. A tampered payload gets a negative MDN: B keeps it as a dead letter, and A's
message becomes a dead letter carrying B's disposition.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.as2.keys import load_certificate, load_key
from connectors.as2.mdn import read_mdn
from connectors.as2.message import Keys, build_message, http_entity
from hub.api.app import create_app
from hub.runtime import Hub
from tests.as2_parties import Party, make_party
from tests.configs import EXAMPLE_ORDER, ROOT, write_config
from tests.integration.test_api import wait_status
from tests.peers import free_port, serve_app
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

_AUTH = {"anonymous": ["ingest", "read", "read:payload"]}
_WORKER = {"threads": 1, "poll_interval_seconds": 0.1, "lease_seconds": 30}


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    folder = tmp_path_factory.mktemp("as2-parties")
    return {
        "a": make_party(folder, "HUB-A"),
        "b": make_party(folder, "HUB-B"),
        "impostor": make_party(folder, "HUB-A", variant="-impostor"),
    }


def _hub_b(
    tmp: Path,
    parties: dict[str, Party],
    worker: dict[str, Any] | None = None,
    **partner: Any,
) -> Path:
    a, b = parties["a"], parties["b"]
    config = {
        "version": 1,
        "auth": _AUTH,
        "store": {"url": f"sqlite:///{tmp / 'hub-b.db'}"},
        "worker": worker or _WORKER,
        "routes": {
            "orders-in": {
                "source": {
                    "type": "as2",
                    "options": {
                        "as2_id": b.as2_id,
                        "certificate": str(b.certificate),
                        "key": str(b.key),
                        "partners": {a.as2_id: {"certificate": str(a.certificate), **partner}},
                    },
                },
                "input": {"format": "edifact"},
                "forward_original": True,
                "sinks": [
                    {"name": "erp", "type": "file", "options": {"directory": str(tmp / "b-erp")}}
                ],
            }
        },
    }
    return write_config(tmp, config, "hub-b.yaml")


def _hub_a(
    tmp: Path,
    parties: dict[str, Party],
    b_url: str,
    *,
    signer: str = "a",
    retry: dict[str, float] | None = None,
    **sink: Any,
) -> Path:
    a, b = parties["a"], parties["b"]
    me = parties[signer]
    routes: dict[str, Any] = {
        "shop-orders": {
            "source": {"type": "http"},
            "input": {
                "format": "json",
                "schema": str(ROOT / "schemas/json/woocommerce-order.schema.json"),
            },
            "correlation": "number",
            "mapping": str(ROOT / "mappings/woocommerce-order-to-orders-d96a.yaml"),
            "output": {"format": "edifact", "options": {"transliterate": True}},
            "sinks": [
                {
                    "name": "partner-b",
                    "type": "as2",
                    "options": {
                        "url": f"{b_url}/as2/orders-in",
                        "as2_from": a.as2_id,
                        "as2_to": b.as2_id,
                        "certificate": str(me.certificate),
                        "key": str(me.key),
                        "partner_certificate": str(b.certificate),
                        "content_type": "application/EDIFACT",
                        **sink,
                    },
                }
            ],
            "retry": retry
            or {"max_attempts": 3, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.5},
        },
        # where B posts asynchronous MDNs; it stores no messages
        "as2-mdns": {
            "source": {
                "type": "as2",
                "options": {
                    "as2_id": a.as2_id,
                    "certificate": str(a.certificate),
                    "key": str(a.key),
                    "partners": {b.as2_id: {"certificate": str(b.certificate)}},
                    "mdn_directory": str(tmp / "a-mdns"),
                },
            },
            "input": {"format": "edifact"},
            "forward_original": True,
            "sinks": [{"name": "none", "type": "file", "options": {"directory": str(tmp / "x")}}],
        },
    }
    config = {
        "version": 1,
        "auth": _AUTH,
        "store": {"url": f"sqlite:///{tmp / 'hub-a.db'}"},
        "worker": _WORKER,
        "files": {"allowed_roots": [str(ROOT / "mappings"), str(ROOT / "schemas")]},
        "routes": routes,
    }
    return write_config(tmp, config, "hub-a.yaml")


@contextmanager
def _running(config: Path, port: int | None = None) -> Iterator[httpx.Client]:
    hub = Hub.from_file(config)
    with serve_app(create_app(hub), port) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def _send_order(a: httpx.Client) -> str:
    sent = a.post(
        "/ingest/shop-orders",
        content=EXAMPLE_ORDER.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert sent.status_code == 202, sent.text
    return str(sent.json()["id"])


def _one_file(folder: Path) -> bytes:
    [written] = wait_for_progress(
        lambda: sorted(folder.glob("*")) if folder.exists() else [],
        lambda files: len(files) >= 1,
        what=f"a file in {folder}",
    )
    return written.read_bytes()


@pytest.mark.parametrize("mdn", ["sync", "async"])
def test_orders_go_signed_and_encrypted_and_the_mdn_makes_them_delivered(
    tmp_path: Path, parties: dict[str, Party], mdn: str
) -> None:
    a_port = free_port()
    options: dict[str, Any] = {"mdn": mdn}
    if mdn == "async":
        options.update(
            async_mdn_url=f"http://127.0.0.1:{a_port}/as2/as2-mdns",
            mdn_directory=str(tmp_path / "a-mdns"),
        )
    with _running(_hub_b(tmp_path, parties)) as b:
        config_a = _hub_a(tmp_path, parties, str(b.base_url).rstrip("/"), **options)
        with _running(config_a, a_port) as a:
            message_id = _send_order(a)
            sent = wait_status(a, message_id, "delivered", "failed")
            assert sent["status"] == "delivered", sent
            receipts = [e["detail"] for e in sent["events"] if e.get("sink") == "partner-b"]
            assert any("signed MDN, MIC" in detail for detail in receipts), receipts
            output = a.get(f"/messages/{message_id}/output").content
            assert output.startswith(b"UNA") or output.startswith(b"UNB")
            assert b"ORDERS:D:96A" in output

            # B stored it (its MDN came after the commit) and handed it to its ERP
            assert _one_file(tmp_path / "b-erp") == output
            [received] = b.get("/messages", params={"route": "orders-in"}).json()["messages"]
            stored = wait_status(b, received["id"], "delivered")
            assert stored["source"] == "as2"
            assert b.get(f"/messages/{received['id']}/body").content == output


def test_a_message_signed_with_another_key_comes_back_as_a_negative_mdn(
    tmp_path: Path, parties: dict[str, Party]
) -> None:
    """B does not recognise the signature: authentication-failed, on both sides a dead letter."""
    with _running(_hub_b(tmp_path, parties)) as b:
        config_a = _hub_a(tmp_path, parties, str(b.base_url).rstrip("/"), signer="impostor")
        with _running(config_a) as a:
            message_id = _send_order(a)
            failed = wait_status(a, message_id, "delivered", "failed")
            assert failed["status"] == "failed", failed
            assert "processed/error: authentication-failed" in failed["error"]["message"]
            assert failed["attempts"] == 1  # fatal: not retried

        [dead] = b.get("/dead-letters", params={"route": "orders-in"}).json()
        assert dead["error"]["stage"] == "receive"
        assert dead["error"]["message"].startswith("authentication-failed")
        assert not (tmp_path / "b-erp").exists()


def test_a_tampered_payload_gets_a_negative_mdn_and_becomes_a_dead_letter(
    tmp_path: Path, parties: dict[str, Party]
) -> None:
    a, b = parties["a"], parties["b"]
    keys = Keys(
        load_certificate(a.certificate), load_key(a.key, None), load_certificate(b.certificate)
    )
    order = (
        b"UNA:+.? 'UNB+UNOC:3+HUB-A+HUB-B+261130:1200+42'UNH+1+ORDERS:D:96A:UN'"
        b"BGM+220+727+9'UNT+3+1'UNZ+1+42'"
    )

    def message(number: int, *, encrypted: bool) -> tuple[dict[str, str], bytes]:
        outgoing = build_message(
            order,
            content_type="application/EDIFACT",
            filename="order.edi",
            message_id=f"<tampered-{number}@HUB-A>",
            as2_from=a.as2_id,
            as2_to=b.as2_id,
            keys=keys,
            encrypted=encrypted,
        )
        return outgoing.headers, outgoing.body

    # signed only, so the order itself can be changed in transit
    signed_headers, signed = message(1, encrypted=False)
    changed = signed.replace(b"BGM+220+727", b"BGM+220+999")
    assert changed != signed
    # signed and encrypted: a byte of the ciphertext changed
    sealed_headers, sealed = message(2, encrypted=True)
    damaged = bytearray(sealed)
    damaged[len(damaged) // 2] ^= 0xFF

    config = _hub_b(tmp_path, parties, require_encrypted=False)
    with _running(config) as hub_b:
        paths = hub_b.get("/openapi.json").json()["paths"]
        assert "/as2/orders-in" in paths
        assert "/ingest/orders-in" not in paths
        modifiers = []
        for headers, body in ((signed_headers, changed), (sealed_headers, bytes(damaged))):
            answer = hub_b.post("/as2/orders-in", content=body, headers=headers)
            assert answer.status_code == 200
            mdn = read_mdn(
                http_entity({k.lower(): v for k, v in answer.headers.items()}, answer.content),
                load_certificate(b.certificate),
                require_signed=True,
            )
            assert not mdn.positive
            assert mdn.original_message_id == headers["Message-ID"]
            modifiers.append(mdn.modifier)
        assert modifiers[0] == "error: integrity-check-failed"
        assert modifiers[1] in (  # which check catches it depends on where the byte lands
            "error: decryption-failed",
            "error: authentication-failed",
            "error: integrity-check-failed",
        )

        dead = hub_b.get("/dead-letters", params={"route": "orders-in"}).json()
        assert len(dead) == 2
        assert {d["error"]["type"] for d in dead} == {"inbound_refused"}
        bodies = {hub_b.get(f"/messages/{d['id']}/body").content for d in dead}
        assert bodies == {changed, bytes(damaged)}  # what came, for the operator to look at
        assert not (tmp_path / "b-erp").exists()
        delivered = hub_b.get("/messages", params={"route": "orders-in", "status": "delivered"})
        assert delivered.json()["messages"] == []

        # the genuine message after a forged one with its Message-ID is stored and receipted
        answer = hub_b.post("/as2/orders-in", content=signed, headers=signed_headers)
        mdn = read_mdn(
            http_entity({k.lower(): v for k, v in answer.headers.items()}, answer.content),
            load_certificate(b.certificate),
            require_signed=True,
        )
        assert mdn.positive, mdn
        listed = hub_b.get("/messages", params={"route": "orders-in"}).json()["messages"]
        bodies = [hub_b.get(f"/messages/{m['id']}/body").content for m in listed]
        assert sorted(bodies) == sorted([changed, bytes(damaged), order])


def test_a_payload_the_route_cannot_decode_gets_a_negative_mdn(
    tmp_path: Path, parties: dict[str, Party]
) -> None:
    """Opened and verified, but not EDIFACT: the partner learns it from the MDN, not a 400."""
    a, b = parties["a"], parties["b"]
    keys = Keys(
        load_certificate(a.certificate), load_key(a.key, None), load_certificate(b.certificate)
    )
    outgoing = build_message(
        b"this is no interchange",
        content_type="application/EDIFACT",
        filename="order.edi",
        message_id="<garbled-1@HUB-A>",
        as2_from=a.as2_id,
        as2_to=b.as2_id,
        keys=keys,
    )
    with _running(_hub_b(tmp_path, parties)) as hub_b:
        answer = hub_b.post("/as2/orders-in", content=outgoing.body, headers=outgoing.headers)
        assert answer.status_code == 200
        mdn = read_mdn(
            http_entity({k.lower(): v for k, v in answer.headers.items()}, answer.content),
            load_certificate(b.certificate),
            require_signed=True,
        )
        assert mdn.modifier == "error: unexpected-processing-error"
        assert "edifact" in mdn.text.lower()
        [dead] = hub_b.get("/dead-letters", params={"route": "orders-in"}).json()
        assert dead["error"]["type"] == "inbound_refused"
        assert hub_b.get(f"/messages/{dead['id']}/body").content == b"this is no interchange"


@pytest.mark.slow
def test_no_mdn_before_the_commit_and_a_resend_is_stored_once(
    tmp_path: Path, parties: dict[str, Party]
) -> None:
    """B dies (kill -9) in the middle of its commit: A gets no MDN, so its message is not
    delivered; A sends again with the same Message-ID once B is back, and B stores it once."""
    # B only ingests: the first commit of the process is the AS2 message's
    b_config = _hub_b(tmp_path, parties, {"enabled": False})
    first = HubProcess(b_config, tmp_path / "b.log", env={"HUB_FAILPOINT": "writer.before_commit"})
    first.start()
    again = HubProcess(b_config, tmp_path / "b.log")
    again.port, again.url = first.port, first.url  # A's config names this address
    try:
        retry = {"max_attempts": 1000, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.5}
        with _running(_hub_a(tmp_path, parties, first.url, retry=retry)) as a:
            message_id = _send_order(a)
            proc = first.proc
            assert proc is not None
            wait_for_progress(proc.poll, lambda code: code is not None, what="B to die")
            assert a.get(f"/messages/{message_id}").json()["status"] != "delivered"
            again.start()
            sent = wait_status(a, message_id, "delivered", "failed")
            assert sent["status"] == "delivered", sent
        stored = httpx.get(f"{again.url}/messages", params={"route": "orders-in"}).json()
        assert len(stored["messages"]) == 1
    finally:
        first.stop()
        again.stop()
