"""The payloads and the hub config the benchmark runs against."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEMO_ROUTE", "EXAMPLE_ORDER", "REPO", "bench_config", "order_bodies"]

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "config.example.yaml"
EXAMPLE_ORDER = REPO / "examples" / "woocommerce-order.json"
DEMO_ROUTE = "shop-orders"


def order_bodies(count: int, *, first_number: int) -> list[bytes]:
    """``count`` copies of the example order, each with its own order number (correlation key)."""
    order: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    bodies: list[bytes] = []
    for offset in range(count):
        number = first_number + offset
        copy_ = copy.copy(order)  # only top-level keys change
        copy_["id"] = number
        copy_["number"] = str(number)
        bodies.append(json.dumps(copy_, ensure_ascii=False).encode("utf-8"))
    return bodies


def bench_config(
    workdir: Path, *, port: int, worker: bool = True, worker_settings: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write a copy of config.example.yaml into ``workdir`` with its own store and outbox.

    Every path in it is absolute, so nothing depends on where the run starts.
    ``worker=False`` turns the delivery worker off, to time ingest alone;
    ``worker_settings`` overrides keys of the ``worker`` section (a variant of the hub's run).
    Returns (config path, outbox directory of the demo route's file sink).
    """
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    base = EXAMPLE_CONFIG.parent
    data["server"] = {**data.get("server", {}), "host": "127.0.0.1", "port": port}
    data["store"] = {**data.get("store", {}), "url": f"sqlite:///{workdir / 'hub.db'}"}
    if not worker:
        data["worker"] = {**data.get("worker", {}), "enabled": False}
    if worker_settings:
        data["worker"] = {**data.get("worker", {}), **worker_settings}
    for each in data["routes"].values():  # every route's files, as the example names them
        _absolute_files(base, each)
    route = data["routes"][DEMO_ROUTE]
    # the project's mappings and schemas lie outside the run's folder: let the hub read them
    files = data.setdefault("files", {})
    files["allowed_roots"] = [str(REPO / "mappings"), str(REPO / "schemas")]
    outbox = workdir / "outbox"
    file_sinks = [s for s in route["sinks"] if s.get("type") == "file"]
    if len(file_sinks) != 1 or len(route["sinks"]) != 1:
        raise RuntimeError(f"expected the {DEMO_ROUTE} route to have exactly one file sink")
    file_sinks[0].setdefault("options", {})["directory"] = str(outbox)
    config = workdir / "hub.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config, outbox


def _absolute_files(base: Path, route: dict[str, Any]) -> None:
    """The files a route names (schemas, mapping, schematron, xsd) made absolute in place."""
    for side in ("input", "output"):
        part = route.get(side, {})
        if part.get("schema"):
            part["schema"] = str(_absolute(base, part["schema"]))
        options = part.get("options") or {}
        for key in ("schematron", "xsd"):
            if isinstance(options.get(key), str):
                options[key] = str(_absolute(base, options[key]))
    if route.get("mapping"):
        route["mapping"] = str(_absolute(base, route["mapping"]))


def _absolute(base: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else (base / path).resolve()
