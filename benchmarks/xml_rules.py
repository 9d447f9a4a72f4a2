"""Schematron business rules on a 100-line UBL invoice: the hub beside the bare processor.

    python -m benchmarks.xml_rules [--lines 100] [--json]

The rules are schemas/schematron/peppol-bis3-invoice-rules.sch, as the PEPPOL example
route runs them. Rows, each the best of several runs, in milliseconds per invoice:

* bare Saxon: saxonche parses the document's text and runs the stylesheet the rules
  compile to (the floor: what any Schematron-over-XSLT setup must do);
* hub rules: ``Schematron.check`` on the element tree the codec already parsed
  (serialise it, parse it in Saxon, run, read the failures, locate them);
* hub decode, with and without the rules: the whole ``XmlCodec.decode`` of the invoice.

The invoice must pass the rules (a run that finds failures is an error, exit status 1).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from hub.formats.xml import XmlCodec, XmlOptions
from hub.formats.xml.parse import hardened_parser

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "schemas" / "schematron" / "peppol-bis3-invoice-rules.sch"
INVOICE = REPO / "mappings" / "tests" / "ubl-invoice-to-accounting" / "ubl-prefixes.input.xml"
NAMESPACES = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_MIN_TIME = 0.5


def invoice(lines: int) -> bytes:
    """The example invoice with ``lines`` lines whose totals add up."""
    text = INVOICE.read_text(encoding="utf-8")
    first = text.index("  <cac:InvoiceLine>")
    last = text.index("</Invoice>")
    template = text[first : text.index("  </cac:InvoiceLine>") + len("  </cac:InvoiceLine>\n")]
    body, net = [], Decimal(0)
    for n in range(1, lines + 1):
        quantity, price = n % 17 + 1, Decimal(n % 23 + 1) / 4
        amount = quantity * price
        net += amount
        line = template.replace("<cbc:ID>1</cbc:ID>", f"<cbc:ID>{n}</cbc:ID>", 1)
        line = re.sub(r'unitCode="H87">\d+<', f'unitCode="H87">{quantity}<', line)
        line = re.sub(
            r'(<cbc:LineExtensionAmount currencyID="EUR">)[\d.]+<', rf"\g<1>{amount:.2f}<", line
        )
        line = re.sub(r'(<cbc:PriceAmount currencyID="EUR">)[\d.]+<', rf"\g<1>{price:.2f}<", line)
        body.append(line)
    vat = (net * Decimal("0.19")).quantize(Decimal("0.01"))
    head = text[:first]
    for name, value in (
        ("TaxAmount", vat),
        ("TaxableAmount", net),
        ("LineExtensionAmount", net),
        ("TaxExclusiveAmount", net),
        ("TaxInclusiveAmount", net + vat),
        ("PayableAmount", net + vat),
    ):
        head = re.sub(rf'(<cbc:{name} currencyID="EUR">)[\d.]+<', rf"\g<1>{value:.2f}<", head)
    return (head + "".join(body) + text[last:]).encode("utf-8")


def _best(fn: Callable[[], Any]) -> float:
    fn()  # warm
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or spent < _MIN_TIME:
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best


def run(lines: int = 100) -> dict[str, Any]:
    from saxonche import PySaxonProcessor

    data = invoice(lines)
    checked = XmlCodec(XmlOptions(schematron=RULES, namespaces=NAMESPACES))
    plain = XmlCodec(XmlOptions(namespaces=NAMESPACES))
    rules = checked.rules
    assert rules is not None
    root = etree.fromstring(data, hardened_parser())
    failures = rules.problems(root)
    if any(not problem.is_warning for problem in failures):
        raise SystemExit(f"the benchmark invoice breaks the rules: {failures[0]}")

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_text=rules.stylesheet
    )
    text = data.decode("utf-8")

    def bare() -> str:
        document = processor.parse_xml(xml_text=text)
        return str(executable.transform_to_string(xdm_node=document))

    if "<failed" in bare():
        raise SystemExit("the bare processor finds failures the hub does not")
    figures = {
        "bare_saxon_ms": _best(bare) * 1000,
        "hub_rules_ms": _best(lambda: rules.problems(root)) * 1000,
        "hub_decode_with_rules_ms": _best(lambda: checked.decode(data)) * 1000,
        "hub_decode_without_rules_ms": _best(lambda: plain.decode(data)) * 1000,
    }
    return {
        "lines": lines,
        "bytes": len(data),
        **figures,
        "rules_ratio": figures["hub_rules_ms"] / figures["bare_saxon_ms"],
    }


def table(report: dict[str, Any]) -> str:
    rows = [
        f"Schematron (PEPPOL selection) on a {report['lines']}-line UBL invoice "
        f"({report['bytes'] / 1024:.0f} KiB), ms per invoice",
        f"  bare Saxon (parse text + run)      {report['bare_saxon_ms']:8.2f}",
        f"  hub rules on the parsed tree       {report['hub_rules_ms']:8.2f}"
        f"   x{report['rules_ratio']:.2f} of bare",
        f"  hub decode with the rules          {report['hub_decode_with_rules_ms']:8.2f}",
        f"  hub decode without the rules       {report['hub_decode_without_rules_ms']:8.2f}",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.xml_rules", description=__doc__)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    report = run(args.lines)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
