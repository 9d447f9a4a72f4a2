"""An EDIFACT route end to end: one interchange of three orders becomes three messages."""

from __future__ import annotations

import json
from pathlib import Path

from hub.formats import make_codec
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import write_config

INTERCHANGE = (
    "UNA:+,? '\n"
    "UNB+UNOC:3+5412345000013:14+4012345000009:14+261120:1405+ICR42'\n"
    + "".join(
        f"UNH+{n}+ORDERS:D:96A:UN'\n"
        f"BGM+220+PO-{n}+9'\n"
        "DTM+137:20261120:102'\n"
        "NAD+BY+5412345000013::9'\n"
        "LIN+1++4000862141404:SRS'\n"
        f"QTY+21:{n}2,5:KGM'\n"
        "UNS+S'\n"
        f"UNT+8+{n}'\n"
        for n in (1, 2, 3)
    )
    + "UNZ+3+ICR42'\n"
).encode("latin-1")


def config(tmp: Path, output: dict[str, object]) -> dict[str, object]:
    return {
        "store": {"url": f"sqlite:///{tmp / 'hub.db'}"},
        "routes": {
            "supplier-orders": {
                "input": {"format": "edifact"},
                "split": True,
                "correlation": "messages[0].segments[1][2]",
                "output": output,
                "sinks": [{"name": "erp", "type": "file", "options": {"directory": "outbox"}}],
            }
        },
    }


def run(tmp: Path, output: dict[str, object]) -> tuple[Hub, list[str]]:
    hub = Hub.from_file(write_config(tmp, config(tmp, output)))
    result = hub.ingestor.ingest(InboundRequest(route="supplier-orders", body=INTERCHANGE))
    while hub.worker.run_once():
        pass
    return hub, list(result.ids)


def test_an_interchange_is_split_into_one_message_per_order(tmp_path: Path) -> None:
    hub, ids = run(tmp_path, {"format": "edifact"})
    try:
        assert len(ids) == 3
        records = [hub.store.get(i) for i in ids]
        assert [r.message.correlation_key for r in records] == ["PO-1", "PO-2", "PO-3"]
        assert all(r.status is MessageStatus.DELIVERED for r in records)
        files = sorted((tmp_path / "outbox").iterdir())  # relative to the config file
        assert [f.name.split("-")[0:2] for f in files] == [["PO", "1"], ["PO", "2"], ["PO", "3"]]
        codec = make_codec("edifact")
        second = codec.decode(files[1].read_bytes())
        assert second["trailer"] == ["1", "ICR42"]
        assert second["separators"]["decimal"] == ","
        [message] = second["messages"]
        assert message["reference"] == "2"
        assert ["QTY", ["21", "22,5", "KGM"]] in message["segments"]
    finally:
        hub.close()


def test_edifact_to_json_keeps_every_element(tmp_path: Path) -> None:
    hub, ids = run(tmp_path, {"format": "json"})
    try:
        output = hub.store.output(ids[0])
        assert output is not None
        tree = json.loads(output[0])
        assert tree["messages"][0]["segments"][1] == ["BGM", "220", "PO-1", "9"]
    finally:
        hub.close()


def test_split_needs_a_batching_format(tmp_path: Path) -> None:
    import pytest

    from hub.errors import ConfigError

    bad = config(tmp_path, {"format": "json"})
    bad["routes"]["supplier-orders"]["input"] = {"format": "json"}  # type: ignore[index]
    with pytest.raises(ConfigError, match="cannot split a batch"):
        Hub.from_file(write_config(tmp_path, bad))
