"""``--log-level``/``HUB_LOG_LEVEL`` and ``--log-format``/``HUB_LOG_FORMAT`` on real processes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.configs import demo_config, write_config
from tests.integration.test_cli import hub as cli
from tests.processes import HubProcess


def test_the_global_options_set_the_level_and_the_format(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, demo_config(tmp_path)))
    quiet = cli("--log-level", "warning", "--log-format", "json", "db", "upgrade", "-c", config)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # the migration's INFO records are below WARNING
    assert quiet.stdout.startswith("store at revision ")
    loud = cli("db", "upgrade", "-c", config, env={"HUB_LOG_FORMAT": "json"})
    records = [json.loads(line) for line in loud.stderr.splitlines()]
    assert records
    assert {r["level"] for r in records} == {"INFO"}
    assert all(r["logger"].startswith("alembic") for r in records)
    wrong = cli("--log-level", "loud", "check", "-c", config)
    assert wrong.returncode == 2
    assert "--log-level" in wrong.stderr


@pytest.mark.slow
def test_the_access_log_shows_only_at_debug(tmp_path: Path) -> None:
    config = write_config(tmp_path, demo_config(tmp_path))
    for level, shown in (("INFO", False), ("DEBUG", True)):
        log = tmp_path / f"{level}.log"
        process = HubProcess(config, log, env={"HUB_LOG_LEVEL": level}).start()
        try:
            assert httpx.get(f"{process.url}/readyz", timeout=10).status_code == 200
        finally:
            process.stop()
        text = log.read_text()
        assert ("GET /readyz HTTP/1.1" in text) is shown, text
        assert "Application startup complete" in text  # uvicorn's own records stay at INFO
        assert "1 route(s), store sqlite" in text
