"""Start real ``hub run`` and ``hub worker`` processes for tests that kill or scrape them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.peers import free_port
from tests.waiting import wait_for_progress


def bare_worker(
    config: Path, log: Path, failpoint: str | None, *, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """``hub worker`` with no health port, to be killed by ``HUB_FAILPOINT`` (None: none)
    or stopped by the test; its output appended to ``log``."""
    env = dict(os.environ)
    env.pop("HUB_FAILPOINT", None)
    if failpoint is not None:
        env["HUB_FAILPOINT"] = failpoint
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "worker", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )


class HubProcess:
    """``hub run`` (API on ``url``) or ``hub worker`` (health and metrics on ``metrics_url``).

    ``start()`` returns once the process answers ``/healthz``; a worker gets a metrics port
    for that, so no test has to guess how long a worker takes to start.
    """

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_port = free_port()
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def start(self, command: str = "run", *extra: str) -> HubProcess:
        """Start ``hub <command>`` and return once it answers ``/healthz`` (``run`` on its
        API port, ``worker`` on its metrics port). A slow start is waited for as long as
        its log keeps growing (see tests/waiting.py); a process that exits fails at once.
        ``extra`` are more arguments of the command (``--workers 2``)."""
        if command == "run":
            args, health = ["--port", str(self.port)], f"{self.url}/healthz"
        else:
            args, health = ["--metrics-port", str(self.metrics_port)], f"{self.metrics_url}/healthz"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", command, "--config", str(self.config), *args, *extra],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env} if self.env is not None else None,
            )
        proc = self.proc

        def observe() -> tuple[int | None, int, bool]:
            return proc.poll(), self.log.stat().st_size, self._healthy(health)

        exit_code, _, _ = wait_for_progress(
            observe, lambda seen: seen[0] is not None or seen[2], what=f"hub {command} to start"
        )
        if exit_code is not None:
            raise AssertionError(f"hub {command} exited early:\n{self.log.read_text()}")
        return self

    @staticmethod
    def _healthy(url: str) -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

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
