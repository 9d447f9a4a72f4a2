"""A message whose turn never ends (a partner that trickles its answer forever, a worker
killed again and again) is counted when its turn starts: after the route's max_attempts it
is a poison dead letter, the hub answers /healthz throughout, and a restart does not run
it again."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import RunningHub, StartHub
from tests.peers import TricklePeer, trickle_peer
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow


@pytest.fixture
def stalling_partner() -> Iterator[TricklePeer]:
    with trickle_peer(interval=0.2) as peer:
        yield peer


def config(folder: Path, partner: TricklePeer, *, budget: float, max_attempts: int) -> Any:
    """The demo route delivering to the stalling partner, beside a route to a folder."""
    cfg = demo_config(
        folder,
        sinks=[{"name": "partner", "type": "http", "options": {"url": partner.url}}],
        worker={
            "threads": 1,
            "poll_interval_seconds": 0.1,
            "lease_seconds": 30,
            "turn_budget_seconds": budget,
        },
        retry={
            "max_attempts": max_attempts,
            "initial_delay_seconds": 0.1,
            "max_delay_seconds": 0.2,
        },
    )
    files = dict(cfg["routes"]["shop-orders"])
    files["sinks"] = [
        {"name": "erp", "type": "file", "options": {"directory": str(folder / "outbox")}}
    ]
    cfg["routes"]["files"] = files
    return cfg


def post_order(hub: RunningHub, route: str = "shop-orders", number: str = "727") -> str:
    body = EXAMPLE_ORDER.read_text(encoding="utf-8").replace(
        '"number": "727"', f'"number": "{number}"'
    )
    response = hub.post(
        f"/ingest/{route}", body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["id"]
    return message_id


def wait_for_requests(partner: TricklePeer, count: int) -> None:
    wait_for_progress(partner.count, lambda n: n >= count, what=f"{count} requests at the partner")


def metric(hub: RunningHub, name: str) -> float:
    text = hub.get("/metrics").text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def kill(hub: RunningHub) -> None:
    """kill -9, once its probe has had its say about this life of the hub."""
    wait_for_progress(lambda: hub.probe.probes, lambda n: n > 0, what="a health probe")
    hub.probe.stop()
    hub.process.kill()


def still_quarantined(hub: RunningHub, poison_id: str, partner: TricklePeer, sent: int) -> None:
    """After a restart the hub delivers other messages and leaves the poison alone."""
    other = post_order(hub, "files", "900")
    hub.process.wait_status(other, "delivered")
    message = hub.process.message(poison_id)
    assert message["status"] == "failed"
    assert partner.count() == sent


def test_a_turn_that_stalls_every_time_becomes_a_poison_dead_letter(
    hostile_hub: StartHub, stalling_partner: TricklePeer, tmp_path: Path
) -> None:
    cfg = config(tmp_path / "hub", stalling_partner, budget=1.5, max_attempts=2)
    hub = hostile_hub(cfg)
    message_id = post_order(hub)

    message = hub.process.wait_status(message_id, "failed")
    assert stalling_partner.count() == 2  # max_attempts turns, not one per lease period
    error = message["error"]
    assert isinstance(error, dict)
    assert (error["stage"], error["type"]) == ("process", "poison")
    assert error["message"].startswith(
        "poison: 2 attempts did not finish (the worker died or stalled each time); last holder "
    )
    events = message["events"]
    assert isinstance(events, list)
    kinds = [e["kind"] for e in events if e["kind"] in ("turn", "abandoned", "failed")]
    assert kinds == ["turn", "abandoned", "turn", "abandoned", "failed"]
    abandoned = [e["detail"] for e in events if e["kind"] == "abandoned"]
    assert all("worker.turn_budget_seconds (1.5 s)" in detail for detail in abandoned)
    holders = [e["data"]["worker"] for e in events if e["kind"] == "turn"]
    assert holders[1] != holders[0]  # the stuck thread was replaced by a new one
    assert error["message"].endswith(f"last holder {holders[1]}")
    assert metric(hub, 'hub_turns_abandoned_total{route="shop-orders"}') == 2
    assert metric(hub, 'hub_messages_failed_total{route="shop-orders",stage="process"}') == 1
    assert metric(hub, "hub_worker_threads_stuck") == 2  # still waiting on the partner

    stalling_partner.release()  # the stuck calls return; their late outcome changes nothing
    wait_for_progress(
        lambda: metric(hub, "hub_worker_threads_stuck"), lambda n: n == 0, what="stuck threads"
    )
    assert hub.process.message(message_id)["status"] == "failed"
    still_quarantined(hub, message_id, stalling_partner, sent=2)  # the worker still works

    kill(hub)
    restarted = hostile_hub(cfg, name="restarted")
    still_quarantined(restarted, message_id, stalling_partner, sent=2)


def test_a_message_that_kills_its_worker_every_time_is_not_run_again_after_a_restart(
    hostile_hub: StartHub, stalling_partner: TricklePeer, tmp_path: Path
) -> None:
    """Each turn is cut short by kill -9 (the budget is far away): the attempts are counted
    when the turns start, so the third life of the hub dead-letters the message at once."""
    cfg = config(tmp_path / "hub", stalling_partner, budget=600, max_attempts=2)
    hub = hostile_hub(cfg, name="first")
    message_id = post_order(hub)
    for life, sent in (("second", 1), ("third", 2)):
        wait_for_requests(stalling_partner, sent)  # the turn is in flight
        kill(hub)
        hub = hostile_hub(cfg, name=life)

    message = hub.process.wait_status(message_id, "failed")
    error = message["error"]
    assert isinstance(error, dict)
    assert (error["stage"], error["type"]) == ("process", "poison")
    assert (
        "poison: 2 attempts did not finish (the worker died or stalled each time)"
        in (error["message"])
    )
    events = message["events"]
    assert isinstance(events, list)
    kinds = [e["kind"] for e in events if e["kind"] in ("turn", "recovered", "failed")]
    assert kinds == ["turn", "recovered", "turn", "recovered", "failed"]
    assert message["attempts"] == 2
    still_quarantined(hub, message_id, stalling_partner, sent=2)


def test_a_cpu_bound_turn_past_its_budget_does_not_stop_the_api(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    """An order with 20,000 lines (8 MB) takes most of a second of pure-Python decoding and mapping,
    far past a 0.1 s budget: the watchdog cannot stop such a thread, but it stops waiting
    for it; the API answers throughout (the interpreter lock is handed over every few
    milliseconds), and the message ends as a dead letter within max_attempts."""
    folder = tmp_path / "hub"
    cfg = demo_config(
        folder,
        worker={
            "threads": 1,
            "poll_interval_seconds": 0.1,
            "lease_seconds": 30,
            "turn_budget_seconds": 0.1,
        },
        retry={"max_attempts": 2, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.2},
    )
    hub = hostile_hub(cfg)
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["line_items"] = [{**order["line_items"][0], "id": 100_000 + n} for n in range(20_000)]
    response = hub.post(
        "/ingest/shop-orders",
        json.dumps(order).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 202, response.text
    message_id = response.json()["id"]

    message = hub.process.wait_status(message_id, "failed")
    error = message["error"]
    assert isinstance(error, dict)
    # Either the watchdog gave up on both turns (poison), or a turn slowed down by the
    # stuck one saw its own deadline at the end of a stage first (over_budget).
    assert error["stage"] == "process"
    assert error["type"] in ("poison", "over_budget")
    wait_for_progress(
        lambda: metric(hub, "hub_worker_threads_stuck"), lambda n: n == 0, what="stuck threads"
    )
    final = hub.process.message(message_id)
    assert final["status"] == "failed"
    events = final["events"]
    assert isinstance(events, list)
    kinds = [e["kind"] for e in events]
    assert 1 <= kinds.count("turn") <= 2  # max_attempts
    assert kinds.count("lease_lost") == kinds.count("abandoned")  # late, and changed nothing
    if error["type"] == "poison":
        assert kinds.count("abandoned") == 2
