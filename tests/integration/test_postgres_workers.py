"""Several hub processes on one PostgreSQL store: NOTIFY wakes an idle `hub worker` at once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.processes import HubProcess

pytestmark = pytest.mark.slow


def test_an_api_process_and_a_worker_process_share_the_store(
    tmp_path: Path, postgres_url: str
) -> None:
    api_only = demo_config(tmp_path, store_url=postgres_url, worker={"enabled": False})
    # The worker polls only every 30 s: delivery within seconds proves NOTIFY woke it.
    slow_poll = {"threads": 1, "poll_interval_seconds": 30, "lease_seconds": 30}
    workers = demo_config(tmp_path, store_url=postgres_url, worker=slow_poll)
    api = HubProcess(write_config(tmp_path, api_only, "api.yaml"), tmp_path / "api.log").start()
    worker = HubProcess(write_config(tmp_path, workers, "worker.yaml"), tmp_path / "worker.log")
    worker.start(command="worker")
    try:
        time.sleep(1.0)  # the worker's first poll found nothing; it now sleeps 30 s
        response = httpx.post(
            f"{api.url}/ingest/shop-orders",
            content=EXAMPLE_ORDER.read_bytes(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 202
        started = time.monotonic()
        api.wait_status(response.json()["id"], "delivered")
        # Well inside the worker's 30 s poll: only NOTIFY can have woken it this soon.
        assert time.monotonic() - started < 20
        assert len(list((tmp_path / "outbox").iterdir())) == 1
        assert worker.proc is not None
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(15) == 0
        assert "worker stopped" in (tmp_path / "worker.log").read_text()
    finally:
        worker.stop()
        api.stop()
