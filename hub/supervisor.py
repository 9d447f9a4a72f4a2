"""``hub run --workers N``: N ``hub worker`` children beside the API process, kept running.

Why processes: one Python process delivers on one core at most (the GIL), however many worker
threads it has. Each child is ``hub worker`` on the same config file, so it is exactly what an
operator would start by hand, with three additions:

- **restarted**: a child that ends without being asked to is started again after a back-off
  (0.5 s, doubling up to 30 s; back to 0.5 s once a child has run for a minute). Its leased
  messages are recovered by the next worker that starts on this host (the lease holder's pid
  is gone), or by any worker once the lease lapses: nothing is lost;
- **woken**: each child reads the end of a pipe of its own; the API process writes a byte
  after each stored message, so an idle child claims it at once instead of at its next poll;
- **bound to the parent**: the API process holds the only write end of that pipe, so when it
  dies, even by SIGKILL, each child reads end-of-file and stops (it runs in a session of its
  own, so a terminal's Ctrl-C reaches the parent only, which then stops the children);
- **niced**: ``worker.nice`` lowers each child's scheduling priority (``lower_priority``), so
  on a busy machine accepting messages (the durable 202) comes before translating them.

Their metrics reach the API process's ``/metrics`` through snapshot files (hub/metrics_merge.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.logs import current_logging
from hub.metrics import HubMetrics
from hub.metrics_merge import Family, Retired, read_snapshot

__all__ = ["SNAPSHOT_SECONDS", "WorkerProcesses", "backoff", "follow_parent", "lower_priority"]

log = logging.getLogger("hub.supervisor")

#: How often a child writes its metrics snapshot (and once more when it stops).
SNAPSHOT_SECONDS = 1.0

#: A child that ran at least this long had no trouble starting: its next restart is quick.
STABLE_SECONDS = 60.0


def backoff(failures: int, first: float = 0.5, most: float = 30.0) -> float:
    """Seconds to wait before the next start after ``failures`` quick exits in a row."""
    return min(most, first * 2 ** max(0, failures - 1)) if failures else 0.0


@dataclass
class _Child:
    """One slot: the process in it now (if any) and when to start the next one."""

    slot: int
    proc: subprocess.Popen[bytes] | None = None
    wake_fd: int | None = None
    snapshot: Path | None = None
    started_at: float = 0.0
    failures: int = 0
    start_after: float = 0.0
    generation: int = 0


class WorkerProcesses:
    """Starts, wakes, restarts and stops ``count`` ``hub worker`` processes on ``config``."""

    def __init__(
        self,
        config: Path,
        count: int,
        metrics: HubMetrics,
        *,
        poll_seconds: float = 0.1,
        nice: int = 0,
    ) -> None:
        self.config = config.resolve()
        self.nice = nice
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self._children = [_Child(slot) for slot in range(count)]
        self._lock = threading.Lock()
        #: Guards the pipes' write ends: ingest threads write while a child is replaced, and
        #: a closed descriptor's number may be reused at once.
        self._pipes = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._folder = Path(tempfile.mkdtemp(prefix="hub-workers-"))
        self._retired = Retired()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            for child in self._children:
                self._spawn(child)
        self.metrics.children = self.snapshots
        self._thread = threading.Thread(target=self._watch, name="hub-supervisor", daemon=True)
        self._thread.start()
        log.info("started %d worker process(es): %s", len(self._children), self.pids())

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every child, wait for them (SIGKILL after ``timeout``), keep their counts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            running = [c for c in self._children if c.proc is not None]
            for child in running:
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
            deadline = time.monotonic() + timeout
            for child in running:
                proc = child.proc
                assert proc is not None
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("worker process %d did not stop; killing it", proc.pid)
                    proc.kill()
                    proc.wait()
                self._ended(child)
        self.metrics.worker_processes.set(0)

    def close(self) -> None:
        """After :meth:`stop`: the snapshot folder goes (its counts are kept in memory)."""
        shutil.rmtree(self._folder, ignore_errors=True)

    # -- what the API process calls ---------------------------------------------------

    def wake(self) -> None:
        """A message was stored: every idle child looks for work now (never blocks)."""
        with self._pipes:
            for child in self._children:
                if child.wake_fd is not None:
                    with contextlib.suppress(OSError):  # full: a wake-up is already waiting
                        os.write(child.wake_fd, b"\x01")

    def pids(self) -> list[int]:
        with self._lock:
            return [c.proc.pid for c in self._children if c.proc is not None]

    def snapshots(self) -> Iterator[list[Family]]:
        """The running children's series and the ended ones' totals, for ``/metrics``."""
        with self._lock:
            paths = [c.snapshot for c in self._children if c.snapshot is not None]
        for path in paths:
            yield read_snapshot(path)
        yield self._retired.families()

    # -- the watching thread ------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            with self._lock:
                if self._stop.is_set():
                    return
                for child in self._children:
                    self._look_after(child)

    def _look_after(self, child: _Child) -> None:
        now = time.monotonic()
        if child.proc is not None:
            code = child.proc.poll()
            if code is None:
                return
            lived = now - child.started_at
            child.failures = 1 if lived >= STABLE_SECONDS else child.failures + 1
            child.start_after = now + backoff(child.failures)
            log.warning(
                "worker process %d (slot %d) ended with %s after %.1f s; starting another "
                "in %.1f s",
                child.proc.pid,
                child.slot,
                _exit_text(code),
                lived,
                child.start_after - now,
            )
            self._ended(child)
            self.metrics.worker_restarts.inc()
        if now >= child.start_after:
            try:
                self._spawn(child)
            except OSError as exc:
                child.failures += 1
                child.start_after = now + backoff(child.failures)
                log.error("cannot start a worker process: %s", exc)

    def _spawn(self, child: _Child) -> None:
        child.generation += 1
        snapshot = self._folder / f"worker-{child.slot}-{child.generation}.json"
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        level, log_format = current_logging()
        env = {**os.environ, "HUB_LOG_LEVEL": level, "HUB_LOG_FORMAT": log_format}
        argv = [sys.executable, "-m", "hub", "worker", "--config", str(self.config)]
        argv += ["--wake-fd", str(read_end), "--metrics-snapshot", str(snapshot)]
        if self.nice:
            argv += ["--nice", str(self.nice)]
        try:
            proc = subprocess.Popen(
                argv,
                pass_fds=(read_end,),
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
            )
        except OSError:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)  # the child's now; the parent keeps only the write end
        with self._pipes:
            child.wake_fd = write_end
        child.proc, child.snapshot = proc, snapshot
        child.started_at = time.monotonic()
        self.metrics.worker_processes.set(self._running())

    def _ended(self, child: _Child) -> None:
        """Fold an ended child's last counts into the retired totals; free its slot."""
        if child.snapshot is not None:
            self._retired.add(read_snapshot(child.snapshot))
            with contextlib.suppress(FileNotFoundError):
                child.snapshot.unlink()
        with self._pipes:
            if child.wake_fd is not None:
                os.close(child.wake_fd)
            child.wake_fd = None
        child.proc, child.snapshot = None, None
        self.metrics.worker_processes.set(self._running())

    def _running(self) -> int:
        return sum(1 for c in self._children if c.proc is not None)


