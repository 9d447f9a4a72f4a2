"""An inbox route fed by a poll source (a folder): each polled file is routed by envelope,
as ``POST /ingest/edi`` does, with its interchanges, duplicates, acknowledgements received
and owed recorded in the transaction that advances the poll. A crash between that commit
and moving the files finds them again and records nothing twice."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store import MessageFilter, Store, find_messages
from hub.store.interchanges import interchanges_of
from tests.configs import write_config
from tests.partners import (
    ACME,
    HUB,
    drain,
    edifact_interchange,
    partner_config,
    running,
    sqlite_url,
)
from tests.processes import HubProcess
from tests.waiting import wait_for_progress


def config(tmp: Path, worker: dict[str, Any]) -> dict[str, Any]:
    source = {
        "type": "directory",
        "schedule": {"interval_seconds": 0.2, "batch": 10, "lease_seconds": 5},
        "options": {"path": "drop", "pattern": "*.edi", "settle_seconds": 0},
    }
    return partner_config(sqlite_url(tmp), worker=worker, inbox_source=source)


def drop(folder: Path, name: str, body: bytes) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f".{name}.tmp").write_bytes(body)
    (folder / f".{name}.tmp").rename(folder / name)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with running(tmp_path, config(tmp_path, {"enabled": False})) as hub:
        yield hub


def test_polled_files_are_routed_by_envelope_deduplicated_and_acknowledged(
    hub: Hub, tmp_path: Path
) -> None:
    order = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'
    sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
    drain(hub)
    contrl = (
        f"UNB+UNOC:3+{ACME[0]}:{ACME[1]}+{HUB[0]}:{HUB[1]}+261120:1405+C1'\n"
        "UNH+1+CONTRL:D:3:UN'\n"
        f"UCI+1+{HUB[0]}:{HUB[1]}+{ACME[0]}:{ACME[1]}+7'\n"
        "UNT+3+1'\nUNZ+1+C1'\n"
    ).encode()
    drop_folder = tmp_path / "drop"
    drop(drop_folder, "a.edi", edifact_interchange("ICR1"))
    drop(drop_folder, "b.edi", edifact_interchange("ICR1"))  # the same interchange again
    drop(drop_folder, "c.edi", contrl)
    drop(drop_folder, "d.edi", b"no interchange at all")
    outcome = hub.polling.run("edi")
    assert outcome is not None
    assert outcome.stored == 4
    assert sorted(p.name for p in (drop_folder / "done").iterdir()) == [
        "a.edi",
        "b.edi",
        "c.edi",
        "d.edi",
    ]
    inbox = find_messages(hub.store, MessageFilter(route="edi")).messages
    assert len(inbox) == 4
    keys = {m.id: hub.store.get(m.id).message.idempotency_key or "" for m in inbox}
    by_name = {key.split(":")[0]: mid for mid, key in keys.items()}  # name:size:mtime
    assert set(by_name) == {"a.edi", "b.edi", "c.edi", "d.edi"}
    with hub.store.transaction() as session:
        [first] = interchanges_of(session, [by_name["a.edi"]])
        [again] = interchanges_of(session, [by_name["b.edi"]])
        [answered] = interchanges_of(session, [sent.message_id])
    assert (first.control_ref, first.duplicate_of) == ("ICR1", None)
    assert again.duplicate_of == first.id  # recorded at the poll, as at POST /ingest/edi
    assert answered.ack_status == "accepted"  # the polled CONTRL closed it
    assert any(e.kind == "duplicate" for e in hub.store.get(by_name["b.edi"]).events)
    acks = find_messages(hub.store, MessageFilter(route="acme.acks")).messages
    assert len(acks) == 2  # one CONTRL for each ORDERS interchange, none for the CONTRL

    drain(hub)
    routed = find_messages(hub.store, MessageFilter(route="acme-orders")).messages
    assert len(routed) == 2  # the duplicate was refused
    assert all(m.status is MessageStatus.DELIVERED for m in routed)
    assert len(list((tmp_path / "acks").iterdir())) == 2
    unreadable = hub.store.get(by_name["d.edi"])
    assert unreadable.status is MessageStatus.FAILED
    assert unreadable.error is not None
    assert unreadable.error.stage == "decode"


@pytest.mark.slow
@pytest.mark.parametrize("point", ["poll.before_commit", "poll.before_confirm"])
def test_a_crash_around_the_polls_commit_records_each_file_once(tmp_path: Path, point: str) -> None:
    worker = {"threads": 1, "poll_interval_seconds": 0.1}
    path = write_config(tmp_path, config(tmp_path, worker))
    drop_folder = tmp_path / "drop"
    refs = [f"ICR{n}" for n in range(1, 4)]
    for ref in refs:
        drop(drop_folder, f"{ref}.edi", edifact_interchange(ref))
    crashing = HubProcess(path, tmp_path / "crash.log", env={"HUB_FAILPOINT": point})
    with contextlib.suppress(AssertionError):  # it may die before it answers /healthz
        crashing.start()
    assert crashing.proc is not None
    assert (
        wait_for_progress(
            crashing.proc.poll, lambda code: code is not None, what=f"the hub to die at {point}"
        )
        == -9
    )
    assert len(list(drop_folder.glob("*.edi"))) == 3  # nothing was moved
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        committed = len(find_messages(store, MessageFilter(route="edi")).messages)
        assert committed == (0 if point == "poll.before_commit" else 3)
        hub = HubProcess(path, tmp_path / "hub.log").start()
        try:
            wait_for_progress(
                lambda: (
                    sorted(m.status.value for m in find_messages(store, MessageFilter()).messages),
                    len(list(drop_folder.glob("*.edi"))),
                ),
                lambda seen: seen == (["delivered"] * 12, 0),
                what="every file recorded once, routed, acknowledged and moved",
            )
        finally:
            hub.stop()
        inbox = find_messages(store, MessageFilter(route="edi")).messages
        with store.transaction() as session:
            records = interchanges_of(session, [m.id for m in inbox])
        assert sorted(r.control_ref for r in records) == refs
        assert all(r.duplicate_of is None for r in records)  # none recorded twice
        assert len(find_messages(store, MessageFilter(route="acme-orders")).messages) == 6
        assert len(find_messages(store, MessageFilter(route="acme.acks")).messages) == 3
        assert len(list((tmp_path / "acks").iterdir())) == 3
    finally:
        store.close()
