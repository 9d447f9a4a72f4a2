"""``hub run --workers N``: real child processes, killed, restarted, woken and scraped.

The children are found in /proc (their parent is the ``hub run`` process). Every wait is on
progress (tests/waiting.py); the one with a shorter stall limit is the wake-up test, where
the workers poll only once a minute, so a delivery that moves at all came from a wake-up.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.integration.test_store_gauges import samples
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

ROUTE = (("route", "shop-orders"),)
#: Workers that poll this rarely deliver a new message promptly only when woken.
POLL_SECONDS = 60
#: Shorter than the poll interval: a delivery waiting for a poll would stall this long.
WAKE_STALL = 45.0


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a zombie has exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(parent: int) -> set[int]:
    """The live processes whose parent is ``parent``."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def ingest(hub: HubProcess, count: int, start: int) -> list[str]:
    template = EXAMPLE_ORDER.read_text(encoding="utf-8")
    ids = []
    with httpx.Client(timeout=30) as client:
        for number in range(start, start + count):
            body = template.replace('"number": "727"', f'"number": "{number}"')
            answer = client.post(f"{hub.url}/ingest/shop-orders", content=body.encode())
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])
    return ids


def statuses(hub: HubProcess, ids: list[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for message_id in ids:
        status = str(hub.message(message_id)["status"])
        counted[status] = counted.get(status, 0) + 1
    return counted


def wait_delivered(hub: HubProcess, ids: list[str], stall: float | None = None) -> None:
    wait_for_progress(
        lambda: statuses(hub, ids),
        lambda seen: seen.get("delivered") == len(ids),
        what=f"{len(ids)} messages to be delivered",
        stall=stall,
        interval=0.2,
    )


def metric(hub: HubProcess, name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
    found = samples(httpx.get(f"{hub.url}/metrics", timeout=30).content)
    return found.get((name, labels), 0.0)


def wait_metric(
    hub: HubProcess, name: str, value: float, labels: tuple[tuple[str, str], ...] = ()
) -> None:
    wait_for_progress(
        lambda: metric(hub, name, labels),
        lambda seen: seen == value,
        what=f"{name} to be {value}",
        interval=0.2,
    )


def wait_children(hub: HubProcess, count: int, without: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
    assert hub.proc is not None
    pid = hub.proc.pid
    return wait_for_progress(
        lambda: children_of(pid),
        lambda seen: len(seen) == count and not seen & without,
        what=f"{count} worker processes",
        interval=0.1,
    )


def config_for(tmp_path: Path, store_url: str | None, **worker: object) -> Path:
    settings = {"threads": 1, "poll_interval_seconds": POLL_SECONDS, "lease_seconds": 30, **worker}
    return write_config(tmp_path, demo_config(tmp_path, store_url=store_url, worker=settings))


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_workers_are_woken_restarted_after_a_kill_and_scraped_as_one(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    url = None if database == "sqlite" else request.getfixturevalue("postgres_url")
    hub = HubProcess(config_for(tmp_path, url, processes=2), tmp_path / "hub.log").start()
    try:
        first = wait_children(hub, 2)
        wait_metric(hub, "hub_worker_processes", 2)
        # woken through the pipe: the workers would not poll again for a minute
        ids = ingest(hub, 10, start=1000)
        wait_delivered(hub, ids, stall=WAKE_STALL)
        # the children's counters reach the API process's /metrics, added up
        wait_metric(hub, "hub_messages_delivered_total", 10, ROUTE)
        assert metric(hub, "hub_messages_received_total", ROUTE) == 10

        # kill one child while it works: another takes its place, nothing is lost
        more = ingest(hub, 20, start=2000)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        second = wait_children(hub, 2, without={victim})
        assert second & first == first - {victim}
        wait_delivered(hub, ids + more)
        wait_metric(hub, "hub_worker_restarts_total", 1)
        assert metric(hub, "hub_worker_processes") == 2
        # the dead child's counts are kept (up to its last snapshot): never backwards
        delivered = metric(hub, "hub_messages_delivered_total", ROUTE)
        assert 10 <= delivered <= 30
        log = (tmp_path / "hub.log").read_text()
        assert f"worker process {victim} (slot" in log
        assert "ended with signal SIGKILL" in log
    finally:
        hub.stop()
    assert not {pid for pid in first if alive(pid)}  # stopped with the parent


def test_the_children_exit_when_hub_run_is_killed(tmp_path: Path) -> None:
    hub = HubProcess(config_for(tmp_path, None), tmp_path / "hub.log")
    hub.start("run", "--workers", "3")  # the flag overrides worker.processes (1)
    try:
        children = wait_children(hub, 3)
        argv = Path(f"/proc/{min(children)}/cmdline").read_bytes().split(b"\0")
        snapshots = Path(argv[argv.index(b"--metrics-snapshot") + 1].decode()).parent
        assert snapshots.is_dir()
        hub.kill()  # SIGKILL: no handler of the parent runs
        wait_for_progress(
            lambda: {pid for pid in children if alive(pid)},
            lambda left: not left,
            what="the worker processes to exit after their parent died",
            interval=0.1,
        )
    finally:
        hub.stop()
    assert "the hub run process is gone: stopping" in (tmp_path / "hub.log").read_text()
    assert not snapshots.exists()  # the last child to go removed the metrics folder


def test_one_process_runs_the_worker_itself(tmp_path: Path) -> None:
    """``worker.processes: 1`` (the default): no children, the API process delivers."""
    hub = HubProcess(config_for(tmp_path, None, poll_interval_seconds=0.1), tmp_path / "hub.log")
    hub.start()
    try:
        ids = ingest(hub, 3, start=1)
        wait_delivered(hub, ids)
        assert hub.proc is not None
        assert children_of(hub.proc.pid) == set()
        assert metric(hub, "hub_worker_processes") == 0
        assert metric(hub, "hub_messages_delivered_total", ROUTE) == 3
    finally:
        hub.stop()


def niceness(pid: int) -> dict[int, int]:
    """The nice value of each thread of ``pid`` (field 19 of /proc/<pid>/task/<tid>/stat)."""
    found: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found[int(task.name)] = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
    return found


def autogroup_nice(pid: int) -> int | None:
    """The nice value of ``pid``'s autogroup, or None where there are no autogroups."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split("nice")[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.parametrize(
    ("worker", "count", "nice"),
    [
        ({"processes": 2, "nice": 7}, 2, 7),
        ({"own_process": True, "nice": 10}, 1, 10),  # one worker process
        ({"processes": 2}, 2, 0),  # the default: the same priority
    ],
)
def test_worker_nice_lowers_the_childrens_priority(
    tmp_path: Path, worker: dict[str, object], count: int, nice: int
) -> None:
    """``worker.nice``: every thread of each child runs that much below the API process, and so
    does the child's autogroup (the scheduler's unit between sessions); 0 leaves them equal."""
    hub = HubProcess(config_for(tmp_path, None, **worker), tmp_path / "hub.log")
    hub.start()
    try:
        assert hub.proc is not None
        parent = niceness(hub.proc.pid)[hub.proc.pid]
        children = wait_children(hub, count)
        ids = ingest(hub, 4, start=1)
        wait_delivered(hub, ids)  # the children are up and have started their threads
        assert metric(hub, "hub_worker_processes") == count
        for child in children:
            threads = niceness(child)
            assert len(threads) > 1
            assert set(threads.values()) == {parent + nice}, threads
            assert os.getpriority(os.PRIO_PROCESS, child) == parent + nice
            group = autogroup_nice(child)
            if group is not None:
                assert group == min(19, (autogroup_nice(hub.proc.pid) or 0) + nice)
    finally:
        hub.stop()
