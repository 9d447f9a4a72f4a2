"""Delivered messages/s from the store: SQLite with one worker process, PostgreSQL with one
and two, beside a bare insert + claim + update loop on the same database in the same run.

`hub worker` processes deliver the messages to a file sink (fsync on). The CPU each
message costs while they deliver (from the commit of the messages to the last one
delivered: start-up not included) is printed for the worker processes and, on PostgreSQL,
for every process of the database server (backends opened while the workers started,
autovacuum; not the benchmark's own reader), with the cores both kept busy and the cores
busy machine-wide, so a regression shows and so does the ceiling a second process has on
this machine: with one process already keeping ``c`` of ``n`` cores busy, two can deliver
at most ``n / c`` times as much.
The workers start on an empty store; the clock starts once every one answers /healthz,
when the messages are committed at once (a process still starting is not a process that
does not scale). PostgreSQL's 1-vs-2 process pair runs ``--runs`` times
(3), each pair reported.
Run: ``python -m benchmarks.delivery [--messages N] [--runs R]``. Needs the local PostgreSQL
(HUB_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.servers import free_port
from hub.message import Message
from hub.store import Store

ADMIN = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_WORKER = (sys.executable, "-m", "hub", "worker")
BODY = b'{"order": 1, "lines": [1, 2, 3], "note": "' + b"x" * 400 + b'"}'


def _database() -> tuple[str, Any]:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (all their threads)."""
    return sum(_cpu_split(pids))


def _cpu_split(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds used so far by these processes (all their threads)."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended: its share is lost, which only lowers the figure
        user += int(fields[11])
        system += int(fields[12])
    return user / _CLK_TCK, system / _CLK_TCK


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of each process of the local PostgreSQL server (postmaster,
    backends, autovacuum, writers)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = _cpu_seconds([int(entry.name)])
            except OSError:
                continue
    return found


def _postgres_used(before: dict[int, float], leave_out: int | None) -> float:
    """PostgreSQL's CPU seconds since ``before`` (its snapshot), a backend started since
    counted whole, ``leave_out`` (the benchmark's own reader) not at all. A process that
    ended in between is lost, which only lowers the figure."""
    now = _postgres_cpu()
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items() if pid != leave_out)


def _machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # guest time is already in user
    return (total - idle) / _CLK_TCK, total / _CLK_TCK


@dataclass(frozen=True)
class Delivered:
    """One timed delivery: its seconds, and CPU seconds per message while it ran."""

    seconds: float
    worker_cpu: float  # the hub worker processes, per message
    worker_system: float  # the part of worker_cpu spent in the kernel (files, locks, I/O)
    database_cpu: float  # PostgreSQL's processes, per message (0 on SQLite)
    messages: int
    machine: float  # cores of the whole machine kept busy meanwhile (every process)

    @property
    def cores(self) -> float:
        """Cores kept busy on average by the workers and the database together."""
        return (self.worker_cpu + self.database_cpu) * self.messages / self.seconds


