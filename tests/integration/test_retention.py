"""The retention job purges finished messages and keeps dead letters."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from hub.message import MessageStatus, utcnow
from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import EXAMPLE_ORDER, demo_config, write_config


def test_finished_messages_go_dead_letters_stay(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    config["store"]["retention"] = {"finished_days": 0.00001, "interval_seconds": 3600}
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        good = hub.ingestor.ingest(
            InboundRequest(route="shop-orders", body=EXAMPLE_ORDER.read_bytes())
        ).message_id
        order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
        order["currency"] = "euro"
        bad = hub.ingestor.ingest(
            InboundRequest(route="shop-orders", body=json.dumps(order).encode())
        ).message_id
        assert good is not None
        assert bad is not None
        while hub.worker.run_once():
            pass
        assert hub.store.get(bad).status is MessageStatus.FAILED
        time.sleep(1.0)  # older than finished_days (about 0.9 s)
        assert hub.retention.run_once() == 1
        assert hub.store.count_by_status() == {MessageStatus.FAILED: 1}
        assert hub.store.get(bad).events  # the dead letter keeps its history
        assert hub.store.purge(utcnow() + timedelta(days=1)) == 0
        assert "hub_messages_purged_total 1.0" in hub.metrics.exposition().decode()
    finally:
        hub.close()


def test_the_job_runs_on_its_schedule(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    config["store"]["retention"] = {"finished_days": 1, "interval_seconds": 3600}
    hub = Hub.from_file(write_config(tmp_path, config))
    try:
        hub.start()
        jobs = hub.retention._scheduler.get_jobs()
        assert [job.id for job in jobs] == ["hub-retention"]
        assert jobs[0].trigger.interval == timedelta(hours=1)
    finally:
        hub.close()
    assert hub.retention._scheduler is None
