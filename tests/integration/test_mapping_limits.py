"""``mappings.limits`` bound a mapping run wherever it runs: worker, translate, test-mappings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import demo_config, write_config
from tests.integration.test_api import wait_status
from tests.integration.test_cli import hub as run_hub
from tests.peers import serve_app

LOOPS = """\
name: loops
fields:
  rows:
    each: items
    fields:
      cells:
        each: $root.items
        fields:
          a: i
"""
LIMIT = "the run produces more than 1,000 values (limit mappings.limits.max_values)"
#: 1 top field + 100 rows x 2, then 100 cells x 2 per row: past 1,000 values at rows[3]
ITEMS = {"items": [{"i": n} for n in range(100)]}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The demo route with the loop-over-a-loop mapping and a small values limit."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "loops.yaml").write_text(LOOPS, encoding="utf-8")
    config: dict[str, Any] = demo_config(tmp_path)
    route = config["routes"]["shop-orders"]
    route["mapping"] = "mappings/loops.yaml"
    route["input"] = {"format": "json"}
    route["output"] = {"format": "json"}
    route["correlation"] = None
    config["mappings"] = {"reload_seconds": 0, "limits": {"max_values": 1000}}
    return write_config(tmp_path, config)


@pytest.fixture
def api(config: Path) -> Iterator[httpx.Client]:
    hub = Hub.from_file(config)
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def test_the_worker_dead_letters_a_run_past_its_limit(api: httpx.Client) -> None:
    accepted = api.post("/ingest/shop-orders", json=ITEMS)
    assert accepted.status_code == 202, accepted.text
    message = wait_status(api, accepted.json()["id"], "failed")
    assert message["error"]["stage"] == "map"
    assert f"loops.yaml rule rows.cells: rows[3].cells: {LIMIT}" in message["error"]["message"]

    small = api.post("/ingest/shop-orders", json={"items": [{"i": 1}, {"i": 2}]})
    assert wait_status(api, small.json()["id"], "delivered")["status"] == "delivered"


def test_translate_stops_a_run_past_its_limit(config: Path, tmp_path: Path) -> None:
    document = tmp_path / "items.json"
    document.write_text(json.dumps(ITEMS), encoding="utf-8")
    result = run_hub("translate", "--config", str(config), "-r", "shop-orders", str(document))
    assert result.returncode == 1
    assert f"mappings/loops.yaml rule rows.cells: rows[3].cells: {LIMIT}" in result.stderr
    assert "Traceback" not in result.stderr


def test_test_mappings_runs_cases_with_the_configs_limits(config: Path, tmp_path: Path) -> None:
    cases = tmp_path / "mappings" / "tests" / "loops"
    cases.mkdir(parents=True)
    (cases / "big.input.json").write_text(json.dumps(ITEMS), encoding="utf-8")
    (cases / "big.expected.json").write_text("{}", encoding="utf-8")
    result = run_hub("test-mappings", "--config", str(config))
    assert result.returncode == 1
    assert f"FAIL loops/big: mapping_error: rows[3].cells: {LIMIT}" in result.stdout

    result = run_hub("test-mappings", "--dir", str(tmp_path / "mappings"))  # no config: defaults
    assert "FAIL loops/big: output differs" in result.stdout, result.stdout
