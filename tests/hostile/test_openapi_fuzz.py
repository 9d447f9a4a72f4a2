"""The API against its own OpenAPI document: schemathesis, every check, every phase.

A real ``hub run`` on loopback serves three routes (the demo's JSON orders, an XML route
whose sink refuses every delivery, an EDIFACT route whose messages break their message
definitions), so ingest is fuzzed per input format and replay and discard meet real dead
letters. Schemathesis runs its examples, coverage, fuzzing and stateful phases with all its
checks, follows the document's links from an accepted message to the operations on it, and
must find nothing: every answer has a documented status, media type, headers and schema,
every valid request is accepted and every invalid one refused. The budget is fixed (examples
per operation, a seed), so the run is the same each time and takes well under two minutes.

The document states two things schemathesis cannot take from a schema, and the config here
says them (`_exceptions`); the hooks (:mod:`tests.hostile.openapi_hooks`) teach it the body
grammars the document names and a rule across two parameters. Nothing else is relaxed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.configs import ROOT, demo_config
from tests.hostile.conftest import StartHub
from tests.peers import free_port
from tests.processes import HubProcess
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow

#: Test cases per operation and phase; the run is deterministic for a seed.
MAX_EXAMPLES = 10
SEED = 20261130
#: Dead letters made before the run, so replay and discard have some from the start.
DEAD_LETTERS = 3


def fuzz_config(folder: Path) -> dict[str, Any]:
    """The demo route, an XML route that cannot deliver and an EDIFACT route that splits;
    no anonymous access: every call but the probes takes the run's key."""
    config = demo_config(folder, auth=None)
    outbox = {"name": "erp", "type": "file", "options": {"directory": str(folder / "outbox")}}
    no_retry = {"max_attempts": 1, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.1}
    config["routes"]["stock-xml"] = {
        "description": "stock reports; the warehouse system refuses every connection",
        "input": {"format": "xml"},
        "correlation": "report.id",
        "sinks": [
            {
                "name": "warehouse",
                "type": "http",
                "options": {"url": f"http://127.0.0.1:{free_port()}/stock", "timeout_seconds": 5},
            }
        ],
        "retry": no_retry,
    }
    config["routes"]["supplier-orders"] = {
        "description": "EDIFACT ORDERS; one message each, checked against D96A by the worker",
        "input": {"format": "edifact"},
        "split": True,
        "correlation": "messages[0].segments[1][2]",
        "output": {"format": "json"},
        "sinks": [outbox],
        "retry": no_retry,
    }
    return config


_WARNINGS = {
    "missing_auth",
    "missing_test_data",
    "base_url_mismatch",
    "validation_mismatch",
    "missing_deserializer",
    "unused_openapi_auth",
    "unsupported_regex",
    "method_not_allowed",
    "constants_extraction",
    "unmatched_filter",
    "unresolvable_reference",
    "low_valid_rate",
    "rate_limited",
    "dictionary_mismatch",
    "timeout_units",
}


def _exceptions() -> str:
    """What the document says in words that a schema cannot (see its descriptions)."""
    negative = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
    positive = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
    return f"""
# Any warning (missing test data, a schema that does not match what the API takes, ...)
# fails the run too.
warnings.fail-on = true

# A JSON document that breaks the route's input schema is accepted (202, or 200 for a
# repeated idempotency key) and dead-lettered by the worker, as POST /ingest/shop-orders
# says: the schema is checked after storing. A NUL character in the correlation key
# (`number`) is a 400 naming it, as its 400 says; the schema is the partner's, without it.
[[operations]]
include-path = "/ingest/shop-orders"
checks.negative_data_rejection.expected-statuses = {json.dumps([*negative, "200", "202"])}
generation.allow-x00 = false

# A preview's 422 answers about the mapping and the input (a mapping that does not fit, an
# input it cannot read), which a schema of the request cannot foresee: most generated
# previews are answered so. (Schemathesis hides its warning about that for an operation
# only with the one about missing test data, which a preview, storing nothing, has none of.)
[[operations]]
include-path = "/preview"
checks.positive_data_acceptance.expected-statuses = {json.dumps([*positive, "422"])}
warnings.display = {json.dumps(sorted(_WARNINGS - {"validation_mismatch", "missing_test_data"}))}
"""


def _admin_key(config: Path) -> str:
    """A key with every scope, made as a person would: ``hub keys create``."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "keys",
            "create",
            "fuzzer",
            "--scope",
            "admin",
            "-c",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _make_dead_letters(process: HubProcess, key: dict[str, str]) -> list[str]:
    ids = []
    for n in range(DEAD_LETTERS):
        body = f"<report><id>dead-{n}</id><sku>A-{n}</sku><quantity>{n}</quantity></report>"
        answer = httpx.post(
            f"{process.url}/ingest/stock-xml",
            content=body.encode(),
            headers={"Content-Type": "application/xml", **key},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    for message_id in ids:
        url = f"{process.url}/messages/{message_id}"
        wait_for_progress(
            lambda url=url: httpx.get(url, headers=key, timeout=30).json().get("status"),
            lambda status: status == "failed",
            what=f"{message_id} to be a dead letter",
        )
    return ids


def test_the_api_does_what_its_openapi_document_says(hostile_hub: StartHub, tmp_path: Path) -> None:
    hub = hostile_hub(fuzz_config(tmp_path / "hub"))
    token = _admin_key(hub.folder / "hub.yaml")
    key = {"Authorization": f"Bearer {token}"}
    _make_dead_letters(hub.process, key)
    settings = tmp_path / "schemathesis.toml"
    settings.write_text(_exceptions(), encoding="utf-8")
    report = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(settings),
        "run",
        f"{hub.url}/openapi.json",
        # the key in both headers it may come in: schemathesis fills in any header the
        # document's security schemes name, and two different keys are refused (401)
        "--header",
        f"Authorization: Bearer {token}",
        "--header",
        f"X-API-Key: {token}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.hostile.openapi_hooks",
        "PYTHONPATH": str(ROOT),
    }
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(output, encoding="utf-8")
    assert run.returncode == 0, output[-20000:]
    summary = json.loads(report.read_text(encoding="utf-8"))
    assert summary["operations"]["tested"] == summary["operations"]["total"] == 19, summary
    assert summary["test_cases"]["unique_failures"] == 0, summary
    assert all(phase["status"] == "success" for phase in summary["phases"].values()), summary
    assert not any(summary["warnings"].values()), summary["warnings"]
    # real ids were exercised: dead letters were replayed or discarded through the API
    assert _hand_made_changes(hub.url, key), output[-3000:]


def _hand_made_changes(url: str, key: dict[str, str]) -> list[dict[str, Any]]:
    """Every replay and discard the hub's audit trail has, over the API."""
    with httpx.Client(base_url=url, timeout=30, headers=key) as client:
        listed = client.get("/messages", params={"limit": 1000}).json()["messages"]
        return [e for m in listed for e in client.get(f"/messages/{m['id']}/audit").json()]
