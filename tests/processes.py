"""Start real ``hub run`` processes for tests that kill them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.peers import free_port


class HubProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20, command: str = "run") -> HubProcess:
        args = ["--port", str(self.port)] if command == "run" else []
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub", command, "--config", str(self.config), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if command != "run":
            time.sleep(1.0)  # no HTTP port to poll; give it a moment, then check it lives
            if self.proc.poll() is not None:
                raise AssertionError(f"hub {command} exited early:\n{self.log.read_text()}")
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"hub did not start:\n{self.log.read_text()}")

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
