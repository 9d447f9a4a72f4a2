"""The compose topology, run here: API + 2 workers on PostgreSQL, scraped by a real Prometheus.

deploy/cluster.py starts deploy/compose.yaml's hub services as local processes with the
same command and environment (`make cluster` does the same). Orders go in through the API
and come out of the workers; a real Prometheus (the `prometheus` binary, with
deploy/prometheus/prometheus.yml's targets pointed at the processes) scrapes them all and
evaluates the alert rules; every query of the Grafana dashboard is run against it, and may
name only series the running processes export.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.cluster import Cluster, Process, prometheus_config
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, write_config
from tests.conftest import fresh_postgres_database
from tests.peers import free_port
from tests.promql import concrete, dashboard_expressions, exported_names, metric_names
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "switchboard.json"
ORDERS = 12


def wait_started(process: Process) -> None:
    def observe() -> tuple[int | None, int, bool]:
        return process.proc.poll(), process.log.stat().st_size, process.healthy()

    exit_code, _, _ = wait_for_progress(
        observe, lambda seen: seen[0] is not None or seen[2], what=f"{process.service.name}"
    )
    assert exit_code is None, process.log.read_text()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster on its own database, with orders delivered and a malformed one refused."""
    run_dir = tmp_path_factory.mktemp("cluster")
    with fresh_postgres_database() as store_url:
        running = Cluster(store_url, run_dir)
        try:
            running.start(wait=wait_started)
            send_orders(running.by_name("hub-api"))
            outbox = run_dir / "outbox" / "erp"
            wait_for_progress(
                lambda: len(list(outbox.iterdir())) if outbox.is_dir() else 0,
                lambda count: count == ORDERS,
                what="the orders to reach the outbox",
            )
            yield running
        finally:
            running.stop()


def send_orders(api: Process) -> None:
    """ORDERS distinct orders (each its own idempotency key), a repeat of the last one,
    and one malformed body."""
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    for number in range(ORDERS):
        body = {**order, "id": 9000 + number, "number": str(9000 + number)}
        answer = httpx.post(f"{api.url}/ingest/shop-orders", json=body, timeout=30)
        assert answer.status_code == 202, answer.text
    repeat = httpx.post(f"{api.url}/ingest/shop-orders", json=body, timeout=30)
    assert repeat.json()["duplicate"] is True
    refused = httpx.post(
        f"{api.url}/ingest/shop-orders",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert refused.status_code == 400


def scrape(process: Process) -> str:
    answer = httpx.get(f"{process.url}/metrics", timeout=10)
    answer.raise_for_status()
    return answer.text


def sample(exposition: str, name: str) -> float:
    """The sum of every sample of ``name`` in an exposition."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def test_the_api_ingests_and_the_two_workers_deliver_everything(cluster: Cluster) -> None:
    api = cluster.by_name("hub-api")
    workers = [p for p in cluster.processes if p.service.command[1] == "worker"]
    assert len(workers) == 2
    api_metrics = scrape(api)
    assert sample(api_metrics, "hub_messages_received_total") == ORDERS
    assert sample(api_metrics, "hub_messages_delivered_total") == 0  # the API only ingests
    delivered = [sample(scrape(w), "hub_messages_delivered_total") for w in workers]
    assert sum(delivered) == ORDERS
    for process in cluster.processes:  # every process sees the same store
        text = scrape(process)
        assert sample(text, "hub_store_up") == 1
        assert 'hub_messages{route="shop-orders",status="received"} 0.0' in text


def partner_exposition(folder: Path) -> str:
    """What a hub with a trading partner exports: the acknowledgement gauges appear only
    there (the demo config the cluster runs has no partner)."""
    partner = {"id": "5412345000013", "qualifier": "14"}
    config = {
        "store": {"url": f"sqlite:///{folder / 'hub.db'}"},
        "routes": {
            "acme-orders": {
                "input": {"format": "edifact"},
                "sinks": [{"name": "erp", "type": "file", "options": {"directory": "erp"}}],
            }
        },
        "partners": {
            "acme": {
                "standard": "edifact",
                "their_id": partner,
                "our_id": {"id": "4012345000009", "qualifier": "14"},
                "routes": {"ORDERS": "acme-orders"},
                "acknowledgements": {"send": "never", "expect_within_hours": 24},
            }
        },
    }
    hub = Hub.from_file(write_config(folder, config))
    try:
        return hub.metrics.exposition().decode()
    finally:
        hub.close()


def test_the_dashboard_names_only_series_the_processes_export(
    cluster: Cluster, tmp_path: Path
) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = {"up"}  # Prometheus's own series for every target
    for process in cluster.processes:
        exported |= exported_names(scrape(process))
    partner = exported_names(partner_exposition(tmp_path))
    assert {"hub_acks_awaiting", "hub_acks_overdue"} <= partner
    exported |= partner
    queries = list(dashboard_expressions(dashboard))
    assert len(queries) >= 15
    for where, expr in queries:
        names = metric_names(concrete(expr))
        assert names, f"{where} selects no series: {expr}"
        assert names <= exported, f"{where} names {names - exported}, not exported"
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            definition = variable["definition"]
            assert definition.startswith("label_values(")
            metric = definition.removeprefix("label_values(").split(",")[0].strip()
            assert metric in exported, variable["name"]
    alerts = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yaml").read_text())["groups"]
    recorded = {rule["record"] for group in alerts for rule in group["rules"] if "record" in rule}
    for group in alerts:
        for rule in group["rules"]:
            unknown = metric_names(rule["expr"]) - exported - recorded
            assert not unknown, f"{rule.get('alert') or rule.get('record')} names {unknown}"


@pytest.fixture(scope="module")
def prometheus(cluster: Cluster) -> Iterator[str]:
    """A real Prometheus scraping the cluster every second, the alert rules loaded."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: apt-get install prometheus", pytrace=False)
    folder = cluster.run_dir / "prometheus"
    folder.mkdir()
    config = folder / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(cluster, "1s")), encoding="utf-8")
    port = free_port()
    log = cluster.run_dir / "prometheus.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def targets() -> tuple[int | None, int, list[str]]:
            try:
                answer = httpx.get(f"{url}/api/v1/targets", timeout=5).json()
                health = [t["health"] for t in answer["data"]["activeTargets"]]
            except (httpx.TransportError, ValueError):
                health = []
            return proc.poll(), log.stat().st_size, health

        seen = wait_for_progress(
            targets,
            lambda s: s[0] is not None or (len(s[2]) == 3 and set(s[2]) == {"up"}),
            what="Prometheus to scrape the three hub processes",
            interval=0.2,
        )
        assert seen[0] is None, log.read_text()
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_prometheus_scrapes_every_process_with_its_role(prometheus: str) -> None:
    up = query(prometheus, 'up{job="switchboard"}')
    roles = sorted(series["metric"]["role"] for series in up)
    assert roles == ["api", "worker", "worker"]
    assert {series["value"][1] for series in up} == {"1"}


