"""What tracing costs: messages/s ingested and delivered in one process, tracing off and on.

The same demo route (JSON order -> mapping -> JSON, a file sink) on SQLite, in the same run:
tracing off (the default, no OpenTelemetry imported), then on with the SDK's spans handed to
an in-memory exporter (the spans are built and ended as with OTLP, without the network).
Run: ``python -m benchmarks.tracing [--messages N]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from hub.runtime import Hub
from hub.sdk import InboundRequest

ROOT = Path(__file__).resolve().parent.parent
ORDER = json.loads((ROOT / "examples" / "woocommerce-order.json").read_text(encoding="utf-8"))


def _config(folder: Path) -> Path:
    config = {
        "store": {"url": f"sqlite:///{folder / 'hub.db'}"},
        "mappings": {"reload_seconds": 0},
        "files": {"allowed_roots": [str(ROOT / "mappings")]},
        "routes": {
            "orders": {
                "input": {"format": "json"},
                "correlation": "number",
                "mapping": str(ROOT / "mappings" / "woocommerce-order-to-erp.yaml"),
                "output": {"format": "json"},
                "sinks": [
                    {"name": "erp", "type": "file", "options": {"directory": str(folder / "out")}}
                ],
            }
        },
    }
    path = folder / "hub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _rate(messages: int, traced: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub.from_file(_config(Path(tmp)))
        if traced:
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )

            from hub.tracing_otel import OtelTracing

            tracing = OtelTracing.exporting_to("bench", InMemorySpanExporter())
            hub.tracing = hub.ingestor.tracing = hub.worker.tracing = tracing
        try:
            started = time.perf_counter()
            for number in range(messages):
                body = json.dumps({**ORDER, "id": number, "number": str(number)}).encode()
                hub.ingestor.ingest(InboundRequest(route="orders", body=body))
            while hub.worker.run_once():
                pass
            return messages / (time.perf_counter() - started)
        finally:
            hub.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    off = _rate(args.messages, traced=False)
    on = _rate(args.messages, traced=True)
    print(f"tracing, {args.messages} messages ingested and delivered in one process (SQLite)")
    print(f"  tracing off  {off:8.1f} messages/s")
    print(f"  tracing on   {on:8.1f} messages/s   ({on / off:.2f} x off)")


if __name__ == "__main__":
    main()
