"""The HTTP stack and the worker processes, measured: what ``fast`` and ``--workers`` buy.

1. Ingest alone (``worker.enabled: false``), for each stack -- h11 on asyncio (what the hub runs
   without the ``fast`` extra), h11 on uvloop, httptools on uvloop (the ``fast`` extra) -- beside
   the bare floor (benchmarks/floor_app.py) served by the same stack: msg/s, p50/p99 and the
   server's CPU per message.
2. End to end on the default stack: ``hub run`` with ``worker.processes`` 1 and 2, on SQLite and
   on PostgreSQL (its own database, dropped afterwards): delivered/s from the first POST to the
   last file in the outbox, and the CPU of the whole process tree per message.

CPU is user+system of the server process and every process under it (/proc), so the worker
processes of ``--workers`` count. Settings: BENCH_MESSAGES (2000), BENCH_CONCURRENCY (16),
BENCH_WARMUP (50), BENCH_POSTGRES_URL (postgresql+psycopg://postgres@127.0.0.1:5432/postgres,
the server where a database is created; ``none`` skips PostgreSQL, said so in the output).
Writes benchmarks/results/http_stack.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from benchmarks.load import percentiles, post_all
from benchmarks.servers import ServerProcess, free_port, hub_command
from benchmarks.workload import DEMO_ROUTE, REPO, bench_config, order_bodies

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results" / "http_stack.json"
STACKS = (("h11", "asyncio"), ("h11", "uvloop"), ("httptools", "uvloop"))
PATH = f"/ingest/{DEMO_ROUTE}"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def floor(workdir: Path, http: str, loop: str) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.floor_app", "--port", str(port)]
    argv += ["--db", str(workdir / "floor.db"), "--http", http, "--loop", loop]
    return ServerProcess("floor", argv, port, log=workdir / "floor.log", cwd=REPO)


def hub(
    workdir: Path,
    *,
    worker: bool,
    server: dict[str, Any] | None = None,
    processes: int = 1,
    store_url: str | None = None,
) -> tuple[ServerProcess, Path]:
    """``hub run`` on a copy of the example config with these changes; and its outbox."""
    port = free_port()
    config, outbox = bench_config(workdir, port=port, worker=worker)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["server"].update(server or {})
    data["worker"]["processes"] = processes
    if store_url is not None:
        data["store"]["url"] = store_url
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    argv = [*hub_command(), "run", "--config", str(config), "--port", str(port)]
    return ServerProcess("hub", argv, port, log=workdir / "hub.log", cwd=workdir), outbox


async def ingest_only(
    server: ServerProcess, bodies: list[bytes], warm: list[bytes], c: int
) -> dict[str, Any]:
    with server:
        server.start()
        await post_all(server.url, PATH, warm, concurrency=c, timeout=60)
        cpu0 = server.tree_cpu()
        result = await post_all(server.url, PATH, bodies, concurrency=c, timeout=120)
        cpu = server.tree_cpu() - cpu0
    lat = percentiles(result.latencies)
    return {
        "accepted": result.accepted,
        "sent": result.sent,
        "messages_per_s": round(result.rate, 1),
        "p50_ms": round(lat.p50 * 1000, 2),
        "p99_ms": round(lat.p99 * 1000, 2),
        "cpu_ms_per_msg": round(cpu.total * 1000 / max(result.accepted, 1), 3),
    }


def count_files(directory: Path) -> int:
    try:
        return sum(1 for e in os.scandir(directory) if not e.name.startswith(".partial-"))
    except FileNotFoundError:
        return 0


async def end_to_end(
    server: ServerProcess, outbox: Path, bodies: list[bytes], warm: list[bytes], c: int
) -> dict[str, Any]:
    with server:
        server.start()
        await post_all(server.url, PATH, warm, concurrency=c, timeout=60)
        while count_files(outbox) < len(warm):
            await asyncio.sleep(0.05)
        target = len(warm) + len(bodies)
        cpu0 = server.tree_cpu()
        result = await post_all(server.url, PATH, bodies, concurrency=c, timeout=120)
        deadline = time.perf_counter() + 300
        while count_files(outbox) < target and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        done = time.perf_counter()
        cpu = server.tree_cpu() - cpu0
        delivered = count_files(outbox) - len(warm)
    elapsed = done - result.started
    return {
        "accepted": result.accepted,
        "delivered": delivered,
        "complete": delivered == len(bodies) == result.accepted,
        "ingest_per_s": round(result.rate, 1),
        "delivered_per_s": round(delivered / elapsed, 1),
        "cpu_ms_per_msg": round(cpu.total * 1000 / max(delivered, 1), 3),
        "cores_busy": round(cpu.total / elapsed, 2),
    }


def postgres_database(server_url: str) -> tuple[str, str] | None:
    """A new database on the server (its URL, its name), or None when it cannot be made."""
    try:
        import psycopg
    except ImportError:
        return None
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not used: {exc}", flush=True)
        return None
    return url.set(database=name).render_as_string(hide_password=False), name


def drop_database(server_url: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(workdir: Path) -> dict[str, Any]:
    n = _env_int("BENCH_MESSAGES", 2000)
    c = _env_int("BENCH_CONCURRENCY", 16)
    bodies = order_bodies(n, first_number=100_000)
    warm = order_bodies(_env_int("BENCH_WARMUP", 50), first_number=10_000)
    report: dict[str, Any] = {"messages": n, "concurrency": c, "ingest": {}, "workers": {}}
    for http, loop in STACKS:
        stack = f"{http}+{loop}"
        for name in ("floor", "hub"):
            folder = workdir / f"{name}-{stack}"
            folder.mkdir()
            print(f"ingest, {name}, {stack} ...", flush=True)
            server = (
                floor(folder, http, loop)
                if name == "floor"
                else hub(folder, worker=False, server={"http": http, "loop": loop})[0]
            )
            report["ingest"][f"{name} {stack}"] = await ingest_only(server, bodies, warm, c)
    pg_server = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    for store in ("sqlite", "postgres"):
        for processes in (1, 2):
            key = f"{store}, {processes} process{'es' if processes > 1 else ''}"
            made = None
            if store == "postgres":  # each run on a new, empty database
                made = None if pg_server == "none" else postgres_database(pg_server)
                if made is None:
                    report["workers"][key] = "not measured: no PostgreSQL server"
                    continue
            folder = workdir / f"e2e-{store}-{processes}"
            folder.mkdir()
            print(f"end to end, {key} ...", flush=True)
            url = made[0] if made is not None else None
            server, outbox = hub(folder, worker=True, processes=processes, store_url=url)
            try:
                report["workers"][key] = await end_to_end(server, outbox, bodies, warm, c)
            finally:
                if made is not None:
                    drop_database(pg_server, made[1])
    return report


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nHTTP stack, ingest only ({report['messages']} POSTs, {report['concurrency']} clients)"
    )
    print(f"{'':28}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>12}{'of floor':>10}")
    rows = report["ingest"]
    for key, row in rows.items():
        stack = key.split(" ", 1)[1]
        ratio = row["messages_per_s"] / rows[f"floor {stack}"]["messages_per_s"]
        print(
            f"{key:28}{row['messages_per_s']:>9}{row['p50_ms']:>9}{row['p99_ms']:>9}"
            f"{row['cpu_ms_per_msg']:>12}{ratio:>9.2f}x"
        )
    base = rows["hub h11+asyncio"]["messages_per_s"]
    fast = rows["hub httptools+uvloop"]["messages_per_s"]
    print(f"hub ingest, httptools+uvloop / h11+asyncio: {fast / base:.2f}x")
    print("\nEnd to end, hub run --workers N (process-tree CPU)")
    print(f"{'':28}{'ingest/s':>9}{'deliv/s':>9}{'CPU ms/msg':>12}{'cores':>7}{'complete':>10}")
    for key, row in report["workers"].items():
        if isinstance(row, str):
            print(f"{key:28}{row}")
            continue
        print(
            f"{key:28}{row['ingest_per_s']:>9}{row['delivered_per_s']:>9}"
            f"{row['cpu_ms_per_msg']:>12}{row['cores_busy']:>7}{row['complete']!s:>10}"
        )
    for store in ("sqlite", "postgres"):
        one = report["workers"].get(f"{store}, 1 process")
        two = report["workers"].get(f"{store}, 2 processes")
        if isinstance(one, dict) and isinstance(two, dict):
            scale = two["delivered_per_s"] / one["delivered_per_s"]
            print(f"{store}: delivered/s with 2 worker processes / 1: {scale:.2f}x")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hub-bench-http-") as tmp:
        report = asyncio.run(run(Path(tmp)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_report(report)
    incomplete = [
        key
        for key, row in report["workers"].items()
        if isinstance(row, dict) and not row["complete"]
    ] + [key for key, row in report["ingest"].items() if row["accepted"] != row["sent"]]
    if incomplete:
        print(f"PROBLEMS: not every message accepted or delivered: {incomplete}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
