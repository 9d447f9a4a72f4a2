"""The hub loads its routes' EDIFACT definitions when it starts: the first message is
translated without reading them (here: with the definitions folder gone after start)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config


def test_the_first_message_finds_the_definitions_loaded(tmp_path: Path) -> None:
    definitions = tmp_path / "edifact"
    shutil.copytree(ROOT / "schemas" / "edifact", definitions)
    config = demo_config(tmp_path, worker={"enabled": False})
    route = config["routes"]["shop-orders"]
    route["mapping"] = str(ROOT / "mappings/woocommerce-order-to-orders-d96a.yaml")
    route["output"] = {
        "format": "edifact",
        "options": {"transliterate": True, "definitions": str(definitions)},
    }
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        shutil.rmtree(definitions)  # what was not loaded at start cannot be loaded now
        translation = hub.routes["shop-orders"].translator.translate(EXAMPLE_ORDER.read_bytes())
    finally:
        hub.close()
    assert translation.body.startswith(b"UNA:+.? '\nUNB+UNOC:3+")
    assert b"\nLIN+3++HEFE-1KG:SA'\n" in translation.body
