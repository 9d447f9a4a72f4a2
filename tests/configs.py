"""Configs for tests: the demo route with absolute paths into a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORDER = ROOT / "examples" / "woocommerce-order.json"

#: What the loopback demo grants callers without a key (config.example.yaml does the same):
#: tests of other features call the API as anonymous; tests of auth pass their own ``auth``.
LOOPBACK_DEMO_AUTH: dict[str, Any] = {
    "anonymous": ["ingest", "read", "read:payload", "operate", "metrics"]
}


def demo_config(
    tmp: Path,
    *,
    store_url: str | None = None,
    sinks: list[dict[str, Any]] | None = None,
    worker: dict[str, Any] | None = None,
    retry: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = LOOPBACK_DEMO_AUTH,
) -> dict[str, Any]:
    return {
        "version": 1,
        **({"auth": auth} if auth is not None else {}),
        "server": server or {"host": "127.0.0.1", "port": 8080},
        "store": {"url": store_url or f"sqlite:///{tmp / 'hub.db'}"},
        "worker": worker or {"threads": 1, "poll_interval_seconds": 0.1, "lease_seconds": 30},
        # the shipped mappings are read from the project, outside the test's folder
        "files": {"allowed_roots": [str(ROOT / "mappings")]},
        "routes": {
            "shop-orders": {
                "source": {"type": "http"},
                "input": {
                    "format": "json",
                    "schema": str(ROOT / "schemas/json/woocommerce-order.schema.json"),
                },
                "correlation": "number",
                "mapping": str(ROOT / "mappings/woocommerce-order-to-erp.yaml"),
                "output": {
                    "format": "json",
                    "schema": str(ROOT / "schemas/json/erp-order.schema.json"),
                },
                "sinks": sinks
                or [{"name": "erp", "type": "file", "options": {"directory": str(tmp / "outbox")}}],
                "retry": retry
                or {"max_attempts": 5, "initial_delay_seconds": 0.1, "max_delay_seconds": 0.5},
            }
        },
    }


def write_config(tmp: Path, config: dict[str, Any], name: str = "hub.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
