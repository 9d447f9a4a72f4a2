"""deploy/prometheus: promtool checks the rules and the config, and runs the alerts' unit tests.

promtool comes with the distribution's `prometheus` package (.ci/run installs it). Without
it these tests fail: a check that cannot run is not a check that passed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.promql import metric_names

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
# What the hub exports (docs/metrics.md lists each): the alerts may name only these,
# Prometheus's own `up`, and the recording rules of alerts.yaml.
METRICS_DOC = ROOT / "docs" / "metrics.md"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool is not installed: apt-get install prometheus (.ci/run does it)",
            pytrace=False,
        )
    return subprocess.run(
        [binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, check=False
    )


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_accepts_the_rules_and_the_prometheus_config() -> None:
    checked = promtool("check", "rules", "alerts.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    configured = promtool("check", "config", "prometheus.yml")
    assert configured.returncode == 0, configured.stdout + configured.stderr


def test_the_alerts_unit_tests_pass() -> None:
    tested = promtool("test", "rules", "alerts.test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_test_rules_fails_when_an_alert_misbehaves(tmp_path: Path) -> None:
    """The unit tests can fail: with one alert's threshold changed, they do."""
    changed = (PROMETHEUS / "alerts.yaml").read_text(encoding="utf-8")
    assert "hub_oldest_undelivered_age_seconds) > 900" in changed
    (tmp_path / "alerts.yaml").write_text(
        changed.replace(
            "hub_oldest_undelivered_age_seconds) > 900",
            "hub_oldest_undelivered_age_seconds) > 90000",
        )
    )
    (tmp_path / "alerts.test.yaml").write_bytes((PROMETHEUS / "alerts.test.yaml").read_bytes())
    binary = shutil.which("promtool")
    assert binary is not None
    tested = subprocess.run(
        [binary, "test", "rules", "alerts.test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode != 0
    assert "HubOldestMessageTooOld" in tested.stdout + tested.stderr


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_stays_quiet() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yaml").read_text(encoding="utf-8"))
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts - fires == set(), "alerts never seen firing"
    assert alerts - quiet == set(), "alerts never seen staying quiet"
    assert (fires | quiet) <= alerts


def test_the_issue_s_alerts_are_there() -> None:
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert {
        "HubDeadLettersAppeared",  # dead letters appearing
        "HubBacklogNotDraining",  # backlog not draining
        "HubOldestMessageTooOld",  # oldest message older than N minutes
        "HubSinkFailing",  # a sink failing for N minutes
        "HubDown",  # the hub down
        "HubSourceNotPolling",  # a source not polling
        "HubAcksOverdue",  # overdue acknowledgements
    } <= alerts


def test_rules_name_only_series_the_hub_exports() -> None:
    documented = set()
    for line in METRICS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `hub_"):
            name = line.split("`")[1]
            kind = line.split("|")[2].strip()
            if kind == "histogram":
                documented.update(f"{name}{s}" for s in ("_bucket", "_sum", "_count"))
            else:
                documented.add(name)
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        unknown = metric_names(rule["expr"]) - documented - recorded - {"up"}
        assert not unknown, f"{rule.get('alert') or rule.get('record')} names {unknown}"


def test_operations_doc_says_what_to_do_on_every_alert() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `Hub")}
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert rows == alerts
