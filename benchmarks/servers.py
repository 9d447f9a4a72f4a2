"""Start the servers under test as subprocesses on loopback, and always stop them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["CpuTimes", "ServerProcess", "free_port", "hub_command"]

HOST = "127.0.0.1"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def hub_command() -> list[str]:
    """``hub`` as installed next to this interpreter (the venv's console script)."""
    script = Path(sys.executable).with_name("hub")
    if script.exists():
        return [str(script)]
    found = shutil.which("hub")
    if found:
        return [found]
    return [sys.executable, "-m", "hub"]


@dataclass(frozen=True)
class CpuTimes:
    """User and system CPU seconds of one process (Linux /proc); zeros elsewhere."""

    user: float = 0.0
    system: float = 0.0

    @property
    def total(self) -> float:
        return self.user + self.system

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(self.user - other.user, self.system - other.system)


@dataclass
class ServerProcess:
    """A server subprocess whose output goes to ``log``; a context manager that kills it."""

    name: str
    argv: list[str]
    port: int
    log: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=lambda: _clean_env())
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # uvicorn shuts down; the hub stops its worker
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def cpu(self) -> CpuTimes:
        """CPU used so far by the server process (all its threads)."""
        if self.proc is None:
            return CpuTimes()
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return CpuTimes()
        fields = stat.rsplit(")", 1)[1].split()
        # after "pid (comm)": state is fields[0]; utime and stime are fields 11 and 12
        return CpuTimes(int(fields[11]) / _CLK_TCK, int(fields[12]) / _CLK_TCK)

    def tree_cpu(self) -> CpuTimes:
        """CPU used so far by the server and every process under it: the live ones, and the
        ended ones it has waited for (``hub run --workers N`` restarts and stops children)."""
        if self.proc is None:
            return CpuTimes()
        stats = _all_stats()
        tree = {self.proc.pid}
        grew = True
        while grew:
            found = {pid for pid, fields in stats.items() if int(fields[1]) in tree}
            grew = not found <= tree
            tree |= found
        user = system = 0.0
        for pid in tree:
            fields = stats.get(pid)
            if fields is not None:  # utime, stime, cutime, cstime
                user += (int(fields[11]) + int(fields[13])) / _CLK_TCK
                system += (int(fields[12]) + int(fields[14])) / _CLK_TCK
        return CpuTimes(user, system)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _all_stats() -> dict[int, list[str]]:
    """Every process's /proc stat fields after "pid (comm)" (state is [0], ppid [1])."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
    return stats


def _clean_env() -> dict[str, str]:
    """This environment without HUB_* overrides, so only the bench's config counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env
