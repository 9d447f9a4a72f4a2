"""A worker-only process can be scraped: ``hub worker`` serves /healthz and /metrics."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.integration.test_cli import hub as cli
from tests.integration.test_store_gauges import samples
from tests.peers import Reply, http_peer
from tests.processes import HubProcess

pytestmark = pytest.mark.slow

ROUTE = (("route", "shop-orders"),)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def order(number: str, currency: str = "EUR") -> InboundRequest:
    data = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    data.update(number=number, currency=currency)
    return InboundRequest(route="shop-orders", body=json.dumps(data).encode())


def scrape(worker: HubProcess) -> Samples:
    response = httpx.get(f"{worker.metrics_url}/metrics", timeout=10)
    assert response.status_code == 200
    return samples(response.content)


def wait_for(worker: HubProcess, want: Samples) -> None:
    """Scrape until the values are there; gives up only when nothing has changed for long."""
    last: Samples = {}
    moved = time.monotonic()
    while time.monotonic() - moved < 30:
        found = scrape(worker)
        if all(found.get(key) == value for key, value in want.items()):
            return
        if found != last:
            last, moved = found, time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"metrics stuck at {[(k, last.get(k)) for k in want]}")


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_busy_worker_answers_health_and_metrics_on_its_own_port(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    url = None if database == "sqlite" else request.getfixturevalue("postgres_url")
    busy = threading.Event()
    with http_peer() as peer:
        peer.replies = [Reply(201, hold=busy)]  # the first delivery waits until released
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        polls = {"threads": 1, "poll_interval_seconds": 0.1, "lease_seconds": 30}
        config = demo_config(tmp_path, store_url=url, sinks=sinks, worker=polls)
        path = write_config(tmp_path, config, "worker.yaml")
        ingest_only = {**config, "worker": {"enabled": False}}
        front = Hub.from_file(write_config(tmp_path, ingest_only, "front.yaml"))
        log = tmp_path / "worker.log"
        worker = HubProcess(path, log, env={"HUB_LOG_FORMAT": "json"}).start(command="worker")
        try:
            first = front.ingestor.ingest(order("1")).message_id
            peer.wait_for(1)  # the worker's only thread now waits on the partner
            bad = front.ingestor.ingest(order("2", currency="euro")).message_id
            health = httpx.get(f"{worker.metrics_url}/healthz", timeout=10)
            assert health.json() == {"status": "ok"}
            ready = httpx.get(f"{worker.metrics_url}/readyz", timeout=10)
            assert ready.json()["status"] == "ready"
            waiting = scrape(worker)
            assert waiting["hub_store_up", ()] == 1
            assert waiting["hub_messages", (*ROUTE, ("status", "received"))] == 2
            assert waiting["hub_oldest_undelivered_age_seconds", ROUTE] > 0
            assert not any(name.endswith("_created") for name, _ in waiting)

            busy.set()
            wait_for(
                worker,
                {
                    ("hub_messages_delivered_total", ROUTE): 1,
                    ("hub_messages_failed_total", (*ROUTE, ("stage", "validate"))): 1,
                    ("hub_messages", (*ROUTE, ("status", "received"))): 0,
                    ("hub_messages", (*ROUTE, ("status", "failed"))): 1,
                    ("hub_dead_letters", ROUTE): 1,
                    ("hub_oldest_undelivered_age_seconds", ROUTE): 0,
                },
            )
            assert worker.proc is not None
            worker.proc.send_signal(signal.SIGTERM)
            assert worker.proc.wait(30) == 0
        finally:
            busy.set()
            worker.stop()
            front.close()

    records = [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON
    assert {"time", "level", "logger", "message"} <= set(records[0])
    dead = [r for r in records if r.get("message_id") == bad and r["level"] == "WARNING"]
    assert dead, records
    assert dead[0]["route"] == "shop-orders"
    assert dead[0]["correlation_key"] == "2"
    assert "dead-lettered at validate" in dead[0]["message"]
    assert first is not None
    assert records[-1]["message"] == "worker stopped"


def test_a_taken_metrics_port_stops_the_worker_with_a_clear_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config(tmp_path))
    first = HubProcess(config, tmp_path / "first.log").start(command="worker")
    try:
        port = str(first.metrics_port)
        second = cli("worker", "--config", str(config), "--metrics-port", port)
        assert second.returncode == 1
        assert f"cannot serve metrics on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.stop()
