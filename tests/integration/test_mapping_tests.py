"""``hub test-mappings``: cases beside mappings, run as a user runs them, and the mapping schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from tests.configs import ROOT
from tests.integration.test_cli import hub

MAPPING = """\
name: order-to-erp
source: {format: json}
target: {format: json}
fields:
  order_number: {path: number, required: true}
  currency: {path: currency, default: EUR}
  lines:
    each: items
    fields:
      item: sku
      quantity: qty
"""

ORDER = {"number": "42", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}]}


def _folder(tmp_path: Path) -> Path:
    mappings = tmp_path / "mappings"
    cases = mappings / "tests" / "order-to-erp"
    cases.mkdir(parents=True)
    (mappings / "order-to-erp.yaml").write_text(MAPPING, encoding="utf-8")
    (cases / "two-lines.input.json").write_text(json.dumps(ORDER), encoding="utf-8")
    expected = {
        "order_number": "42",
        "currency": "EUR",
        "lines": [{"item": "A-1", "quantity": 2}, {"item": "B-2", "quantity": 1}],
    }
    (cases / "two-lines.expected.json").write_text(json.dumps(expected), encoding="utf-8")
    (cases / "no-items.input.json").write_text('{"number": "7"}', encoding="utf-8")
    (cases / "no-items.expected.fragment.json").write_text(
        '{"order_number": "7", "lines": [], "currency": "EUR"}', encoding="utf-8"
    )
    return mappings


def test_every_case_passes(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    result = hub("test-mappings", "--dir", str(mappings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "PASS order-to-erp/no-items",
        "PASS order-to-erp/two-lines",
        "2 passed, 0 failed",
    ]


def test_a_failing_case_prints_a_unified_diff_and_exits_1(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    cases = mappings / "tests" / "order-to-erp"
    expected = json.loads((cases / "two-lines.expected.json").read_text(encoding="utf-8"))
    expected["lines"][1]["quantity"] = 5
    (cases / "two-lines.expected.json").write_text(json.dumps(expected), encoding="utf-8")
    (cases / "no-items.expected.fragment.json").write_text(
        '{"order_number": "7", "currency": "USD"}', encoding="utf-8"
    )
    result = hub("test-mappings", "--dir", str(mappings))
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL order-to-erp/two-lines: output differs from the expected output" in out
    assert f"--- {cases / 'two-lines.expected.json'}" in out
    assert "+++ actual output" in out
    assert '-      "quantity": 5' in out
    assert '+      "quantity": 1' in out
    assert "FAIL order-to-erp/no-items: fragment differs at currency" in out
    assert '-  "currency": "USD",' in out
    assert '+  "currency": "EUR",' in out
    assert out.splitlines()[-1] == "0 passed, 2 failed"


def test_a_case_can_expect_the_mapping_to_fail(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    cases = mappings / "tests" / "order-to-erp"
    (cases / "no-number.input.json").write_text('{"items": []}', encoding="utf-8")
    (cases / "no-number.expected.error.txt").write_text(
        "required field 'order_number' has no value\norder-to-erp.yaml rule order_number\n",
        encoding="utf-8",
    )
    (cases / "other-error.input.json").write_text('{"items": []}', encoding="utf-8")
    (cases / "other-error.expected.error.txt").write_text("division by zero\n", encoding="utf-8")
    (cases / "no-error.input.json").write_text('{"number": "1"}', encoding="utf-8")
    (cases / "no-error.expected.error.txt").write_text("has no value\n", encoding="utf-8")
    result = hub("test-mappings", "--dir", str(mappings))
    assert result.returncode == 1
    out = result.stdout
    assert "PASS order-to-erp/no-number" in out
    assert "FAIL order-to-erp/other-error: the mapping failed with another error" in out
    assert "-division by zero" in out
    assert (
        "FAIL order-to-erp/no-error: expected the mapping to fail with: has no value, "
        "but it made an output"
    ) in out
    assert out.splitlines()[-1] == "3 passed, 2 failed"


def test_a_mapping_that_does_not_load_is_reported_with_line_and_column(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    mapping = mappings / "order-to-erp.yaml"
    mapping.write_text(MAPPING.replace("path: number", "path: 'number[x'"), encoding="utf-8")
    result = hub("test-mappings", "--dir", str(mappings))
    assert result.returncode == 1
    assert "FAIL order-to-erp/two-lines: mapping does not load" in result.stdout
    assert f"{mapping}:5:" in result.stdout  # file:line:column of the broken path


def test_the_shipped_cases_pass() -> None:
    result = hub("test-mappings", "--config", "config.example.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS woocommerce-order-to-erp/several-lines" in result.stdout


def test_every_shipped_mapping_matches_the_mapping_schema() -> None:
    schema = json.loads((ROOT / "schemas" / "mapping.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((ROOT / "mappings").glob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=../schemas/mapping.schema.json")
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
        assert not errors, f"{path.name}: {errors}"


def test_the_mapping_schema_refuses_unknown_keys() -> None:
    schema = json.loads((ROOT / "schemas" / "mapping.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"name": "x", "fields": {"a": {"pth": "b"}}})
    assert validator.is_valid({"name": "x", "fields": {"a": {"expr": "b", "when": "c"}}})


def test_update_writes_the_actual_output_of_failing_cases_after_the_diff(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    cases = mappings / "tests" / "order-to-erp"
    full = cases / "two-lines.expected.json"
    expected = json.loads(full.read_text(encoding="utf-8"))
    expected["lines"][1]["quantity"] = 5
    full.write_text(json.dumps(expected), encoding="utf-8")
    fragment = cases / "no-items.expected.fragment.json"
    fragment.write_text('{"currency": "USD", "lines": [1], "gone": 1}', encoding="utf-8")
    (cases / "new.input.json").write_text('{"number": "8"}', encoding="utf-8")
    untouched = {p.name: p.read_bytes() for p in cases.iterdir() if p.name.endswith(".input.json")}

    result = hub("test-mappings", "--dir", str(mappings), "--update")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert out.index(f"UPDATED {full}") > out.index('+      "quantity": 1')  # after the diff
    assert f"UPDATED {fragment}" in out
    assert f"UPDATED {cases / 'new.expected.json'}" in out
    assert out[-1] == "0 passed, 3 failed, 3 updated"

    assert json.loads(full.read_text(encoding="utf-8"))["lines"][1]["quantity"] == 1
    assert full.read_text(encoding="utf-8").startswith('{\n  "order_number": "42"')
    assert json.loads(fragment.read_text(encoding="utf-8")) == {
        "currency": "EUR",
        "lines": [],
        "gone": "<missing>",
    }  # the same paths, with what the output has at each
    assert json.loads((cases / "new.expected.json").read_text(encoding="utf-8")) == {
        "order_number": "8",
        "currency": "EUR",
        "lines": [],
    }
    assert {p: (cases / p).read_bytes() for p in untouched} == untouched

    again = hub("test-mappings", "--dir", str(mappings))
    assert again.returncode == 0, again.stdout
    assert again.stdout.splitlines()[-1] == "3 passed, 0 failed"


def test_update_leaves_passing_cases_alone_and_fails_when_there_is_no_output(
    tmp_path: Path,
) -> None:
    mappings = _folder(tmp_path)
    cases = mappings / "tests" / "order-to-erp"
    before = (cases / "two-lines.expected.json").read_bytes()
    (cases / "no-number.input.json").write_text('{"items": []}', encoding="utf-8")
    (cases / "no-number.expected.json").write_text("{}", encoding="utf-8")
    result = hub("test-mappings", "--dir", str(mappings), "--update")
    assert result.returncode == 1, result.stdout
    assert "FAIL order-to-erp/no-number: mapping_error: " in result.stdout
    assert "  not updated: order-to-erp/no-number made no output" in result.stdout
    assert "UPDATED" not in result.stdout
    assert result.stdout.splitlines()[-1] == "2 passed, 1 failed, 0 updated"
    assert (cases / "two-lines.expected.json").read_bytes() == before
    assert (cases / "no-number.expected.json").read_text(encoding="utf-8") == "{}"


def test_a_test_folder_named_after_no_mapping_gets_did_you_mean(tmp_path: Path) -> None:
    mappings = _folder(tmp_path)
    (mappings / "tests" / "order-to-epr").mkdir()
    result = hub("test-mappings", "--dir", str(mappings))
    assert result.returncode == 1
    assert "has no mapping order-to-epr.yaml" in result.stderr
    assert "(did you mean order-to-erp?)" in result.stderr
