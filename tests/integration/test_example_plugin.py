"""The example plugin under examples/ installs like a third-party package and passes the kit.

It is built and installed with pip (into a folder of the test's own, without touching the
project's environment), found through its entry points, and its own contract tests run from a
folder where only the installed copy can be imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.configs import ROOT

EXAMPLE = ROOT / "examples" / "hub-sqlite-outbox"


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_example_plugin_installs_registers_and_passes_the_contract_kit(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source)  # pip writes build files beside the sources
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(source),
        ],
        env,
        tmp_path,
    )
    env["PYTHONPATH"] = str(site)
    found = _run(
        [
            sys.executable,
            "-c",
            "from hub.plugins import connector_plugins as c; p = c(); "
            "print(p['sqlite-inbox'].source.__module__, p['sqlite-outbox'].sink.__name__)",
        ],
        env,
        tmp_path,
    )
    assert found.split() == ["hub_sqlite_outbox", "OutboxSink"]
    assert str(site) in _run(
        [sys.executable, "-c", "import hub_sqlite_outbox; print(hub_sqlite_outbox.__file__)"],
        env,
        tmp_path,
    )
    tests = tmp_path / "example-tests"
    shutil.copytree(EXAMPLE / "tests", tests)
    report = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'pt'}",
            "--rootdir",
            str(tests),
            str(tests),
        ],
        env,
        tmp_path,
    )
    assert "failed" not in report
    assert "skipped" not in report
    assert "31 passed" in report, report
