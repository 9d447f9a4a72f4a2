"""Start real ``hub run`` processes for tests that kill them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.peers import free_port
from tests.waiting import wait_for_progress

WORKER_STARTED = re.compile(rb"worker \S+: \d+ route")


class HubProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, command: str = "run") -> HubProcess:
        """Start ``hub <command>`` and return once it is ready: ``run`` answers ``/healthz``,
        ``worker`` has logged that it runs. A slow start is waited for as long as its log
        keeps growing (see tests/waiting.py); a process that exits fails at once."""
        args = ["--port", str(self.port)] if command == "run" else []
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", command, "--config", str(self.config), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = self.proc

        def observe() -> tuple[int | None, int, bool]:
            ready = self._healthy() if command == "run" else self._logged_start(offset)
            return proc.poll(), self.log.stat().st_size, ready

        exit_code, _, _ = wait_for_progress(
            observe, lambda seen: seen[0] is not None or seen[2], what=f"hub {command} to start"
        )
        if exit_code is not None:
            raise AssertionError(f"hub {command} exited early:\n{self.log.read_text()}")
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def _logged_start(self, offset: int) -> bool:
        """``hub worker`` logs "worker <identity>: <n> route(s)" once its threads run."""
        with self.log.open("rb") as log:
            log.seek(offset)
            return WORKER_STARTED.search(log.read()) is not None

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, exactly like a crash."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def message(self, message_id: str) -> dict[str, object]:
        response = httpx.get(f"{self.url}/messages/{message_id}", timeout=5)
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body

    def wait_status(self, message_id: str, status: str) -> dict[str, object]:
        """The message once it has ``status``; any change to it (an attempt, an event)
        counts as progress."""
        return wait_for_progress(
            lambda: self.message(message_id),
            lambda body: body["status"] == status,
            what=f"message {message_id} to become {status}",
            interval=0.1,
        )
