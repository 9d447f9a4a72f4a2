"""The installed distribution: its name (not another project's), version and entry points."""

from __future__ import annotations

import re
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import hub

ROOT = Path(__file__).resolve().parents[2]
NAME = "switchboard-hub"  # "switchboard" on PyPI is a feature flipper for Pyramid


def test_the_distribution_is_named_switchboard_hub() -> None:
    dist = distribution(NAME)
    assert dist.metadata["Name"] == NAME
    assert dist.version == hub.__version__
    assert hub.DISTRIBUTION == NAME
    owners = packages_distributions()
    assert NAME in owners["hub"]
    assert NAME in owners["connectors"]


def test_the_distribution_exposes_its_entry_points() -> None:
    points = {(ep.group, ep.name): ep.value for ep in distribution(NAME).entry_points}
    assert points[("console_scripts", "hub")] == "hub.cli.main:main"
    assert points[("hub.connectors", "http")] == "connectors.http:plugin"
    assert points[("hub.connectors", "file")] == "connectors.file:plugin"
    assert {name for group, name in points if group == "hub.codecs"} == {
        "json",
        "csv",
        "xml",
        "edifact",
        "x12",
    }
    assert points[("pytest11", "hub_sdk")] == "hub.sdk.pytest_plugin"


def test_no_file_tells_anyone_to_install_the_old_name() -> None:
    """`pip install switchboard` or `dependencies = ["switchboard"]` fetches another project."""
    old = re.compile(r"""pip install '?switchboard[\[' ]|"switchboard"[\],]|'switchboard\[""")
    files = [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "docs").glob("*.md"))]
    files += sorted((ROOT / "hub").rglob("*.py"))
    offending = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if old.search(line)
    ]
    assert offending == []