def test_every_dashboard_query_runs_on_prometheus_and_the_main_panels_have_data(
    prometheus: str,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [(where, concrete(expr)) for where, expr in dashboard_expressions(dashboard)]
    for _, expr in queries:
        query(prometheus, expr)  # parses and evaluates, or fails
    # With orders delivered and one refused, these panels show something once Prometheus
    # has two scrapes in a rate's window.
    expected = (
        "Processes up",
        "Store answers",
        "Dead letters",
        "Throughput",
        "Latency",
        "Backlog",
        "Oldest waiting message",
        "Ingest rejections",
    )
    wanted = [(w, e) for w, e in queries if w.split("'")[1] in expected]
    assert {w.split("'")[1] for w, _ in wanted} == set(expected)

    def empty() -> list[str]:
        return [where for where, expr in wanted if not query(prometheus, expr)]

    still = wait_for_progress(
        empty, lambda missing: not missing, what="the dashboard's panels to have data"
    )
    assert still == []


def test_prometheus_evaluates_every_rule_without_error(prometheus: str) -> None:
    expected = {
        rule.get("alert") or rule.get("record")
        for group in yaml.safe_load((ROOT / "deploy/prometheus/alerts.yaml").read_text())["groups"]
        for rule in group["rules"]
    }

    def evaluated() -> dict[str, str]:
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        return {rule["name"]: rule["health"] for group in groups for rule in group["rules"]}

    health = wait_for_progress(
        evaluated,
        lambda seen: set(seen) == expected and "unknown" not in seen.values(),
        what="Prometheus to evaluate every rule",
        interval=0.2,
    )
    assert set(health.values()) == {"ok"}, health
    firing = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    assert not [a for a in firing if a["labels"]["alertname"] in ("HubDown", "HubStoreDown")]