def _hub(url: str, workdir: Path, messages: int, processes: int) -> Delivered:
    """Seconds to deliver ``messages`` with ``processes`` `hub worker` processes, and their
    CPU seconds per message (start-up included).

    The workers are started on an empty store and the clock starts only once every one of
    them answers /healthz, when the messages are committed in one transaction: a process
    still starting (two Python processes starting at once on a loaded machine can take a
    few seconds) would otherwise count as a process that does not scale.
    """
    config = {
        "store": {"url": url},
        "worker": {"threads": 2, "batch_size": 50, "poll_interval_seconds": 0.2},
        "mappings": {"reload_seconds": 0},
        "routes": {
            "bench": {
                "sinks": [
                    {"name": "out", "type": "file", "options": {"directory": str(workdir / "out")}}
                ]
            }
        },
    }
    path = workdir / "hub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    store = Store(url, base_dir=workdir)
    store.migrate()
    batch = [
        Message(id=str(uuid.uuid4()), route="bench", source="bench", body=BODY, format="json")
        for _ in range(messages)
    ]
    reader, reader_pid = _reader(url)
    ports = [free_port() for _ in range(processes)]
    procs = [
        subprocess.Popen(
            [*_WORKER, "--config", str(path), "--metrics-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    pids = [proc.pid for proc in procs]
    postgres = url.startswith("postgresql")
    try:
        _wait_ready(ports, procs)
        user0, sys0 = _cpu_split(pids)
        store.add(batch, ["out"])  # one transaction: every worker sees them at once
        db0 = _postgres_cpu() if postgres else {}  # after the add: its INSERTs are not the hub's
        busy0, all0 = _machine_busy()
        started = time.perf_counter()
        while True:
            done = int(reader.execute(_DELIVERED).fetchone()[0])
            now = time.perf_counter()
            if done >= messages:
                (user, system), busy1, all1 = _cpu_split(pids), *_machine_busy()
                db = _postgres_used(db0, reader_pid) if postgres else 0.0
                user, system = user - user0, system - sys0
                break
            if now - started > 300:
                raise RuntimeError("the hub did not deliver everything within 300 s")
            time.sleep(0.05)
        seconds = now - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)
        reader.close()
        store.close()
    n = messages
    cores = (os.cpu_count() or 1) * (busy1 - busy0) / (all1 - all0)
    return Delivered(seconds, (user + system) / n, system / n, db / n, messages, cores)


_DELIVERED = "SELECT count(*) FROM messages WHERE status = 'delivered'"


def _reader(url: str) -> tuple[Any, int | None]:
    """A bare connection that polls the delivered count (through the Store it would queue
    on the writer; through SQLAlchemy, 20 polls a second cost the benchmark's process a
    tenth of a core that the workers would miss), and its PostgreSQL backend's pid, so
    that its queries are not counted as the hub's."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite3.connect(parsed.database or "", isolation_level=None), None
    import psycopg

    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = psycopg.connect(dsn, autocommit=True)
    return conn, conn.info.backend_pid


def _wait_ready(ports: list[int], procs: list[subprocess.Popen[bytes]]) -> None:
    """Until every worker answers /healthz on its port (it is claiming by then)."""
    deadline = time.monotonic() + 120
    waiting = set(ports)
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while waiting:
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("a hub worker exited while starting")
            if time.monotonic() > deadline:
                raise RuntimeError("the hub workers did not start within 120 s")
            for port in sorted(waiting):
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        waiting.discard(port)
                except httpx.TransportError:
                    pass
            time.sleep(0.05)


def _write_files(directory: Path, count: int) -> None:
    """What the file sink does for a batch, bare: ``count`` new files with the body, each
    fsynced (16 threads, as the sink does), renamed into place, then one fsync of the
    directory."""
    staged = []
    for _ in range(count):
        path = os.path.join(directory, f".partial-{secrets.token_hex(8)}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(fd, BODY)
        staged.append((fd, path))
    fds = [fd for fd, _ in staged]
    lanes = min(16, len(fds))
    list(_SYNC.map(_fsync_each, [fds[k::lanes] for k in range(lanes)]))
    for fd, path in staged:
        os.close(fd)
        os.replace(path, os.path.join(directory, f"{uuid.uuid4()}.json"))
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SYNC = ThreadPoolExecutor(16, thread_name_prefix="floor-fsync")


def _fsync_each(fds: list[int]) -> None:
    for fd in fds:
        os.fsync(fd)


def _floor_postgres(url: str, messages: int, files: Path | None = None) -> float:
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE q (id serial PRIMARY KEY, body bytea, status text)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO q (body, status) VALUES (%s, 'new')", [(BODY,)] * messages)
        conn.commit()
        started = time.perf_counter()
        while True:
            rows = conn.execute(
                "WITH c AS (SELECT id FROM q WHERE status = 'new' ORDER BY id LIMIT 50 "
                "FOR UPDATE SKIP LOCKED) UPDATE q SET status = 'claimed' FROM c "
                "WHERE q.id = c.id RETURNING q.id"
            ).fetchall()
            conn.commit()
            if not rows:
                break
            if files is not None:
                _write_files(files, len(rows))
            for (row_id,) in rows:
                conn.execute("UPDATE q SET status = 'done' WHERE id = %s", (row_id,))
                conn.commit()
        return time.perf_counter() - started


def _floor_sqlite(path: Path, messages: int, files: Path | None = None) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, body BLOB, status TEXT)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO q (body, status) VALUES (?, 'new')", [(BODY,)] * messages)
    conn.execute("COMMIT")
    started = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        ids = [r[0] for r in conn.execute("SELECT id FROM q WHERE status = 'new' LIMIT 50")]
        conn.executemany("UPDATE q SET status = 'claimed' WHERE id = ?", [(i,) for i in ids])
        conn.execute("COMMIT")
        if not ids:
            break
        if files is not None:
            _write_files(files, len(ids))
        for row_id in ids:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE q SET status = 'done' WHERE id = ?", (row_id,))
            conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - started


def run(messages: int = 5000, runs: int = 3) -> list[dict[str, Any]]:
    """The table's rows; PostgreSQL with 1 and with 2 processes ``runs`` times (a pair per
    run, each on a new database), so a weak run shows instead of hiding in one figure."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hub-delivery-bench-") as tmp:
        base = Path(tmp)
        floor = _floor_sqlite(base / "floor.db", messages)
        rows.append({"case": "SQLite floor (insert+claim+update)", "seconds": floor})
        (base / "sf").mkdir()
        files = _floor_sqlite(base / "floor-files.db", messages, base / "sf")
        rows.append({"case": "SQLite floor + the sink's files", "seconds": files})
        (base / "s").mkdir()
        hub = _hub(f"sqlite:///{base / 's' / 'hub.db'}", base / "s", messages, 1)
        rows.append(
            {
                "case": "SQLite, hub, 1 worker process",
                "floor": floor,
                "floor_files": files,
                **_measured(hub),
            }
        )
        url, drop = _database()
        try:
            pg_floor = _floor_postgres(url, messages)
        finally:
            drop()
        rows.append({"case": "PostgreSQL floor (insert+claim+update)", "seconds": pg_floor})
        url, drop = _database()
        (base / "pf").mkdir()
        try:
            pg_files = _floor_postgres(url, messages, base / "pf")
        finally:
            drop()
        rows.append({"case": "PostgreSQL floor + the sink's files", "seconds": pg_files})
        for run_number in range(1, runs + 1):
            for processes in (1, 2):
                url, drop = _database()
                workdir = base / f"p{processes}-{run_number}"
                workdir.mkdir()
                try:
                    delivered = _hub(url, workdir, messages, processes)
                finally:
                    drop()
                plural = "es" if processes > 1 else ""
                rows.append(
                    {
                        "case": f"PostgreSQL, hub, {processes} worker process{plural}"
                        + (f" (run {run_number})" if runs > 1 else ""),
                        "floor": pg_floor,
                        "floor_files": pg_files,
                        **_measured(delivered),
                        "processes": processes,
                        "run": run_number,
                    }
                )
    for row in rows:
        row["per_second"] = messages / row["seconds"]
    return rows


