"""deploy/compose.yaml agrees with the config, the image, Prometheus and Grafana.

Docker is not on the machine the tests run on, so `docker compose config` cannot check the
file here; these tests read it and check what would break the stack when it starts: a hub
service whose environment makes an invalid config, a port its health check does not ask,
a target Prometheus scrapes that no service serves, a mount of a file that does not exist.
tests/integration/test_deploy_cluster.py runs the hub services as local processes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from deploy.cluster import COMPOSE, hub_services, read_compose
from hub.config import load_config
from hub.config.models import anonymous_problem

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return read_compose()


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_the_stack_has_an_api_two_workers_postgres_prometheus_and_grafana(
    compose: dict[str, Any],
) -> None:
    hubs = {s.name: s.command[:2] for s in hub_services(compose)}
    assert hubs == {
        "hub-api": ("hub", "run"),
        "hub-worker-1": ("hub", "worker"),
        "hub-worker-2": ("hub", "worker"),
    }
    assert {"postgres", "prometheus", "grafana"} <= set(services(compose))


def test_every_hub_service_is_built_from_the_project_dockerfile(compose: dict[str, Any]) -> None:
    for service in hub_services(compose):
        build = services(compose)[service.name]["build"]
        context = (COMPOSE.parent / build["context"]).resolve()
        assert context == ROOT, service.name
        assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def test_each_hub_service_runs_the_image_config_as_its_environment_makes_it(
    compose: dict[str, Any],
) -> None:
    postgres = services(compose)["postgres"]["environment"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for service in hub_services(compose):
        config_file = service.command[service.command.index("--config") + 1]
        assert config_file == "config.example.yaml"  # the image's WORKDIR holds it
        assert config_file not in ignored
        # the environment the container has: the service's, nothing of the test's
        config = load_config(ROOT / config_file, environ=dict(service.environment)).config
        url = make_url(config.store.url)
        assert (url.drivername, url.host, url.port) == ("postgresql+psycopg", "postgres", 5432)
        assert (url.username, url.password, url.database) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            postgres["POSTGRES_DB"],
        ), f"{service.name} does not reach the postgres service's database"
        assert config.server.host == "0.0.0.0", f"{service.name} must listen outside its container"
        # the API only ingests; `hub worker` with the worker disabled would deliver nothing
        assert config.worker.enabled is (service.command[1] == "worker"), service.name
        # on 0.0.0.0, anonymous callers may not read or operate (the hub would refuse to start)
        assert anonymous_problem(config.auth, config.server.host) is None, service.name
        assert "metrics" in config.auth.anonymous, f"Prometheus cannot scrape {service.name}"


def test_hub_services_set_only_variables_the_config_or_the_image_read(
    compose: dict[str, Any],
) -> None:
    read = {m.group(1) for m in ENV_REFERENCE.finditer((ROOT / "config.example.yaml").read_text())}
    read.add("HUB_PORT")  # the Dockerfile's HEALTHCHECK
    assert "HUB_PORT" in (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for service in hub_services(compose):
        assert set(service.environment) <= read, service.name


def test_the_image_health_check_asks_the_port_each_process_listens_on(
    compose: dict[str, Any],
) -> None:
    for service in hub_services(compose):
        assert int(service.environment["HUB_PORT"]) == service.port, service.name


def test_workers_start_once_the_api_has_migrated_the_store(compose: dict[str, Any]) -> None:
    """Every process migrates at start (store.auto_migrate): the API first, alone."""
    api = services(compose)["hub-api"]
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services(compose)["postgres"]
    for service in hub_services(compose):
        if service.name != "hub-api":
            assert service.waits_for == ("hub-api",), service.name


def test_workers_share_the_outbox_volume(compose: dict[str, Any]) -> None:
    config = load_config(ROOT / "config.example.yaml", environ={}).config
    directory = config.routes["shop-orders"].sinks[0].options["directory"]
    assert directory == "var/outbox/erp"
    for service in hub_services(compose):
        volumes = services(compose)[service.name]["volumes"]
        assert "outbox:/app/var/outbox" in volumes  # /app: the image's WORKDIR
    assert "outbox" in compose["volumes"]
    assert "mkdir -p /app/var/outbox" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_prometheus_scrapes_every_hub_process_and_loads_the_alerts(
    compose: dict[str, Any],
) -> None:
    prometheus = services(compose)["prometheus"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in prometheus["volumes"]}
    assert mounts["./prometheus"] == "/etc/prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yaml"]
    assert (DEPLOY / "prometheus" / "alerts.yaml").is_file()
    targets = {
        target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {f"{s.name}:{s.port}" for s in hub_services(compose)}


def test_grafana_is_provisioned_with_the_prometheus_service_and_the_dashboard(
    compose: dict[str, Any],
) -> None:
    grafana = services(compose)["grafana"]
    mounts = {}
    for volume in grafana["volumes"]:
        source, target = volume.split(":")[:2]
        assert (DEPLOY / source).exists(), f"grafana mounts {source}, which does not exist"
        mounts[target] = DEPLOY / source
    provisioning = mounts["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "9090:9090" in services(compose)["prometheus"]["ports"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "switchboard.yaml").read_text())[
        "providers"
    ]
    folder = provider["options"]["path"]
    dashboards = {t: s for t, s in mounts.items() if t.startswith(folder + "/")}
    assert dashboards == {f"{folder}/switchboard.json": DEPLOY / "grafana" / "switchboard.json"}
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] in dashboards
    json.loads((DEPLOY / "grafana" / "switchboard.json").read_text(encoding="utf-8"))


#: Keys of a service in the Compose Specification that this file may use (a misspelled key is
#: refused by `docker compose`, which cannot run here).
SERVICE_KEYS = {
    "build",
    "command",
    "depends_on",
    "environment",
    "healthcheck",
    "image",
    "ports",
    "restart",
    "stop_grace_period",
    "volumes",
}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def test_the_file_uses_only_compose_specification_keys(compose: dict[str, Any]) -> None:
    assert set(compose) - {"name", "services", "volumes"} <= {
        k for k in compose if k.startswith("x-")
    }
    named_volumes = set(compose["volumes"])
    for name, spec in services(compose).items():
        assert set(spec) <= SERVICE_KEYS, f"{name}: {set(spec) - SERVICE_KEYS}"
        assert set(spec.get("healthcheck", {})) <= HEALTHCHECK_KEYS, name
        depends = spec.get("depends_on", [])
        if isinstance(depends, dict):
            assert {d["condition"] for d in depends.values()} <= CONDITIONS, name
        assert set(depends) <= set(services(compose)), name
        assert all(isinstance(v, str) for v in spec.get("environment", {}).values()), name
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in named_volumes, f"{name}: {volume}"


def test_make_cluster_runs_the_launcher() -> None:
    """`make -n` parses the whole Makefile: a broken rule anywhere fails here too."""
    make = shutil.which("make")
    assert make is not None
    planned = subprocess.run(
        [make, "--no-print-directory", "-n", "-o", ".venv/.installed-stamp", "cluster"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert planned.returncode == 0, planned.stderr
    assert "warning" not in planned.stderr
    assert planned.stdout.strip().splitlines()[-1] == ".venv/bin/python -m deploy.cluster"
