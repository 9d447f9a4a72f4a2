"""The ``hub`` command as a user runs it: a real process, stdout, stderr and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.store.migrate import head_revision
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config


def hub(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )


BROKEN = """\
version: 1
server:
  port: 8080
routes:
  shop-orders:
    source:
      type: http
    sinks:
      - name: erp
        type: http
        optoins:
          url: ${PARTNER_URL}
"""


def test_check_reports_a_key_typo_and_a_missing_env_var_with_file_and_line(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(BROKEN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PARTNER_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    err = result.stderr
    assert f"{config}:11: unknown key 'routes.shop-orders.sinks.0.optoins'" in err
    assert "did you mean 'options'?" in err
    assert f"{config}:12: environment variable PARTNER_URL is not set" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("broken", ["config", "mapping"])
def test_check_locates_a_control_character_without_a_traceback(tmp_path: Path, broken: str) -> None:
    """The YAML reader refused the character outside the error handling: a traceback."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: m\nfields:\n  a: b\x01\n", encoding="utf-8")
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["routes"]["shop-orders"]["output"].pop("schema")
    path = write_config(tmp_path, config)
    if broken == "mapping":
        where = f"{mapping}:3:7"
    else:
        mapping.write_text("name: m\nfields:\n  a: b\n", encoding="utf-8")
        path.write_text(path.read_text(encoding="utf-8") + "# \x02\n", encoding="utf-8")
        where = f"{path}:{len(path.read_text(encoding='utf-8').splitlines())}:3"
    result = hub("check", "--config", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"{where}: invalid YAML: the character U+000" in result.stderr, result.stderr


def test_check_passes_on_the_example_config() -> None:
    result = hub("check", "--config", "config.example.yaml")
    assert result.returncode == 0, result.stderr
    assert "ok (2 routes)" in result.stdout
    assert "warning" not in result.stdout + result.stderr


def test_check_prints_schema_warnings_and_strict_makes_them_errors(tmp_path: Path) -> None:
    original = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "erp.yaml"
    mapping.write_text(
        original.replace("  note: customer_note", "  note: shiping_lines[0].method_title"),
        encoding="utf-8",
    )
    line = original.splitlines().index("  note: customer_note") + 1
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    path = write_config(tmp_path, config)
    warning = (
        f"{mapping}:{line}:9: warning: source path 'shiping_lines[0].method_title': the input "
        "schema woocommerce-order.schema.json does not declare 'shiping_lines' at the top level "
        "(did you mean shipping_lines"
    )

    result = hub("check", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(warning)
    assert result.stdout == f"{path}: ok (1 route), 1 warning (--strict fails on them)\n"

    result = hub("check", "--strict", "--config", str(path))
    assert result.returncode == 1
    assert f"error: {path} has 1 problem (--strict: warnings count as errors)" in result.stderr
    assert f"  {warning}" in result.stderr
    assert "Traceback" not in result.stderr


def test_translate_prints_the_orders_interchange(tmp_path: Path) -> None:
    from hub.formats import make_codec

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "translate",
            "-c",
            "config.example.yaml",
            str(EXAMPLE_ORDER),
            "-r",
            "shop-orders",
        ],
        capture_output=True,  # bytes: the interchange is ISO 8859-1 (UNOC)
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tree = make_codec("edifact").decode(result.stdout)  # validated against ORDERS D96A
    [message] = tree["messages"]
    assert message["type"] == "ORDERS"
    assert message["body"]["BGM"] == ["BGM", "220", "727", "9"]
    assert len(message["body"]["SG25"]) == 3


def test_translate_bad_input_names_the_place_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "order.json"
    bad.write_text('{"id": 1,\n  "number": "7",,}', encoding="utf-8")
    result = hub("translate", "--config", "config.example.yaml", "--route", "shop-orders", str(bad))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "line 2, column 17" in result.stderr
    assert "Traceback" not in result.stderr


def test_translate_invalid_order_lists_json_pointers(tmp_path: Path) -> None:
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["currency"] = "euro"
    path = tmp_path / "order.json"
    path.write_text(json.dumps(order), encoding="utf-8")
    result = hub(
        "translate", "--config", "config.example.yaml", "--route", "shop-orders", str(path)
    )
    assert result.returncode == 1
    assert "#/currency: 'euro' does not match" in result.stderr


def test_translate_unknown_route_and_missing_file(tmp_path: Path) -> None:
    result = hub(
        "translate", "--config", "config.example.yaml", "--route", "nope", str(EXAMPLE_ORDER)
    )
    assert result.returncode == 1
    assert "no route named 'nope'" in result.stderr
    assert "shop-orders" in result.stderr
    result = hub(
        "translate",
        "--config",
        "config.example.yaml",
        "--route",
        "shop-orders",
        str(tmp_path / "missing.json"),
    )
    assert result.returncode == 1
    assert "missing.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_then_messages_show(tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config(tmp_path))
    result = hub("db", "upgrade", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    result = hub("messages", "show", "nope", "--config", str(config))
    assert result.returncode == 1
    assert "no message with id 'nope'" in result.stderr


def test_messages_show_prints_the_history(tmp_path: Path) -> None:
    from hub.runtime import Hub
    from hub.sdk import InboundRequest

    config = write_config(tmp_path, demo_config(tmp_path))
    running = Hub.from_file(config)
    try:
        result = running.ingestor.ingest(
            InboundRequest(route="shop-orders", body=EXAMPLE_ORDER.read_bytes())
        )
        assert running.worker.run_once() == 1
    finally:
        running.close()
    assert result.message_id is not None
    shown = hub("messages", "show", result.message_id, "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["status"] == "delivered"
    assert view["correlation_key"] == "727"
    assert view["events"][0]["kind"] == "received"


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = hub("check", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "file not found" in result.stderr


def test_published_config_schema_is_current_and_accepts_the_example() -> None:
    import jsonschema
    import yaml

    result = hub("config-schema")
    assert result.returncode == 0, result.stderr
    published = (ROOT / "schemas" / "config.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(published), (
        "run: hub config-schema > schemas/config.schema.json"
    )
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(published)).validate(example)


def test_run_without_auto_migrate_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    settings = demo_config(tmp_path)
    settings["store"]["auto_migrate"] = False
    result = hub("run", "--config", str(write_config(tmp_path, settings)), "--port", "1")
    assert result.returncode == 1
    needs = f"the store is at revision (none), this hub needs {head_revision()}"
    assert needs in result.stderr
    assert "hub db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_translate_prints_every_output_of_a_splitting_mapping(tmp_path: Path) -> None:
    from tests.configs import demo_config, write_config

    config = demo_config(tmp_path)
    route = config["routes"]["shop-orders"]
    route["mapping"] = str(ROOT / "mappings/stock-report-csv-to-inventory-batches.yaml")
    route["input"] = {
        "format": "csv",
        "options": {
            "delimiter": ";",
            "decimal": ",",
            "encoding": "cp1252",
            "skip_rows": 1,
            "schema": str(ROOT / "schemas/json/stock-report-row.schema.json"),
        },
    }
    route["output"] = {"format": "json"}
    del route["correlation"]
    path = write_config(tmp_path, config)
    report = ROOT / "mappings/tests/stock-report-csv-to-inventory-batches/250-skus.input.csv"
    result = hub("translate", "--config", str(path), "--route", "shop-orders", str(report))
    assert result.returncode == 0, result.stderr
    assert "3 outputs (the mapping splits)" in result.stderr
    decoder = json.JSONDecoder()
    text, outputs, at = result.stdout, [], 0
    while at < len(text.rstrip()):
        value, end = decoder.raw_decode(text, at)
        outputs.append(value)
        at = end + 1
    assert [len(o["update"]) for o in outputs] == [100, 100, 50]
    assert outputs[2]["update"][-1]["sku"] == "50-0249"
