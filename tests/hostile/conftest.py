"""The hostile-input suite: attacks against a real ``hub run`` process on loopback.

Every test here starts a hub, probes ``/healthz`` from a background thread for as long as
the attack runs, and checks that the hub stayed responsive (each probe answered within
``PROBE_LIMIT`` seconds) and lost nothing it accepted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import demo_config, write_config
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

#: The longest a /healthz probe may take while an attack runs: the attacks froze the hub for
#: 40 s to minutes; a hub on a machine loaded by other jobs answered in up to 1.2 s.
PROBE_LIMIT = 3.0


@dataclass
class HealthProbe:
    """Calls ``/healthz`` every ``interval`` seconds; remembers the slow and failed probes."""

    url: str
    interval: float = 0.1
    slow: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    probes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> HealthProbe:
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=PROBE_LIMIT * 5) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = client.get(f"{self.url}/healthz").status_code
                    if status != 200:
                        self.failed.append(f"/healthz answered {status}")
                except httpx.HTTPError as exc:
                    self.failed.append(f"/healthz failed: {exc!r}")
                took = time.monotonic() - started
                self.probes += 1
                if took > PROBE_LIMIT:
                    self.slow.append(round(took, 3))
                self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(PROBE_LIMIT * 10)

    def assert_responsive(self) -> None:
        assert self.probes > 0, "the health probe never ran"
        assert not self.failed, self.failed[:5]
        assert not self.slow, f"/healthz took longer than {PROBE_LIMIT}s: {self.slow[:10]}"


@dataclass
class RunningHub:
    """A ``hub run`` process under attack, with its probe and its folder."""

    process: HubProcess
    probe: HealthProbe
    folder: Path

    @property
    def url(self) -> str:
        return self.process.url

    def post(self, path: str, content: bytes, **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", content=content, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=60, **kwargs)


StartHub = Callable[..., RunningHub]


@pytest.fixture
def hostile_hub(tmp_path: Path) -> Iterator[StartHub]:
    """Start a hub on a config (the demo route by default, or one given); yields a starter.

    At the end of the test every hub started is checked for responsiveness, then stopped.
    """
    started: list[RunningHub] = []

    def start(config: dict[str, Any] | None = None, name: str = "hub") -> RunningHub:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        path = write_config(folder, config if config is not None else demo_config(folder))
        process = HubProcess(path, folder / "hub.log").start()
        hub = RunningHub(process, HealthProbe(process.url).start(), folder)
        started.append(hub)
        # the probe has answered once before the attack starts: a quick test still checks it
        wait_for_progress(lambda: hub.probe.probes, lambda n: n >= 1, what="the first probe")
        return hub

    try:
        yield start
        for hub in started:
            hub.probe.stop()
            hub.probe.assert_responsive()
    finally:
        for hub in started:
            hub.probe.stop()
            hub.process.stop()
