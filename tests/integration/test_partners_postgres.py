"""Several hub processes on one PostgreSQL store: worker processes number a partner's
interchanges without a gap or a repeat, and two API processes receiving the same
interchange at once record one of them as the first and the other as its duplicate."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.formats import make_codec
from tests.configs import write_config
from tests.partners import ACME, HUB, partner_config
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ORDERS = 24
WORKERS = 3


def config(tmp: Path, url: str, worker: dict[str, Any]) -> dict[str, Any]:
    return partner_config(
        url,
        worker=worker,
        sink=None,
        acknowledgements={"send": "never", "expect_within_hours": 24},
    )


def test_worker_processes_number_a_partners_interchanges_without_gaps(
    tmp_path: Path, postgres_url: str
) -> None:
    api = HubProcess(
        write_config(tmp_path, config(tmp_path, postgres_url, {"enabled": False}), "api.yaml"),
        tmp_path / "api.log",
    ).start()
    fast = {"threads": 2, "poll_interval_seconds": 0.2, "batch_size": 2}
    workers = [
        HubProcess(
            write_config(tmp_path, config(tmp_path, postgres_url, fast), f"w{n}.yaml"),
            tmp_path / f"w{n}.log",
        )
        for n in range(WORKERS)
    ]
    try:
        for worker in workers:
            worker.start(command="worker")
        for n in range(ORDERS):
            body = {"type": "ORDERS", "segments": [["BGM", "220", f"PO-{n}", "9"]]}
            response = httpx.post(f"{api.url}/ingest/orders-to-acme", json=body, timeout=10)
            assert response.status_code == 202, response.text
        van = tmp_path / "van"
        wait_for_progress(
            lambda: len(list(van.iterdir())) if van.exists() else 0,
            lambda count: count == ORDERS,
            what="every order to reach the partner",
        )
        codec = make_codec("edifact", {"validate": False})
        refs = [codec.decode(p.read_bytes())["header"][4] for p in van.iterdir()]
        assert sorted(int(r) for r in refs) == list(range(1, ORDERS + 1))
    finally:
        for worker in workers:
            worker.stop()
        api.stop()


def test_the_same_interchange_on_two_processes_at_once_is_one_duplicate(
    tmp_path: Path, postgres_url: str
) -> None:
    apis = [
        HubProcess(
            write_config(
                tmp_path, config(tmp_path, postgres_url, {"enabled": False}), f"api{n}.yaml"
            ),
            tmp_path / f"api{n}.log",
        ).start()
        for n in range(2)
    ]
    try:
        outcomes: dict[str, list[bool]] = {}
        lock = threading.Lock()

        def send(url: str, ref: str) -> None:
            body = (
                f"UNB+UNOC:3+{ACME[0]}:14+{HUB[0]}:14+261120:1405+{ref}'\n"
                "UNH+1+ORDERS:D:96A:UN'\nBGM+220+PO-1+9'\nDTM+137:20261120:102'\n"
                "UNS+S'\nUNT+5+1'\n"
                f"UNZ+1+{ref}'\n"
            ).encode()
            response = httpx.post(f"{url}/ingest/edi", content=body, timeout=30)
            assert response.status_code in (200, 202), response.text
            with lock:
                outcomes.setdefault(ref, []).append(bool(response.json().get("duplicate")))

        for round_ in range(8):
            ref = f"R{round_}"
            threads = [threading.Thread(target=send, args=(api.url, ref)) for api in apis]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert {ref: sorted(flags) for ref, flags in outcomes.items()} == {
            f"R{n}": [False, True] for n in range(8)
        }
    finally:
        for api in apis:
            api.stop()
