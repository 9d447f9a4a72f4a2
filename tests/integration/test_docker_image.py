"""The Dockerfile, checked without a Docker engine: its layers' order, its ignore file, and
its CMD and HEALTHCHECK run as written, with the hub on the port $HUB_PORT names."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.configs import ROOT, demo_config, write_config
from tests.peers import free_port
from tests.waiting import wait_for_progress

pytestmark = pytest.mark.slow


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        keyword, _, arguments = (pending + line.strip()).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    return found


def index_of(keyword: str, starts: str) -> int:
    return next(
        n for n, (k, args) in enumerate(instructions()) if k == keyword and args.startswith(starts)
    )


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    assert (
        index_of("COPY", "pyproject.toml ")
        < index_of("RUN", "python -c")
        < index_of("COPY", ". ")
        < index_of("RUN", "pip install --no-cache-dir --no-deps .")
    )


def test_the_dependency_layer_lists_what_pyproject_declares(tmp_path: Path) -> None:
    """The layer's script runs on pyproject.toml alone (the only file copied before it)."""
    run = instructions()[index_of("RUN", "python -c")][1]
    script = run.split(" > /tmp/requirements.txt")[0].replace("python -c", f"{sys.executable} -c")
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    listed = subprocess.run(
        ["/bin/sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert listed == project["dependencies"] + project["optional-dependencies"]["postgres"]


def test_dockerignore_leaves_out_tests_and_local_state_but_not_what_the_build_needs() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {"tests", "benchmarks", "var", ".venv", ".git", ".pytest_cache"} <= ignored
    needed = {"pyproject.toml", "README.md", "hub", "connectors", "config.example.yaml"}
    assert not needed & ignored


def image_env() -> dict[str, str]:
    """The ENV instruction's variables (``KEY=VALUE`` pairs, values maybe quoted)."""
    arguments = instructions()[index_of("ENV", "")][1]
    return dict(pair.split("=", 1) for pair in shlex.split(arguments))


def example_auth() -> dict[str, Any]:
    """config.example.yaml's auth section, as written (with its ${...})."""
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    auth: dict[str, Any] = example["auth"]
    return auth


@pytest.fixture
def container_like(tmp_path: Path) -> Iterator[tuple[dict[str, str], subprocess.Popen[bytes]]]:
    """The image's CMD, as written, with its ENV, in a folder holding a config.example.yaml
    (the test's, with the example's auth section: the image listens on 0.0.0.0)."""
    config = demo_config(tmp_path, auth=example_auth())
    write_config(tmp_path, config, "config.example.yaml")
    env = {
        **os.environ,
        **image_env(),
        "HUB_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    cmd = json.loads(instructions()[index_of("CMD", "")][1])
    log = (tmp_path / "hub.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield env, proc
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def healthcheck(env: dict[str, str]) -> int:
    arguments = instructions()[index_of("HEALTHCHECK", "")][1]
    command = arguments.split(" CMD ", 1)[1]
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True).returncode


def test_cmd_serves_on_hub_port_and_the_healthcheck_asks_that_port(
    container_like: tuple[dict[str, str], subprocess.Popen[bytes]],
) -> None:
    env, proc = container_like
    url = f"http://127.0.0.1:{env['HUB_PORT']}/healthz"

    def answers() -> tuple[int | None, bool]:
        try:
            return proc.poll(), httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return proc.poll(), False

    exit_code, up = wait_for_progress(
        answers, lambda seen: seen[0] is not None or seen[1], what="the CMD to serve"
    )
    assert exit_code is None, "the CMD exited"
    assert up
    # exec: the hub itself is the process Docker started (PID 1 in a container), not a shell
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"run" in cmdline
    assert cmdline[cmdline.index(b"--port") + 1] == env["HUB_PORT"].encode()
    assert healthcheck(env) == 0
    assert healthcheck({**env, "HUB_PORT": str(free_port())}) != 0


def test_the_image_grants_anonymous_callers_only_what_a_public_address_allows(
    container_like: tuple[dict[str, str], subprocess.Popen[bytes]],
) -> None:
    """On 0.0.0.0 the example config would refuse to start with the demo's anonymous
    read:payload and operate; the image's HUB_ANONYMOUS_SCOPES lets it post orders only."""
    env, proc = container_like
    url = f"http://127.0.0.1:{env['HUB_PORT']}"
    wait_for_progress(
        lambda: _answers(f"{url}/healthz") or proc.poll() is not None,
        bool,
        what="the CMD to serve",
    )
    assert proc.poll() is None, "the CMD exited"
    order = (ROOT / "examples" / "woocommerce-order.json").read_bytes()
    posted = httpx.post(
        f"{url}/ingest/shop-orders", content=order, headers={"Content-Type": "application/json"}
    )
    assert posted.status_code == 202, posted.text
    assert httpx.get(f"{url}/messages").status_code == 401
    assert httpx.get(f"{url}/messages/{posted.json()['id']}/body").status_code == 401
    assert httpx.get(f"{url}/metrics").status_code == 200


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
