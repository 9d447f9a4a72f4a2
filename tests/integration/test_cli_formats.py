"""``hub decode / encode / validate / contrl`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.configs import ROOT
from tests.integration.test_cli import hub

EDI = ROOT / "tests" / "data" / "edifact"


def test_decode_then_encode_gives_the_same_interchange(tmp_path: Path) -> None:
    sample = EDI / "orders_d96a_unoc.edi"
    decoded = hub("decode", str(sample))
    assert decoded.returncode == 0, decoded.stderr
    tree = json.loads(decoded.stdout)
    assert tree["messages"][0]["type"] == "ORDERS"
    assert "SG25" in tree["messages"][0]["body"]
    (tmp_path / "tree.json").write_text(decoded.stdout, encoding="utf-8")
    encoded = subprocess_bytes("encode", str(tmp_path / "tree.json"), "--format", "edifact")
    assert encoded == sample.read_bytes() + (b"" if sample.read_bytes().endswith(b"\n") else b"\n")


def subprocess_bytes(*args: str) -> bytes:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, cwd=ROOT, check=True, timeout=60
    )
    return done.stdout


def test_decode_checks_the_message_type() -> None:
    result = hub("decode", str(EDI / "orders_d96a_unoc.edi"), "--message-type", "INVOIC")
    assert result.returncode == 1
    assert "expected only INVOIC messages, found ORDERS" in result.stderr


def test_broken_interchange_names_segment_and_element() -> None:
    result = hub("validate", str(EDI / "broken" / "unt_count.edi"))
    assert result.returncode == 1
    assert "(UNT), element 1" in result.stderr
    assert "control count" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_xml_against_an_xsd_gives_line_and_xpath() -> None:
    result = hub(
        "validate",
        "tests/data/xml/stock-report-invalid.xml",
        "--schema",
        "schemas/xsd/stock-report.xsd",
    )
    assert result.returncode == 1
    assert "line 12, /StockReport/Item[2]/Quantity" in result.stderr


def test_csv_options_from_the_command_line() -> None:
    result = hub(
        "decode",
        "tests/data/csv/stock-report-de.csv",
        "-o",
        "delimiter=;",
        "-o",
        "decimal=,",
        "-o",
        "encoding=cp1252",
        "-o",
        "skip_rows=1",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"][0]["Artikelnr"] == "10-4711"


def test_contrl_rejects_a_broken_message() -> None:
    result = hub("contrl", str(EDI / "broken" / "unt_count.edi"))
    assert result.returncode == 0, result.stderr
    assert "UNH+1+CONTRL:D:3:UN'" in result.stdout
    assert "+4'" in result.stdout or "+4+" in result.stdout  # action 4: rejected


X12 = ROOT / "tests" / "data" / "x12"


def test_x12_decode_then_encode_gives_the_same_interchange(tmp_path: Path) -> None:
    sample = X12 / "856_4010_ship_notice.x12"
    decoded = hub("decode", str(sample))  # the format is guessed from .x12
    assert decoded.returncode == 0, decoded.stderr
    tree = json.loads(decoded.stdout)
    assert tree["groups"][0]["messages"][0]["body"]["HL_loop"][0]["HL"][3] == "S"
    (tmp_path / "tree.json").write_text(decoded.stdout, encoding="utf-8")
    assert subprocess_bytes("encode", str(tmp_path / "tree.json"), "--format", "x12") == (
        sample.read_bytes()
    )


def test_x12_validate_names_the_fault_and_its_997_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    data = (X12 / "850_4010_purchase_order.x12").read_bytes()
    bad.write_bytes(data.replace(b"PO1*1*24*EA", b"PO1*1*2x*EA"))
    result = hub("validate", str(bad))
    assert result.returncode == 1
    assert "segment 18 (PO1), element 2, line 18" in result.stderr
    assert "[AK403/IK403 code 6]" in result.stderr
    ok = hub("validate", str(X12 / "850_4010_purchase_order.x12"))
    assert ok.returncode == 0
    assert "valid x12" in ok.stdout
