"""Attacks through mappings and ``POST /preview`` on a running hub (issue 9).

Each attack once froze or crashed the hub: a huge number, deep nesting, a loop over a loop,
a preview that never ends. Now each is refused with a located 422 naming the limit, in
time, while ingest and ``/healthz`` stay answered (the fixture checks the probe), and a
runaway preview neither keeps ingest waiting nor holds the hub when it is told to stop.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import EXAMPLE_ORDER, demo_config
from tests.hostile.conftest import RunningHub, StartHub
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

#: A generous bound for what must be quick: an attack refused, an ingest answered.
PROMPT = 10.0

#: Stopping with a ten-minute mapping run in flight: a tenth of that run, however busy the machine.
STOP_PROMPT = 60.0

#: Every item sums every item: quadratic, and each run far longer than any test.
RUNAWAY = """\
name: runaway
vars:
  all: items[*].i
fields:
  totals:
    each: items
    fields:
      total: "sum($all)"
"""
#: Numeric texts: a sum of whole numbers is added in C and would finish the run in seconds.
RUNAWAY_INPUT = {"items": [{"i": str(i)} for i in range(20_000)]}


def _preview(hub: RunningHub, body: dict[str, Any], timeout: float = 120) -> httpx.Response:
    return httpx.post(f"{hub.url}/preview", json=body, timeout=timeout)


def _timed(hub: RunningHub, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = _preview(hub, body)
    return response, time.monotonic() - started


def _mapping(field: str) -> str:
    return f"name: attack\nfields:\n  x: {json.dumps(field)}\n"


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error["problems"][0] if error.get("problems") else error


def _limited_hub(hostile_hub: StartHub, tmp_path: Path, **mappings: Any) -> RunningHub:
    """A hub on the demo config with these ``mappings`` settings (limits, preview_workers)."""
    config = demo_config(tmp_path / "hub")
    config["mappings"] = {"reload_seconds": 0, **mappings}
    return hostile_hub(config)


@pytest.fixture
def hub(hostile_hub: StartHub) -> RunningHub:
    return hostile_hub()


def test_a_huge_number_is_refused_at_once(hub: RunningHub) -> None:
    """``'1e999999' * 1`` froze every request for 40 s (a million-digit integer)."""
    response, took = _timed(hub, {"mapping_text": _mapping("'1e999999' * 1"), "input": {}})
    problem = _problem(response)
    assert "out of range" in problem["message"], problem
    assert problem["where"] == "mapping_text rule x"
    assert took < PROMPT

    response, took = _timed(hub, {"mapping_text": _mapping("9" * 5000), "input": {}})
    problem = _problem(response)
    assert problem["message"] == "a number has more than 100 digits"
    assert problem["where"] == "mapping_text:3:7"


@pytest.mark.parametrize(
    ("expression", "column"),
    [
        ("(" * 50_000 + "1" + ")" * 50_000, 7 + 100),
        ("upper(" * 3_000 + "'a'" + ")" * 3_000, 7 + 6 * 100),
        (" + ".join(["1"] * 3_000), 7 + 4 * 100 - 2),
    ],
    ids=["50000-parentheses", "3000-calls", "3000-operators"],
)
def test_deep_expressions_are_refused_where_the_limit_is_crossed(
    hub: RunningHub, expression: str, column: int
) -> None:
    """50,000 parentheses gave a 500, 3,000 nested calls reset the connection."""
    response, took = _timed(hub, {"mapping_text": _mapping(expression), "input": {}})
    problem = _problem(response)
    assert problem["message"] == (
        "the expression nests deeper than 100 levels (parentheses, calls and operators)"
    )
    assert problem["where"] == f"mapping_text:3:{column}"
    assert took < PROMPT
    assert "Traceback" not in (hub.folder / "hub.log").read_text(encoding="utf-8")


def test_a_deeply_nested_mapping_file_is_refused(hub: RunningHub) -> None:
    nested = "name: deep\nfields:\n" + "".join(
        "  " * (level + 1) + f"f{level}:\n" + "  " * (level + 2) + "fields:\n"
        for level in range(200)
    )
    nested += "  " * 202 + "leaf: x\n"
    response = _preview(hub, {"mapping_text": nested, "input": {}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == "invalid YAML: the document nests deeper than 100 levels"
    assert error["where"].startswith("mapping_text:")


def test_an_alias_bomb_in_the_mapping_text_is_refused_at_once(hub: RunningHub) -> None:
    """Nine levels of nine aliases: 387 million values from ten lines of YAML."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]
    text = "name: bomb\nfields: {x: a}\nvars:\n" + "".join(f"  {line}\n" for line in lines)
    response, took = _timed(hub, {"mapping_text": text, "input": {}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("invalid YAML: its aliases (*name) expand it")
    assert took < PROMPT


def test_a_control_character_in_the_mapping_text_is_a_located_422(hub: RunningHub) -> None:
    """Was a 500: the YAML reader refused the character outside the error handling."""
    response = _preview(hub, {"mapping_text": "name: a\x01\nfields: {x: y}\n", "input": {}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == "invalid YAML: the character U+0001 is not allowed in a YAML file"
    assert error["where"] == "mapping_text:1:8"


LOOP_OVER_LOOP = """\
name: loops
fields:
  rows:
    each: items
    fields:
      cells:
        each: $root.items
        fields:
          a: i
          b: i
"""


@pytest.mark.parametrize("size", [100_000, 3_000])
def test_a_loop_over_a_loop_ends_at_the_values_limit(
    hostile_hub: StartHub, tmp_path: Path, size: int
) -> None:
    """1e5 x 1e5 items hung every ingest; building dicts ran the process out of memory."""
    hub = _limited_hub(hostile_hub, tmp_path, limits={"max_seconds": 600})  # values, not time
    items = {"items": [{"i": n} for n in range(size)]}
    response = _preview(hub, {"mapping_text": LOOP_OVER_LOOP, "input": items}, timeout=600)
    problem = _problem(response)
    assert problem["message"].endswith(
        "the run produces more than 5,000,000 values (limit mappings.limits.max_values)"
    ), problem
    assert problem["where"] == "mapping_text rule rows.cells"
    assert problem["hint"].startswith("raise mappings.limits.max_values")


def test_a_preview_past_its_time_is_a_422_naming_the_limit(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    hub = _limited_hub(hostile_hub, tmp_path, limits={"max_seconds": 1})
    response = _preview(hub, {"mapping_text": RUNAWAY, "input": RUNAWAY_INPUT})
    problem = _problem(response)
    assert problem["message"].endswith(
        "the run took longer than 1 s (limit mappings.limits.max_seconds)"
    ), problem
    assert problem["where"].startswith("mapping_text rule totals"), problem


class _Runaways:
    """Previews that would run for minutes, sent from threads; their answers collected."""

    def __init__(self, hub: RunningHub, count: int) -> None:
        self.hub = hub
        self.answers: list[int | str] = []
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._send, daemon=True, name=f"runaway-{n}")
            for n in range(count)
        ]

    def _send(self) -> None:
        try:
            response = _preview(
                self.hub, {"mapping_text": RUNAWAY, "input": RUNAWAY_INPUT}, timeout=600
            )
            status: int | str = response.status_code
            if status not in (200, 503):
                status = f"{status}: {response.text}"
        except httpx.HTTPError as exc:
            status = repr(exc)
        with self._lock:
            self.answers.append(status)

    def start(self) -> _Runaways:
        for thread in self.threads:
            thread.start()
        return self

    def count(self, status: int) -> int:
        with self._lock:
            return sum(1 for answer in self.answers if answer == status)


@pytest.fixture
def runaway_hub(hostile_hub: StartHub, tmp_path: Path) -> RunningHub:
    """A hub whose mapping runs may take ten minutes, with two preview workers."""
    return _limited_hub(hostile_hub, tmp_path, limits={"max_seconds": 600}, preview_workers=2)


def test_runaway_previews_do_not_keep_ingest_waiting(runaway_hub: RunningHub) -> None:
    hub = runaway_hub
    runaways = _Runaways(hub, 5).start()
    # two run (the preview workers); the other three are refused at once
    wait_for_progress(
        lambda: list(runaways.answers),
        lambda answers: len(answers) >= 3,
        what="extra previews refused",
    )
    assert runaways.answers == [503, 503, 503]
    order = EXAMPLE_ORDER.read_bytes()
    for number in range(3):
        started = time.monotonic()
        response = hub.post(
            "/ingest/shop-orders",
            order,
            headers={"Content-Type": "application/json", "Idempotency-Key": f"runaway-{number}"},
        )
        took = time.monotonic() - started
        assert response.status_code == 202, response.text
        assert took < PROMPT, f"ingest took {took:.1f} s while previews ran"
    message_id = response.json()["id"]
    hub.process.wait_status(message_id, "delivered")
    assert not runaways.answers.count(200)  # the two are still running


def test_stopping_the_hub_during_a_runaway_preview_is_prompt(
    hostile_hub: StartHub, tmp_path: Path
) -> None:
    hub = _limited_hub(hostile_hub, tmp_path, limits={"max_seconds": 600}, preview_workers=1)
    # two runaways for the one preview worker: one runs, the other is refused at once. (A
    # small preview as the probe raced the runaway: on a busy machine it could take the
    # worker first, have the runaway refused, and then never be refused itself.)
    runaways = _Runaways(hub, 2).start()
    wait_for_progress(
        lambda: list(runaways.answers),
        lambda answers: len(answers) >= 1,
        what="the second runaway preview refused",
    )
    assert runaways.answers == [503]
    proc = hub.process.proc
    assert proc is not None
    hub.probe.stop()  # the hub is going away: its probe would fail
    started = time.monotonic()
    proc.terminate()
    proc.wait(STOP_PROMPT * 2)
    took = time.monotonic() - started
    log = (hub.folder / "hub.log").read_text(encoding="utf-8")
    assert took < STOP_PROMPT, f"the hub took {took:.1f} s to stop"
    assert proc.returncode in (0, -15), log[-2000:]  # uvicorn re-raises the signal it caught
    for thread in runaways.threads:
        thread.join(30)
    assert runaways.answers == [503, 503], runaways.answers  # then "the hub is stopping"
    assert "cancelled 1 running preview(s)" in log
