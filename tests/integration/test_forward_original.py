"""``forward_original``: a signed document reaches the sink byte for byte, still validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config

# What a signature covers and a re-encode would change: the declaration's quotes, attribute
# order and spacing, a comment, the namespace prefixes, an external DOCTYPE.
SIGNED = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n"
    b'<!DOCTYPE Invoice SYSTEM "invoice.dtd">\n'
    b'<inv:Invoice  xmlns:inv="urn:example:invoice" currency="EUR"   id="INV-7">\n'
    b"  <!-- signed by the sender -->\n"
    b"  <inv:Total>12.50</inv:Total>\n"
    b'  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    b"<ds:SignatureValue>c2lnbmVk</ds:SignatureValue></ds:Signature>\n"
    b"</inv:Invoice>\n"
)


def _config(tmp: Path, **route: object) -> Path:
    return write_config(
        tmp,
        {
            "auth": {"anonymous": ["ingest", "read"]},
            "store": {"url": f"sqlite:///{tmp / 'hub.db'}"},
            "routes": {
                "signed-invoices": {
                    "input": {"format": "xml"},
                    "forward_original": True,
                    "sinks": [
                        {"name": "archive", "type": "file", "options": {"directory": "outbox"}}
                    ],
                    **route,
                }
            },
        },
    )


def _deliver(hub: Hub, body: bytes) -> str:
    result = hub.ingestor.ingest(InboundRequest(route="signed-invoices", body=body))
    assert result.message_id is not None
    while hub.worker.run_once():
        pass
    return result.message_id


def test_the_sink_gets_the_received_bytes_unchanged(tmp_path: Path) -> None:
    hub = Hub.from_file(_config(tmp_path))
    try:
        record = hub.store.get(_deliver(hub, SIGNED))
        assert record.status is MessageStatus.DELIVERED
        [written] = list((tmp_path / "outbox").iterdir())
        assert written.read_bytes() == SIGNED
        assert written.suffix == ".xml"
        assert "forwarded" in [event.kind for event in record.events]
    finally:
        hub.close()


def test_a_broken_document_is_still_a_dead_letter(tmp_path: Path) -> None:
    schema = tmp_path / "invoice.xsd"  # it wants an Order: the invoice breaks it
    schema.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="urn:example:invoice" elementFormDefault="qualified">'
        '<xs:element name="Order"/></xs:schema>'
    )
    hub = Hub.from_file(_config(tmp_path, input={"format": "xml", "options": {"xsd": str(schema)}}))
    try:
        record = hub.store.get(_deliver(hub, SIGNED))
        assert record.status is MessageStatus.FAILED
        assert not list((tmp_path / "outbox").glob("*"))
    finally:
        hub.close()


def test_a_mapping_beside_forward_original_is_a_config_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Hub.from_file(_config(tmp_path, output={"format": "json"}))
    assert "forward_original" in str(caught.value)
    assert "remove `mapping` and `output`" in str(caught.value)
