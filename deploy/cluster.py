"""Run deploy/compose.yaml's hub services as local processes: `make cluster`, and the tests.

Docker is not everywhere (not on the machine the tests run on). The hub services of the
compose file (those built from the project's Dockerfile) are started here as they would be in
their containers: the same command and the same environment, in the same order (a service
starts once those it ``depends_on`` with ``service_healthy`` answer ``/healthz``). Only what a
container has to itself is changed for one shared machine:

- each process gets its own local port (the one its command names is replaced), and
  ``HUB_PORT`` follows it, so the health check asks the port the process listens on, as the
  image's HEALTHCHECK does;
- ``HUB_HOST`` is loopback, ``HUB_STORE_URL`` the local PostgreSQL, ``HUB_OUTBOX`` a local
  folder (the volume the workers share).

``python -m deploy.cluster`` (``make cluster``) creates the database if needed, starts the
processes, and, if the ``prometheus`` binary is installed, a Prometheus scraping them all
with deploy/prometheus/alerts.yaml loaded. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "compose.yaml"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
PORT_OPTIONS = ("--port", "--metrics-port")


class ClusterError(RuntimeError):
    """The compose file does not describe what the launcher can run, or a process failed."""


@dataclass(frozen=True)
class HubService:
    """One hub service of the compose file, as written there."""

    name: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    waits_for: tuple[str, ...]  # services it needs healthy before it starts

    @property
    def port(self) -> int:
        """The port its command listens on (`--port` or `--metrics-port`)."""
        for option in PORT_OPTIONS:
            if option in self.command:
                return int(self.command[self.command.index(option) + 1])
        raise ClusterError(f"service {self.name}: the command names no {' or '.join(PORT_OPTIONS)}")


def read_compose(path: Path = COMPOSE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def hub_services(compose: Mapping[str, Any]) -> list[HubService]:
    """The services built from the project's Dockerfile, in an order that starts each one
    after those it waits for."""
    services: Mapping[str, Any] = compose["services"]
    found: dict[str, HubService] = {}
    for name, spec in services.items():
        if "build" not in spec:
            continue
        depends = spec.get("depends_on") or {}
        healthy = tuple(
            other
            for other, condition in (depends.items() if isinstance(depends, dict) else [])
            if (condition or {}).get("condition") == "service_healthy"
            and "build" in services[other]
        )
        found[name] = HubService(
            name=name,
            command=tuple(str(part) for part in spec["command"]),
            environment={k: str(v) for k, v in (spec.get("environment") or {}).items()},
            waits_for=healthy,
        )
    ordered: list[HubService] = []
    while len(ordered) < len(found):
        ready = [
            s
            for s in found.values()
            if s not in ordered and all(found[w] in ordered for w in s.waits_for)
        ]
        if not ready:
            raise ClusterError("the hub services wait for each other in a circle")
        ordered.extend(ready)
    return ordered


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Process:
    """One started service: where it answers, and its log."""

    service: HubService
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urlopen(f"{self.url}/healthz", timeout=1) as answer:  # noqa: S310 (loopback)
                return 200 <= int(answer.status) < 300
        except (URLError, OSError):
            return False


@dataclass
class Cluster:
    """The compose file's hub services, run locally on ``store_url``, logs in ``run_dir``."""

    store_url: str
    run_dir: Path
    compose: Path = COMPOSE
    ports: Callable[[HubService], int] = field(default=lambda _service: free_port())
    processes: list[Process] = field(default_factory=list)

    def environment(self, service: HubService, port: int) -> dict[str, str]:
        """The service's environment with what differs on one shared machine replaced."""
        env = {**os.environ, **service.environment}
        env.update(
            HUB_STORE_URL=self.store_url,
            HUB_HOST="127.0.0.1",
            HUB_PORT=str(port),
            HUB_OUTBOX=str(self.run_dir / "outbox"),
        )
        return env

    def command(self, service: HubService, port: int) -> list[str]:
        """The service's command run by this Python, its port replaced."""
        argv = list(service.command)
        if argv[0] != "hub":
            raise ClusterError(f"service {service.name}: its command does not start `hub`")
        for option in PORT_OPTIONS:
            if option in argv:
                argv[argv.index(option) + 1] = str(port)
        return [sys.executable, "-m", "hub", *argv[1:]]

    def start(self, wait: Callable[[Process], None] | None = None) -> Cluster:
        """Start every hub service in order; a service others wait for must answer first."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        waited_for = {w for s in hub_services(read_compose(self.compose)) for w in s.waits_for}
        try:
            for service in hub_services(read_compose(self.compose)):
                port = self.ports(service)
                log = self.run_dir / f"{service.name}.log"
                with log.open("ab") as out:
                    proc = subprocess.Popen(
                        self.command(service, port),
                        cwd=ROOT,  # the image's WORKDIR holds config.example.yaml the same way
                        env=self.environment(service, port),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                process = Process(service, port, log, proc)
                self.processes.append(process)
                if service.name in waited_for or wait is not None:
                    (wait or self.wait_healthy)(process)
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def wait_healthy(process: Process, stall: float = 120.0) -> None:
        """Until ``/healthz`` answers; fails if the process exits or its log stops growing
        for ``stall`` seconds before it does."""
        size, moved = -1, time.monotonic()
        while not process.healthy():
            if process.proc.poll() is not None:
                raise ClusterError(
                    f"{process.service.name} exited ({process.proc.returncode}):\n"
                    + process.log.read_text(errors="replace")
                )
            now_size = process.log.stat().st_size
            if now_size != size:
                size, moved = now_size, time.monotonic()
            elif time.monotonic() - moved > stall:
                raise ClusterError(f"{process.service.name} did not answer /healthz")
            time.sleep(0.1)

    def by_name(self, name: str) -> Process:
        return next(p for p in self.processes if p.service.name == name)

    def stop(self) -> None:
        """SIGTERM every process, the last started first (workers before the API)."""
        for process in reversed(self.processes):
            if process.proc.poll() is None:
                process.proc.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.proc.wait(30)
            except subprocess.TimeoutExpired:
                process.proc.kill()
                process.proc.wait(10)


def prometheus_config(cluster: Cluster, scrape_interval: str = "15s") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with its targets replaced by the local processes
    (each keeping the labels of its target group) and its rule files made absolute."""
    config: dict[str, Any] = yaml.safe_load(
        (PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8")
    )
    local = {f"{p.service.name}:{p.service.port}": p for p in cluster.processes}
    config["global"]["scrape_interval"] = scrape_interval
    config["global"]["evaluation_interval"] = scrape_interval
    config["rule_files"] = [str(PROMETHEUS_DIR / rule) for rule in config["rule_files"]]
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            missing = [t for t in group["targets"] if t not in local]
            if missing:
                raise ClusterError(f"prometheus.yml scrapes {missing}: no such hub service")
            group["targets"] = [f"127.0.0.1:{local[t].port}" for t in group["targets"]]
    return config


def start_prometheus(cluster: Cluster, port: int, scrape_interval: str) -> subprocess.Popen[bytes]:
    """A real Prometheus on ``port`` scraping the cluster (the ``prometheus`` binary)."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise ClusterError("no prometheus binary: apt-get install prometheus")
    folder = cluster.run_dir / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(cluster, scrape_interval)), "utf-8")
    with (cluster.run_dir / "prometheus.log").open("ab") as out:
        return subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def ensure_database(url: str) -> None:
    """Create the URL's PostgreSQL database if it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    name = target.database or ""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ClusterError(f"database name {name!r}: use letters, digits and _")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if found is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--store-url",
        default=os.environ.get(
            "CLUSTER_STORE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/switchboard_cluster"
        ),
    )
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "cluster")
    parser.add_argument("--api-port", type=int, default=8080)
    parser.add_argument("--worker-port", type=int, default=9464, help="the first worker's port")
    parser.add_argument("--prometheus-port", type=int, default=9090)
    args = parser.parse_args(argv)
    ensure_database(args.store_url)
    next_worker = iter(range(args.worker_port, args.worker_port + 100))

    def ports(service: HubService) -> int:
        return args.api_port if "--port" in service.command else next(next_worker)

    cluster = Cluster(args.store_url, args.run_dir, ports=ports)
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    prometheus = None
    try:
        cluster.start(wait=Cluster.wait_healthy)
        for p in cluster.processes:
            print(f"{p.service.name:14} {p.url}  (log {p.log})")
        if shutil.which("prometheus"):
            prometheus = start_prometheus(cluster, args.prometheus_port, "5s")
            print(f"{'prometheus':14} http://127.0.0.1:{args.prometheus_port}")
        else:
            print("prometheus is not installed: no local Prometheus (apt-get install prometheus)")
        print("Ctrl-C stops the cluster")
        while not stop:
            for p in cluster.processes:
                if p.proc.poll() is not None:
                    print(f"{p.service.name} exited ({p.proc.returncode}); see {p.log}")
                    stop = True
            time.sleep(0.5)
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(30)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
