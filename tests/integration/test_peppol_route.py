"""The shipped PEPPOL example route end to end: UBL invoices in, business rules, JSON out.

The route is config.example.yaml's ``peppol-invoices`` (its store and outbox moved to the
test's folder): an invoice under UBL's usual prefixes and the same invoice as JAXB writes
it give one accounting JSON; an invoice breaking a rule becomes a dead letter naming the
rule, its message and its place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "mappings" / "tests" / "ubl-invoice-to-accounting"


def _route(tmp: Path) -> dict[str, Any]:
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    route = example["routes"]["peppol-invoices"]
    options = route["input"]["options"]
    options["schematron"] = str(ROOT / options["schematron"])
    route["mapping"] = str(ROOT / route["mapping"])
    route["output"]["schema"] = str(ROOT / route["output"]["schema"])
    route["sinks"][0]["options"]["directory"] = str(tmp / "outbox")
    return route


def _run(tmp: Path, *bodies: bytes) -> tuple[Hub, list[str]]:
    config: dict[str, Any] = {"store": {"url": f"sqlite:///{tmp / 'hub.db'}"}, "routes": {}}
    config["files"] = {"allowed_roots": [str(ROOT)]}
    config["routes"]["peppol-invoices"] = _route(tmp)
    hub = Hub.from_file(write_config(tmp, config))
    ids: list[str] = []
    for body in bodies:
        result = hub.ingestor.ingest(InboundRequest(route="peppol-invoices", body=body))
        ids.extend(result.ids)
    while hub.worker.run_once():
        pass
    return hub, ids


def test_both_prefix_conventions_give_the_same_accounting_invoice(tmp_path: Path) -> None:
    usual = (CASES / "ubl-prefixes.input.xml").read_bytes()
    jaxb = (CASES / "jaxb-prefixes.input.xml").read_bytes()
    hub, ids = _run(tmp_path, usual, jaxb)
    try:
        records = [hub.store.get(i) for i in ids]
        assert [r.status for r in records] == [MessageStatus.DELIVERED] * 2
        assert [r.message.correlation_key for r in records] == ["NW-2024-0815"] * 2
        outputs = [json.loads(p.read_text()) for p in sorted((tmp_path / "outbox").iterdir())]
        expected = json.loads((CASES / "ubl-prefixes.expected.json").read_text())
        assert outputs == [expected, expected]
    finally:
        hub.close()


def test_an_invoice_breaking_a_rule_is_a_dead_letter_naming_the_rule(tmp_path: Path) -> None:
    body = (CASES / "jaxb-prefixes.input.xml").read_bytes()
    body = body.replace(
        b'<ns3:PriceAmount currencyID="EUR">3.00', b'<ns3:PriceAmount currencyID="EURO">3.00'
    )
    hub, [message_id] = _run(tmp_path, body)
    try:
        record = hub.store.get(message_id)
        assert record.status is MessageStatus.FAILED
        assert record.error is not None
        assert record.error.stage == "validate"
        text = record.error.message
        assert "[BR-CL-03]" in text
        assert "'EURO'" in text
        assert "line 102, /ns2:Invoice/ns4:InvoiceLine[2]/ns4:Price/ns3:PriceAmount" in text
        assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())
    finally:
        hub.close()