def _exit_text(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


# -- the child's side ----------------------------------------------------------------------


def follow_parent(fd: int, wake: Callable[[], None], parent_gone: Callable[[], None]) -> None:
    """In a child: call ``wake`` for each wake-up the parent writes, ``parent_gone`` at
    end-of-file (the parent has exited or died). Runs on a daemon thread of its own."""

    def read() -> None:
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError as exc:
                log.error("the wake pipe failed (%s): stopping, the supervisor restarts us", exc)
                data = b""
            if not data:
                log.warning("the hub run process is gone: stopping")
                parent_gone()
                return
            wake()

    threading.Thread(target=read, name="hub-wake-pipe", daemon=True).start()


def lower_priority(increment: int) -> None:
    """In a child, before it starts any thread: add ``increment`` to this process's nice value
    and to its session's autogroup's.

    Why both: on Linux the nice value orders threads only within one autogroup, and with
    autogroups on (``/proc/sys/kernel/sched_autogroup_enabled``) each session has its own;
    the child runs in a session of its own, so its nice value alone would not yield to the API
    process. Threads started afterwards inherit the nice value. Failures are logged, not fatal.
    """
    if increment <= 0:
        return
    try:
        os.nice(increment)
    except OSError as exc:
        log.warning("cannot lower this worker's priority (nice %+d): %s", increment, exc)
    autogroup = Path("/proc/self/autogroup")
    try:
        current = int(autogroup.read_text().split("nice")[1])
    except (OSError, IndexError, ValueError):
        return  # not Linux, or autogroups off: the nice value is enough
    wanted = min(19, current + increment)
    for _ in range(20):  # the kernel takes one autogroup change per 100 ms from a user
        try:
            autogroup.write_text(str(wanted))
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError as exc:
            log.warning("cannot lower this worker's autogroup priority: %s", exc)
            return
    log.warning("cannot lower this worker's autogroup priority: the kernel kept refusing")