def _measured(delivered: Delivered) -> dict[str, float]:
    return {
        "seconds": delivered.seconds,
        "cpu": delivered.worker_cpu,
        "sys": delivered.worker_system,
        "db_cpu": delivered.database_cpu,
        "cores": delivered.cores,
        "machine": delivered.machine,
    }


def scaling(rows: list[dict[str, Any]]) -> list[float]:
    """2 processes / 1 for each run, in run order."""
    by_run: dict[int, dict[int, float]] = {}
    for row in rows:
        if "processes" in row:
            by_run.setdefault(row["run"], {})[row["processes"]] = row["per_second"]
    return [pair[2] / pair[1] for _, pair in sorted(by_run.items())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3, help="PostgreSQL 1-vs-2 process pairs")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.runs < 1:
        parser.error("messages and runs must be >= 1")
    rows = run(args.messages, args.runs)
    print(f"Delivery from the store: {args.messages} messages, file sink, 2 threads per process")
    print(
        f"{'case':<42} {'delivered/s':>11} {'vs floor':>8} {'+files':>6} {'worker CPU':>10} "
        f"{'kernel':>6} {'db CPU':>6} {'cores':>5} {'machine':>7}"
    )
    for row in rows:
        ratio = f"{row['floor'] / row['seconds']:.2f}x" if "floor" in row else "-"
        files = f"{row['floor_files'] / row['seconds']:.2f}x" if "floor_files" in row else "-"
        cpu = f"{row['cpu'] * 1000:.3f}" if "cpu" in row else "-"
        kernel = f"{row['sys'] * 1000:.3f}" if "sys" in row else "-"
        db = f"{row['db_cpu'] * 1000:.3f}" if row.get("db_cpu") else "-"
        cores = f"{row['cores']:.2f}" if "cores" in row else "-"
        machine = f"{row['machine']:.2f}" if "machine" in row else "-"
        print(
            f"{row['case']:<42} {row['per_second']:11.1f} {ratio:>8} {files:>6} {cpu:>10} "
            f"{kernel:>6} {db:>6} {cores:>5} {machine:>7}"
        )
    print(
        "CPU: ms per message while delivering (start-up excluded), of it in the kernel; "
        "db CPU: every PostgreSQL process but the benchmark's reader; cores: workers and "
        "PostgreSQL together; machine: cores busy machine-wide (/proc/stat)"
    )
    print(
        "+files: against the floor that also writes the sink's files (the same create, "
        "parallel fsync, rename and directory fsync per batch of 50)"
    )
    found = scaling(rows)
    each = ", ".join(f"{ratio:.2f}x" for ratio in found)
    print(f"PostgreSQL scaling, 2 processes / 1, each run: {each}; lowest {min(found):.2f}x")
    singles = [row for row in rows if row.get("processes") == 1]
    if singles:
        n = os.cpu_count() or 1
        busiest = max(row["cores"] for row in singles)
        whole = max(row["machine"] for row in singles)
        print(
            f"ceiling on this machine: one process kept up to {busiest:.2f} of {n} cores busy "
            f"(workers + PostgreSQL; {whole:.2f} machine-wide), so two can deliver at most "
            f"{n / busiest:.2f}x as much ({n / whole:.2f}x counting every process)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
