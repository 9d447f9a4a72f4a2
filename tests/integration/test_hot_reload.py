"""Hot reload: an edited mapping is used on the next message; a broken edit is rejected."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import ROOT, demo_config, write_config
from tests.integration.test_api import post_order, wait_status
from tests.peers import serve_app
from tests.waiting import wait_for_progress


def _edit(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))  # coarse clocks


def _metric(client: httpx.Client, outcome: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("hub_mapping_reloads_total{") and f'outcome="{outcome}"' in line:
            assert 'mapping="woocommerce-order-to-erp"' in line
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _wait_metric(client: httpx.Client, outcome: str, value: float) -> None:
    wait_for_progress(
        lambda: _metric(client, outcome),
        lambda counted: counted >= value,
        what=f"{value:g} {outcome} reload(s) counted",
    )


def _deliver(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    response = post_order(client)
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]
    message = wait_status(client, message_id, "delivered")
    output = client.get(f"/messages/{message_id}/output").json()
    return message, output


def test_a_valid_edit_is_used_and_an_invalid_one_rejected(tmp_path: Path) -> None:
    mapping = tmp_path / "woocommerce-order-to-erp.yaml"
    shutil.copy(ROOT / "mappings" / "woocommerce-order-to-erp.yaml", mapping)
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["mappings"] = {"reload_seconds": 0.05}
    hub = Hub.from_file(write_config(tmp_path, config))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        first, output = _deliver(client)
        old_hash = first["mapping"]["hash"]
        assert output["note"].startswith("Bitte")

        original = mapping.read_text(encoding="utf-8")
        edited = original.replace("  note: customer_note", '  note: {value: "reloaded"}')
        assert edited != original
        _edit(mapping, edited)
        _wait_metric(client, "applied", 1)
        second, output = _deliver(client)
        new_hash = second["mapping"]["hash"]
        assert new_hash != old_hash
        assert second["mapping"]["name"] == "woocommerce-order-to-erp"
        assert output["note"] == "reloaded"

        _edit(mapping, edited.replace("fields:\n", "fields: [unclosed\n", 1))
        _wait_metric(client, "rejected", 1)
        third, output = _deliver(client)
        assert third["mapping"]["hash"] == new_hash
        assert output["note"] == "reloaded"
        assert _metric(client, "applied") == 1
        assert _metric(client, "rejected") == 1


def test_reload_off_keeps_the_loaded_version(tmp_path: Path) -> None:
    mapping = tmp_path / "woocommerce-order-to-erp.yaml"
    shutil.copy(ROOT / "mappings" / "woocommerce-order-to-erp.yaml", mapping)
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["mappings"] = {"reload_seconds": 0}
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        before = hub.routes["shop-orders"].translator
        hub.start()
        _edit(mapping, mapping.read_text(encoding="utf-8") + "\n# edited\n")
        time.sleep(0.2)
        assert hub.routes["shop-orders"].translator is before
        hub.watcher.check()  # a turn run by hand still re-loads
        assert hub.routes["shop-orders"].translator is not before
    finally:
        hub.close()
