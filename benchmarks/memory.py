"""Memory while messages flow: does a `hub worker`'s RSS stay flat over many messages?

Fills a SQLite store with N messages (bulk inserts straight into the tables), starts one
`hub worker` delivering them to a file sink, and samples its resident set size
(/proc/PID/status) as it goes. Prints the RSS after the first tenth of the messages, at the
half and at the end, and the growth from the tenth to the end (target: flat, within a few
MB: caches are warm by the first tenth; what grows after that is a leak).
Run: ``python -m benchmarks.memory [--messages N]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.claim import _fill
from hub.store import Store

SAMPLE_SECONDS = 0.5


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def run(messages: int) -> list[tuple[int, float]]:
    """(delivered so far, worker RSS in MB) samples."""
    with tempfile.TemporaryDirectory(prefix="hub-memory-bench-") as tmp:
        work = Path(tmp)
        database = work / "hub.db"
        store = Store(f"sqlite:///{database}")
        store.migrate()
        _fill(store, 0, messages)  # route "bench", one pending delivery to sink "out" each
        store.close()
        config = {
            "store": {"url": f"sqlite:///{database}"},
            "worker": {"threads": 2, "batch_size": 50, "poll_interval_seconds": 0.2},
            "mappings": {"reload_seconds": 0},
            "routes": {
                "bench": {
                    "sinks": [
                        {"name": "out", "type": "file", "options": {"directory": str(work / "out")}}
                    ]
                }
            },
        }
        path = work / "hub.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "worker", "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        reader = sqlite3.connect(database)
        samples: list[tuple[int, float]] = []
        try:
            while True:
                done = reader.execute(
                    "SELECT count(*) FROM messages WHERE status = 'delivered'"
                ).fetchone()[0]
                samples.append((done, rss_mb(proc.pid)))
                if done >= messages:
                    return samples
                if proc.poll() is not None:
                    raise RuntimeError(f"the worker exited with {proc.returncode}")
                time.sleep(SAMPLE_SECONDS)
        finally:
            reader.close()
            proc.terminate()
            proc.wait(20)


def at(samples: list[tuple[int, float]], count: int) -> float:
    return next(rss for done, rss in samples if done >= count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args(argv)
    samples = run(args.messages)
    tenth, half = at(samples, args.messages // 10), at(samples, args.messages // 2)
    end = samples[-1][1]
    print(f"Worker memory: {args.messages} messages through one `hub worker` (SQLite, file sink)")
    print(f"RSS after 10%: {tenth:.1f} MB, 50%: {half:.1f} MB, 100%: {end:.1f} MB")
    print(f"growth from 10% to 100%: {end - tenth:+.1f} MB (target: flat, within a few MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
