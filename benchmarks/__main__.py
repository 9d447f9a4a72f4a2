"""``make bench``: the hub's demo route end to end, against the floor of its stack.

1. floor: benchmarks/floor_app.py (FastAPI + one SQLite INSERT/COMMIT per request,
   the hub's pragmas, the same uvicorn call) under the same client load; and the same
   app with its writes serialized by a lock (``--serialize``), for comparison;
2. hub: ``hub run`` on a temporary copy of config.example.yaml, POST /ingest/shop-orders
   N times with C concurrent clients, then wait until N files are in the outbox.

Prints a table and writes benchmarks/results/latest.json. Settings (env or flags):
BENCH_MESSAGES (2000), BENCH_CONCURRENCY (16), BENCH_WARMUP (50), BENCH_CLIENT
(raw or httpx, see benchmarks/load.py), BENCH_BUDGET seconds for the whole run (480),
BENCH_VARIANTS which end-to-end hub runs (all of HUB_VARIANTS), BENCH_ROUNDS how many
times the floor and the example's hub run in all (3: the first with everything above,
then the pair again, in turn, so both see the same machine); the targets are judged on
the median of the rounds' ratios. BENCH_KEEP=1 keeps the temporary directory with the
servers' logs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load import CLIENTS, ClientKind, LoadResult, percentiles, post_all
from benchmarks.report import problems, ratios, table
from benchmarks.servers import CpuTimes, ServerProcess, free_port, hub_command
from benchmarks.variants import HUB_VARIANTS
from benchmarks.workload import DEMO_ROUTE, REPO, bench_config, order_bodies

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Settings:
    messages: int
    concurrency: int
    warmup: int
    client: ClientKind
    budget: float
    keep: bool
    variants: tuple[str, ...] = ("hub",)
    rounds: int = 3


class Clock:
    """The whole run's deadline."""

    def __init__(self, budget: float) -> None:
        self.deadline = time.monotonic() + budget

    def left(self, reserve: float = 0.0) -> float:
        return max(0.0, self.deadline - time.monotonic() - reserve)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def parse_settings(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-n", "--messages", type=int, default=_env_int("BENCH_MESSAGES", 2000))
    parser.add_argument("-c", "--concurrency", type=int, default=_env_int("BENCH_CONCURRENCY", 16))
    parser.add_argument("--warmup", type=int, default=_env_int("BENCH_WARMUP", 50))
    parser.add_argument(
        "--client", choices=CLIENTS, default=os.environ.get("BENCH_CLIENT") or "raw"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=float(os.environ.get("BENCH_BUDGET") or 480),
        help="seconds for the whole run; phases that do not finish are reported as partial",
    )
    parser.add_argument(
        "--keep", action="store_true", default=os.environ.get("BENCH_KEEP", "") == "1"
    )
    names = [key for key, _, _ in HUB_VARIANTS]
    parser.add_argument(
        "--variants",
        default=os.environ.get("BENCH_VARIANTS") or ",".join(names),
        help=f"comma-separated end-to-end hub runs, of {', '.join(names)} (hub always runs)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=_env_int("BENCH_ROUNDS", 3),
        help="runs of the floor and the example's hub, in turn; judged on the median ratio",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.concurrency < 1 or args.warmup < 0 or args.budget <= 0:
        parser.error("messages and concurrency must be >= 1, warmup >= 0, budget > 0")
    if args.rounds < 1:
        parser.error("rounds must be >= 1")
    chosen = {v.strip() for v in args.variants.split(",") if v.strip()} | {"hub"}
    if chosen - set(names):
        parser.error(f"unknown variants: {', '.join(sorted(chosen - set(names)))}")
    return Settings(
        args.messages,
        args.concurrency,
        args.warmup,
        args.client,
        args.budget,
        args.keep,
        tuple(n for n in names if n in chosen),
        args.rounds,
    )


# -- measuring ----------------------------------------------------------------------


def ingest_summary(result: LoadResult, server_cpu: CpuTimes, client_cpu: float) -> dict[str, Any]:
    lat = percentiles(result.latencies)
    per_msg = 1000 / result.accepted if result.accepted else float("nan")
    return {
        "client": result.client,
        "sent": result.sent,
        "accepted": result.accepted,
        "errors": dict(result.errors),
        "timed_out": result.timed_out,
        "elapsed_s": round(result.elapsed, 3),
        "messages_per_s": round(result.rate, 1),
        "latency_ms": {k: round(v * 1000, 2) for k, v in asdict(lat).items()},
        "server_cpu_s": round(server_cpu.total, 2),
        "server_cpu_ms_per_msg": round(server_cpu.total * per_msg, 3),
        "server_cores_busy": round(server_cpu.total / result.elapsed, 2),
        "client_cpu_s": round(client_cpu, 2),
        "client_cpu_ms_per_msg": round(client_cpu * per_msg, 3),
    }


def count_files(directory: Path) -> int:
    """Finished files only: the file sink writes ``.partial-*`` and renames it."""
    try:
        with os.scandir(directory) as entries:
            return sum(1 for e in entries if not e.name.startswith(".partial-"))
    except FileNotFoundError:
        return 0


async def wait_for_files(directory: Path, target: int, timeout: float) -> float | None:
    """perf_counter when ``target`` files exist, or None after ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while True:
        if count_files(directory) >= target:
            return time.perf_counter()
        if time.perf_counter() >= deadline:
            return None
        await asyncio.sleep(POLL_SECONDS)


def metric_totals(text: str, name: str) -> tuple[float, float]:
    """(sum, count) of a Prometheus histogram over all its label sets."""
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith(f"{name}_count"):
            count += float(line.rsplit(" ", 1)[1])
    return total, count


async def hub_metrics(api: httpx.AsyncClient) -> dict[str, tuple[float, float]]:
    text = (await api.get("/metrics")).text
    return {
        name: metric_totals(text, f"hub_{name}_duration_seconds")
        for name in ("ingest", "processing")
    }


def sqlite_commit_floor(directory: Path, body: bytes, commits: int = 300) -> dict[str, Any]:
    """One thread, no HTTP: how fast this disk takes durable SQLite commits of one order."""
    path = directory / "commit-floor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        started = time.perf_counter()
        for _ in range(commits):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return {
        "commits": commits,
        "commits_per_s": round(commits / elapsed, 1),
        "ms_per_commit": round(elapsed / commits * 1000, 3),
    }


async def check_statuses(api: httpx.AsyncClient, ids: list[str], clock: Clock) -> dict[str, Any]:
    """GET /messages/{id} for a few messages: their files exist, so each should be delivered."""
    if not ids:
        return {"checked": 0, "delivered": 0, "other": {}}
    picks = sorted({ids[0], ids[len(ids) // 2], ids[-1]})
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + min(10.0, clock.left())
    for message_id in picks:
        while True:
            status = str((await api.get(f"/messages/{message_id}")).json().get("status"))
            # the sink writes the file a moment before the store records the delivery
            if status == "delivered" or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.1)
        statuses[message_id] = status
    other = {k: v for k, v in statuses.items() if v != "delivered"}
    return {"checked": len(statuses), "delivered": len(statuses) - len(other), "other": other}


# -- the runs -----------------------------------------------------------------------


async def warm_up(
    server: ServerProcess, warm: list[bytes], settings: Settings, clock: Clock
) -> None:
    """Untimed requests first: imports, thread pool, connections and caches get going."""
    if warm:
        await post_all(
            server.url,
            f"/ingest/{DEMO_ROUTE}",
            warm,
            concurrency=settings.concurrency,
            timeout=max(1.0, min(20.0, clock.left())),
            client=settings.client,
        )


async def run_ingest_only(
    server: ServerProcess,
    settings: Settings,
    bodies: list[bytes],
    warm: list[bytes],
    clock: Clock,
    share: float,
) -> dict[str, Any]:
    """Start ``server``, warm it up, time the POSTs for at most ``share`` seconds."""
    path = f"/ingest/{DEMO_ROUTE}"
    with server:
        server.start(timeout=max(5.0, min(30.0, clock.left())))
        await warm_up(server, warm, settings, clock)
        cpu0, client0 = server.cpu(), time.process_time()
        result = await post_all(
            server.url,
            path,
            bodies,
            concurrency=settings.concurrency,
            timeout=max(1.0, min(share, clock.left())),
            client=settings.client,
        )
        summary = ingest_summary(result, server.cpu() - cpu0, time.process_time() - client0)
    return {"ingest": summary}


def floor_server(workdir: Path, *, serialize: bool) -> ServerProcess:
    name = "floor-serialized" if serialize else "floor"
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.floor_app", "--port", str(port)]
    argv += ["--db", str(workdir / f"{name}.db")] + (["--serialize"] if serialize else [])
    return ServerProcess(name, argv, port, log=workdir / f"{name}.log", cwd=REPO)


def hub_server(
    workdir: Path, *, worker: bool, worker_settings: dict[str, Any] | None = None
) -> tuple[ServerProcess, Path]:
    """``hub run`` on its own copy of the example config; returns it and its outbox."""
    port = free_port()
    config, outbox = bench_config(
        workdir, port=port, worker=worker, worker_settings=worker_settings
    )
    argv = [*hub_command(), "run", "--config", str(config), "--port", str(port)]
    return ServerProcess("hub", argv, port, log=workdir / "hub.log", cwd=workdir), outbox


async def run_hub(
    settings: Settings,
    workdir: Path,
    bodies: list[bytes],
    warm: list[bytes],
    clock: Clock,
    worker_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest, then wait for every message's file in the outbox (delivered).

    CPU is the server's process tree: with worker processes, theirs counts too."""
    server, outbox = hub_server(workdir, worker=True, worker_settings=worker_settings)
    path = f"/ingest/{DEMO_ROUTE}"
    with server:
        server.start(timeout=max(5.0, min(30.0, clock.left())))
        async with httpx.AsyncClient(base_url=server.url, timeout=10, trust_env=False) as api:
            await warm_up(server, warm, settings, clock)
            if await wait_for_files(outbox, len(warm), max(1.0, clock.left())) is None:
                raise RuntimeError(f"the warm-up was not delivered:\n{server.log_tail()}")
            before = await hub_metrics(api)
            cpu0, client0 = server.tree_cpu(), time.process_time()
            files = asyncio.create_task(
                wait_for_files(outbox, len(warm) + len(bodies), clock.left(reserve=5.0))
            )
            result = await post_all(
                server.url,
                path,
                bodies,
                concurrency=settings.concurrency,
                timeout=max(1.0, clock.left(reserve=10.0)),
                client=settings.client,
            )
            cpu_ingest, client_cpu = server.tree_cpu() - cpu0, time.process_time() - client0
            at_ingest_end = count_files(outbox) - len(warm)
            done_at = await files
            cpu_total = server.tree_cpu() - cpu0
            delivered = count_files(outbox) - len(warm)
            after = await hub_metrics(api)
            checked = await check_statuses(api, result.ids, clock)

    end = done_at if done_at is not None else time.perf_counter()
    e2e_elapsed = max(end - result.started, 1e-9)
    drain_elapsed = max(end - result.finished, 1e-9)
    drain_cpu = cpu_total - cpu_ingest
    server_side: dict[str, Any] = {}
    for name, (total, count) in after.items():
        n = count - before[name][1]
        server_side[f"{name}_mean_ms"] = (
            round((total - before[name][0]) / n * 1000, 3) if n else float("nan")
        )
        server_side[f"{name}_count"] = int(n)
    return {
        "worker_settings": worker_settings or {},
        "ingest": ingest_summary(result, cpu_ingest, client_cpu),
        "end_to_end": {
            "complete": done_at is not None,
            "delivered": delivered,
            "elapsed_s": round(e2e_elapsed, 3),
            "delivered_per_s": round(delivered / e2e_elapsed, 1),
            "delivered_when_ingest_finished": at_ingest_end,
            "drain_s": round(drain_elapsed, 3),
            "drain_per_s": round((delivered - at_ingest_end) / drain_elapsed, 1),
            "drain_cpu_ms_per_msg": round(
                drain_cpu.total * 1000 / max(delivered - at_ingest_end, 1), 3
            ),
            "drain_cores_busy": round(drain_cpu.total / drain_elapsed, 2),
            "server_cpu_s": round(cpu_total.total, 2),
            "server_cpu_ms_per_msg": round(cpu_total.total * 1000 / max(delivered, 1), 3),
        },
        "server_side": server_side,
        "status_check": checked,
    }


async def run_all(settings: Settings, workdir: Path) -> dict[str, Any]:
    clock = Clock(settings.budget)
    bodies = order_bodies(settings.messages, first_number=100_000)
    warm = order_bodies(settings.warmup, first_number=10_000)
    commit_floor = sqlite_commit_floor(workdir, bodies[0])
    runs: dict[str, Any] = {}
    load = f"{settings.messages} POSTs, {settings.concurrency} {settings.client} clients"
    # each ingest-only run may use 12% of the budget; the end-to-end run gets the rest
    share = settings.budget * 0.12
    ingest_only: list[tuple[str, Callable[[Path], ServerProcess]]] = [
        ("floor", lambda d: floor_server(d, serialize=False)),
        ("floor_serialized", lambda d: floor_server(d, serialize=True)),
        ("hub_ingest_only", lambda d: hub_server(d, worker=False)[0]),
    ]
    for key, make in ingest_only:
        print(f"{key}: {load} ...", flush=True)
        folder = workdir / key
        folder.mkdir()
        runs[key] = await run_ingest_only(make(folder), settings, bodies, warm, clock, share)
    variants = [v for v in HUB_VARIANTS if v[0] in settings.variants]
    ahead = len(variants) + settings.rounds - 1  # end-to-end runs still to come
    for key, label, worker_settings in variants:
        print(f"{label}: {load}, then wait for the outbox ...", flush=True)
        (workdir / key).mkdir()
        # each end-to-end run may use its share of what is left
        part = Clock(clock.left() / ahead)
        ahead -= 1
        runs[key] = await run_hub(settings, workdir / key, bodies, warm, part, worker_settings)
    rounds = [_round(runs["floor"], runs["hub"])]
    for number in range(2, settings.rounds + 1):
        print(f"round {number} of {settings.rounds}: the floor, then the hub ...", flush=True)
        folder = workdir / f"round-{number}"
        (folder / "floor").mkdir(parents=True)
        (folder / "hub").mkdir()
        floor = await run_ingest_only(
            floor_server(folder / "floor", serialize=False), settings, bodies, warm, clock, share
        )
        part = Clock(clock.left() / ahead)
        ahead -= 1
        hub = await run_hub(settings, folder / "hub", bodies, warm, part)
        rounds.append(_round(floor, hub))
    report: dict[str, Any] = {
        "meta": {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "messages": settings.messages,
            "concurrency": settings.concurrency,
            "warmup": settings.warmup,
            "client": settings.client,
            "payload_bytes": len(bodies[0]),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "duration_s": round(settings.budget - clock.left(), 1),
        },
        "sqlite_commit_floor": commit_floor,
        **runs,
    }
    report["ratios"] = ratios(runs["floor"], runs["hub"])
    report["variant_ratios"] = {
        key: ratios(runs["floor"], runs[key]) for key, _, _ in variants if key in runs
    }
    report["ratios_worker_off"] = ratios(runs["floor"], runs["hub_ingest_only"])
    report["rounds"] = rounds
    report["ratios_median"] = {
        name: statistics.median(r["ratios"][name] for r in rounds) for name in rounds[0]["ratios"]
    }
    report["problems"] = problems(report, settings)
    return report


def _round(floor: dict[str, Any], hub: dict[str, Any]) -> dict[str, Any]:
    """One round's pair: its ratios, the two rates, and whether everything was delivered."""
    return {
        "ratios": ratios(floor, hub),
        "floor_per_s": floor["ingest"]["messages_per_s"],
        "hub_per_s": hub["ingest"]["messages_per_s"],
        "delivered_per_s": hub["end_to_end"]["delivered_per_s"],
        "complete": hub["end_to_end"]["complete"],
    }


def _finite(value: Any) -> Any:
    """NaN (a run with no accepted message) becomes null, so the file stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    try:
        report = asyncio.run(run_all(settings, workdir))
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        if settings.keep:
            print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    finally:
        if not settings.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_finite(report), indent=2) + "\n", encoding="utf-8")
    kept = f"; logs and stores kept in {workdir}" if settings.keep else ""
    print(f"\nresults: {RESULTS.relative_to(REPO)}{kept}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
