"""The suite's own check: a hub at rest answers its probe, and the probe can see a failure."""

from __future__ import annotations

import time

import pytest

from tests.hostile.conftest import HealthProbe, StartHub

pytestmark = pytest.mark.slow


def test_a_hub_at_rest_is_responsive(hostile_hub: StartHub) -> None:
    hub = hostile_hub()
    deadline = time.monotonic() + 60
    while hub.probe.probes < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.probe.probes >= 5


def test_the_probe_reports_a_hub_that_does_not_answer() -> None:
    probe = HealthProbe("http://127.0.0.1:9", interval=0.01).start()  # discard port: refused
    deadline = time.monotonic() + 30
    while not probe.failed and time.monotonic() < deadline:
        time.sleep(0.01)
    probe.stop()
    with pytest.raises(AssertionError):
        probe.assert_responsive()
