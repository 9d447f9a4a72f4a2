"""Definitions are loaded when a route starts, not by its first message: once warmed, a
codec decodes and encodes with its definitions folder gone."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from hub.errors import EncodeError
from hub.formats.edifact import EdifactCodec, EdifactOptions
from hub.formats.x12 import X12Codec, X12Options

ROOT = Path(__file__).resolve().parents[3]
ORDERS = (ROOT / "tests" / "data" / "edifact" / "structure" / "orders_d96a.edi").read_bytes()
PURCHASE_ORDER = (ROOT / "tests" / "data" / "x12" / "850_4010_purchase_order.x12").read_bytes()


def _body_only(tree: dict[str, Any]) -> dict[str, Any]:
    """The tree as a mapping builds it: messages with `body`, no `segments`."""
    built = copy.deepcopy(tree)
    for message in built["messages"]:
        del message["segments"]
    return built


def test_a_warmed_edifact_codec_needs_its_folder_no_more(tmp_path: Path) -> None:
    folder = tmp_path / "edifact"
    shutil.copytree(ROOT / "schemas" / "edifact", folder)
    codec = EdifactCodec(EdifactOptions(definitions=folder))
    codec.warm()
    shutil.rmtree(folder)
    tree = codec.decode(ORDERS)  # nested and validated: its definition was loaded
    assert [line["LIN"][1] for line in tree["messages"][0]["body"]["SG25"]] == ["1", "2", "3"]
    assert codec.encode(_body_only(tree)) == ORDERS  # flattened by the definition


def test_without_warming_the_first_message_loads_the_definition(tmp_path: Path) -> None:
    """The contrast: the same steps fail when nothing was loaded at start."""
    folder = tmp_path / "edifact"
    shutil.copytree(ROOT / "schemas" / "edifact", folder)
    codec = EdifactCodec(EdifactOptions(definitions=folder))
    shutil.rmtree(folder)
    with pytest.raises(EncodeError, match="has no definition"):
        codec.encode(_body_only(EdifactCodec().decode(ORDERS)))


def test_a_warmed_x12_codec_needs_its_folder_no_more(tmp_path: Path) -> None:
    folder = tmp_path / "x12"
    shutil.copytree(ROOT / "schemas" / "x12", folder)
    codec = X12Codec(X12Options(definitions=folder))
    codec.warm()
    shutil.rmtree(folder)
    tree = codec.decode(PURCHASE_ORDER)
    assert codec.encode(tree) == PURCHASE_ORDER


def test_warming_skips_a_broken_definition_for_the_message_that_needs_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "edifact"
    shutil.copytree(ROOT / "schemas" / "edifact", folder)
    (folder / "D96A" / "messages" / "PRICAT.yaml").write_text("message: [", "utf-8")
    codec = EdifactCodec(EdifactOptions(definitions=folder))
    codec.warm()  # the other messages are loaded; PRICAT's error waits for a PRICAT
    shutil.rmtree(folder / "D96A" / "messages")
    assert codec.decode(ORDERS)["messages"][0]["body"]["BGM"][1] == "220"
