"""Hot reload: an edited mapping is used on the next message; a broken edit is rejected."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

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
        refused = _status(client)["refused"]
        assert refused["reason"] == "invalid"
        assert refused["problems"][0]["where"].startswith(f"{mapping}:")


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


def _status(client: httpx.Client) -> dict[str, Any]:
    routes = client.get("/mappings").json()["routes"]
    assert [r["route"] for r in routes] == ["shop-orders"]
    return dict(routes[0])


def test_a_reload_that_breaks_the_schema_or_the_mapping_tests_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    mapping = folder / "woocommerce-order-to-erp.yaml"
    shutil.copy(ROOT / "mappings" / "woocommerce-order-to-erp.yaml", mapping)
    shutil.copytree(
        ROOT / "mappings" / "tests" / "woocommerce-order-to-erp",
        folder / "tests" / "woocommerce-order-to-erp",
    )
    original = mapping.read_text(encoding="utf-8")
    line = original.splitlines().index("  note: customer_note") + 1
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["mappings"] = {"reload_seconds": 0}  # turns run by hand below
    hub = Hub.from_file(write_config(tmp_path, config))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        first, _ = _deliver(client)
        serving = first["mapping"]["hash"]
        status = _status(client)
        assert status["name"] == "woocommerce-order-to-erp"
        assert status["hash"] == status["file_hash"] == serving
        assert status["path"] == str(mapping)
        assert status["refused"] is None
        assert status["warnings"] == []
        started = status["loaded_at"]

        # a target field the route's output schema does not allow
        broken = original.replace("  note: customer_note", "  notes: customer_note")
        _edit(mapping, broken)
        caplog.clear()
        hub.watcher.check()
        logged = [r for r in caplog.records if r.name == "hub.reload"]
        assert len(logged) == 1
        assert logged[0].levelname == "ERROR"
        text = logged[0].getMessage()
        assert "\n" not in text
        assert f"refused (schema), still serving version {serving}" in text
        assert f"{mapping}:{line}:3: target field 'notes' is not allowed" in text
        second, output = _deliver(client)
        assert second["mapping"]["hash"] == serving
        assert "notes" not in output
        status = _status(client)
        assert status["hash"] == serving
        assert status["file_hash"] == status["refused"]["hash"] != serving
        assert status["refused"]["reason"] == "schema"
        assert status["refused"]["problems"][0]["where"] == f"{mapping}:{line}:3"
        assert "additionalProperties: false" in status["refused"]["problems"][0]["message"]

        # the mapping's own test cases fail
        _edit(mapping, original.replace("  note: customer_note", '  note: {value: "x"}'))
        caplog.clear()
        hub.watcher.check()
        logged = [r for r in caplog.records if r.name == "hub.reload"]
        assert len(logged) == 1
        assert "refused (tests)" in logged[0].getMessage()
        assert "woocommerce-order-to-erp/several-lines" in logged[0].getMessage()
        status = _status(client)
        assert status["hash"] == serving
        assert status["refused"]["reason"] == "tests"
        assert status["refused"]["problems"][0]["hint"] == "run `hub test-mappings` for the diff"
        third, output = _deliver(client)
        assert third["mapping"]["hash"] == serving
        assert output["note"].startswith("Bitte")

        # a valid edit goes live and clears the refusal
        _edit(mapping, original + "\n# reviewed\n")
        hub.watcher.check()
        status = _status(client)
        assert status["hash"] == status["file_hash"] != serving
        assert status["refused"] is None
        assert status["loaded_at"] > started
        fourth, _ = _deliver(client)
        assert fourth["mapping"]["hash"] == status["hash"]

        metrics = client.get("/metrics").text
        for outcome, reason in (("rejected", "schema"), ("rejected", "tests"), ("applied", "none")):
            assert (
                f'hub_mapping_reloads_total{{mapping="woocommerce-order-to-erp",'
                f'outcome="{outcome}",reason="{reason}"}} 1.0'
            ) in metrics


def test_schema_warnings_are_logged_at_start_and_shown_per_route(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mapping = tmp_path / "woocommerce-order-to-erp.yaml"
    original = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    mapping.write_text(
        original.replace("  note: customer_note", "  note: shiping_lines[0].method_title"),
        encoding="utf-8",
    )
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    with caplog.at_level("WARNING", logger="hub"):
        hub = Hub.from_file(write_config(tmp_path, config))
    logged = [r.getMessage() for r in caplog.records if r.name == "hub"]
    assert len(logged) == 1
    assert logged[0].startswith(f"{mapping}:")
    assert "warning: source path 'shiping_lines[0].method_title'" in logged[0]
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        warnings = _status(client)["warnings"]
    assert [w["severity"] for w in warnings] == ["warning"]
    assert warnings[0]["hint"].startswith("did you mean shipping_lines")


def test_a_file_being_written_is_read_once_it_settles_and_a_touch_is_no_reload(
    tmp_path: Path,
) -> None:
    mapping = tmp_path / "woocommerce-order-to-erp.yaml"
    shutil.copy(ROOT / "mappings" / "woocommerce-order-to-erp.yaml", mapping)
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["mappings"] = {"reload_seconds": 0}  # the watcher's turns are run by hand below
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        route = hub.routes["shop-orders"]
        before = route.translator
        reloads = hub.metrics.mapping_reloads
        edited = mapping.read_text(encoding="utf-8").replace(
            "  note: customer_note", '  note: {value: "reloaded"}'
        )

        _edit(mapping, "")  # an editor truncated the file and has not written it yet
        hub.watcher.check(settle=True)
        _edit(mapping, edited[:40])  # half written
        hub.watcher.check(settle=True)
        _edit(mapping, edited)
        hub.watcher.check(settle=True)
        assert route.translator is before
        assert hub.watcher.statuses()[0].refused is None
        hub.watcher.check(settle=True)  # unchanged since the last turn: settled
        assert route.translator is not before
        assert route.translator.mapping is not None
        assert (
            reloads.labels(
                mapping="woocommerce-order-to-erp", outcome="applied", reason="none"
            )._value.get()
            == 1
        )
        rejected = reloads.labels(
            mapping="woocommerce-order-to-erp", outcome="rejected", reason="invalid"
        )
        assert rejected._value.get() == 0

        serving = route.translator
        _edit(mapping, edited)  # the same text, a newer time (a touch, a checkout)
        hub.watcher.check(settle=True)
        hub.watcher.check(settle=True)
        hub.watcher.check()
        assert route.translator is serving
        assert (
            reloads.labels(
                mapping="woocommerce-order-to-erp", outcome="applied", reason="none"
            )._value.get()
            == 1
        )
    finally:
        hub.close()
