"""Start real ``hub run`` and ``hub worker`` processes for tests that kill or scrape them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.peers import free_port


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

    def start(self, timeout: float = 20, command: str = "run") -> HubProcess:
        if command == "run":
            args, health = ["--port", str(self.port)], f"{self.url}/healthz"
        else:
            args, health = ["--metrics-port", str(self.metrics_port)], f"{self.metrics_url}/healthz"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", command, "--config", str(self.config), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env} if self.env is not None else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hub {command} exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"hub {command} did not start:\n{self.log.read_text()}")

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

    def wait_status(self, message_id: str, status: str, timeout: float = 20) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        body: dict[str, object] = {}
        while time.monotonic() < deadline:
            body = self.message(message_id)
            if body["status"] == status:
                return body
            time.sleep(0.1)
        raise AssertionError(f"message {message_id} is {body.get('status')}, not {status}")
