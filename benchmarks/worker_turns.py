"""Worker CPU per message: the demo route's turns in-process, on SQLite.

    python -m benchmarks.worker_turns [--messages 2000] [--rounds 3] [--lines N]
                                      [--profile FILE] [--json]

The hub of ``make bench`` (a copy of config.example.yaml, worker off) is built in this
process; each round stores ``--messages`` copies of the example order (each its own order
number, so its own idempotency key) through the ingestor's own message building, in
transactions of 200, and then drains them as one worker thread does: claim a batch, run
it (translate, file sink with fsync), record it and claim the next in one transaction,
until nothing is due. ``--lines N`` sends orders of N line items instead (the order of
benchmarks/worker_cpu.py, each with its own number): the whole worker turn of a large
order, store and file sink included, where worker_cpu times its stages alone. The clock is
the process's CPU (``time.process_time``: every thread,
the store's writer thread included) over the drain only; the table shows each round and
the best. ``--profile FILE`` runs one more round under cProfile (CPU time of each thread: the
worker's loop and the writer thread's transactions, in one file) and writes it there.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.servers import free_port
from benchmarks.worker_cpu import TARGET_MS, large_order
from benchmarks.workload import DEMO_ROUTE, bench_config, order_bodies
from hub.config import load_config
from hub.delivery.watchdog import Seat
from hub.heap import freeze_startup_objects
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.sdk import Inbound
from hub.store.writer import Writer

__all__ = ["run", "table"]

_CHUNK = 200


def _store_messages(hub: Hub, bodies: list[bytes]) -> None:
    """The bodies as ingest stores them (keys read, one message each), 200 a transaction."""
    route = hub.routes[DEMO_ROUTE]
    headers = {"content-type": "application/json"}
    for start in range(0, len(bodies), _CHUNK):
        messages = [
            m
            for body in bodies[start : start + _CHUNK]
            for m in hub.ingestor.messages(route, Inbound(body, headers, "application/json"), None)
        ]
        hub.store.add(messages, list(route.sinks))


def _drain(hub: Hub, seat: Seat) -> int:
    """Run the worker's loop in this thread until no message is due; how many it handled."""
    worker = hub.worker
    processor = worker._processor(seat)
    handled = 0
    batch = worker._claim(processor)
    while batch:
        handled += len(batch)
        batch = worker._cycle(processor, seat, batch, claim_next=True)
    return handled


class _Profiles:
    """cProfile of the worker thread and of the store's writer thread (thread CPU time)."""

    def __init__(self) -> None:
        self.worker = cProfile.Profile(time.thread_time)
        self.writer = cProfile.Profile(time.thread_time)

    def __enter__(self) -> _Profiles:
        self._saved = Writer._together, Writer._alone
        together, alone = self._saved
        writer = self.writer

        def profiled(method: Any) -> Any:
            def call(self: Writer, arg: Any) -> None:
                writer.enable()
                try:
                    method(self, arg)
                finally:
                    writer.disable()

            return call

        Writer._together = profiled(together)  # type: ignore[method-assign]
        Writer._alone = profiled(alone)  # type: ignore[method-assign]
        self.worker.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.disable()
        Writer._together, Writer._alone = self._saved  # type: ignore[method-assign]

    def dump(self, path: Path) -> None:
        import pstats

        stats = pstats.Stats(self.worker)
        stats.add(self.writer)
        stats.dump_stats(path)


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _bodies(count: int, first_number: int, lines: int) -> list[bytes]:
    """The round's orders: the example order, or one of ``lines`` line items, numbered."""
    if not lines:
        return order_bodies(count, first_number=first_number)
    order = json.loads(large_order(lines))
    bodies = []
    for number in range(first_number, first_number + count):
        order["id"], order["number"] = number, str(number)
        bodies.append(json.dumps(order, ensure_ascii=False).encode("utf-8"))
    return bodies


def run(
    messages: int = 2000,
    rounds: int = 3,
    profile: Path | None = None,
    *,
    freeze: bool = True,
    lines: int = 0,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hub-worker-turns-") as tmp:
        config, _ = bench_config(Path(tmp), port=free_port(), worker=False)
        hub = Hub(load_config(config))
        if freeze:
            freeze_startup_objects()  # as `hub run` and `hub worker` do once started
        try:
            seat = Seat(hub.worker.identity, 0)
            per_message: list[tuple[float, float]] = []  # (user, system) ms
            number = 100_000
            for index in range(rounds + (1 if profile else 0)):
                bodies = _bodies(messages, number, lines)
                number += messages
                _store_messages(hub, bodies)
                profiled = index == rounds
                user, system = _cpu()
                if profiled:
                    with _Profiles() as profiles:
                        handled = _drain(hub, seat)
                    assert profile is not None
                    profiles.dump(profile)
                else:
                    handled = _drain(hub, seat)
                user_after, system_after = _cpu()
                if handled != messages:
                    raise SystemExit(f"round {index + 1}: handled {handled} of {messages}")
                if not profiled:
                    per_message.append(
                        (
                            (user_after - user) * 1000 / messages,
                            (system_after - system) * 1000 / messages,
                        )
                    )
            counts = hub.store.count_by_status()
            delivered = counts.get(MessageStatus.DELIVERED, 0)
            total = messages * (rounds + (1 if profile else 0))
            if delivered != total:
                raise SystemExit(f"{delivered} of {total} messages delivered")
        finally:
            hub.close()
    totals = [user + system for user, system in per_message]
    best = totals.index(min(totals))
    return {
        "messages": messages,
        "lines": lines,
        "rounds": [round(ms, 3) for ms in totals],
        "best_ms": round(totals[best], 3),
        "best_user_ms": round(per_message[best][0], 3),
        "best_system_ms": round(per_message[best][1], 3),
    }


def table(results: dict[str, Any]) -> str:
    rounds = ", ".join(f"{ms:.3f}" for ms in results["rounds"])
    what = f"orders of {results['lines']:,} lines" if results["lines"] else "small demo orders"
    text = (
        f"worker CPU per message, {results['messages']} {what} a round "
        f"(process CPU, SQLite, file sink with fsync): rounds {rounds} ms; "
        f"best {results['best_ms']:.3f} ms (user {results['best_user_ms']:.3f}, "
        f"system {results['best_system_ms']:.3f})"
    )
    if results["lines"] == 1000:
        ratio = results["best_ms"] / TARGET_MS
        verdict = "ok" if ratio <= 1 else "MISSED"
        text += (
            f"\ntarget (issue 11): the whole worker turn of a 1,000-line order within "
            f"{TARGET_MS:g} ms of CPU: {verdict} ({ratio:.2f}x the target)"
        )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=2000, help="messages in each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best is reported")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the last round here")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--lines", type=int, default=0, help="line items per order (0: small)")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave start-up objects to the GC (hub/heap.py)"
    )
    args = parser.parse_args(argv)
    results = run(
        args.messages, args.rounds, args.profile, freeze=not args.no_freeze, lines=args.lines
    )
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
