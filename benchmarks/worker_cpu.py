"""Worker CPU for one large order: the demo route's stages, in-process, against the target.

    python -m benchmarks.worker_cpu [--lines 1000] [--runs 15] [--json]

A WooCommerce order with ``--lines`` line items (the example order's three items, repeated
with their own ids, skus and names) goes through the demo route of config.example.yaml as
the worker runs it: JSON decode -> input JSON Schema -> mapping to ORDERS D96A -> EDIFACT
encode. Each stage's CPU time (``time.thread_time``: this thread only, so other processes
on a shared machine do not count) is taken per run; the table shows the median and the
best of ``--runs`` runs after one warm-up run, and the total against ``TARGET_MS``.

The first run after the route is built is timed apart ("first message"): with the EDIFACT
definitions loaded at start it costs what the others cost. Beside each stage, in the same
run, the bare library doing that stage's core work: ``json.loads`` of the body, the
jsonschema validator alone (the error report path, which valid documents skip), and
pydifact writing the same interchange's segments. The mapping has its own benchmark
(benchmarks/mapping.py). The exit status is 1 when the median total misses the target.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from benchmarks.servers import free_port
from benchmarks.workload import DEMO_ROUTE, EXAMPLE_ORDER, REPO, bench_config
from hub.config import load_config
from hub.pipeline.build import compile_routes, warm_routes
from hub.pipeline.translate import Translator

__all__ = ["TARGET_MS", "large_order", "run", "table"]

TARGET_MS = 25.0
STAGES = ("decode", "validate", "map", "encode")


def large_order(lines: int) -> bytes:
    """The example order with ``lines`` line items, as the shop would POST it."""
    order: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    items = order["line_items"]
    out = []
    for n in range(lines):
        item = copy.deepcopy(items[n % len(items)])
        item["id"] = 1000 + n
        item["sku"] = f"{item['sku']}-{n:05d}"
        item["name"] = f"{item['name']} #{n}"
        out.append(item)
    order["line_items"] = out
    return json.dumps(order, ensure_ascii=False).encode("utf-8")


def _config(workdir: Path) -> Path:
    """The benchmark's copy of config.example.yaml, allowed to read the project's mappings."""
    config, _ = bench_config(workdir, port=free_port())
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["files"] = {"allowed_roots": [str(REPO)]}
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return config


def _stages(translator: Translator, body: bytes) -> tuple[dict[str, float], bytes]:
    """One message through the route's stages; CPU milliseconds of each, and the output."""
    clock = time.thread_time
    took: dict[str, float] = {}
    started = clock()
    tree = translator.input_codec.decode(body)
    took["decode"], started = (clock() - started) * 1000, clock()
    if translator.input_schema is not None:
        translator.input_schema.check(tree)
    took["validate"], started = (clock() - started) * 1000, clock()
    assert translator.mapping is not None
    mapped = translator.mapping.apply(tree)
    if translator.output_schema is not None:
        translator.output_schema.check(mapped)
    took["map"], started = (clock() - started) * 1000, clock()
    out = translator.output_codec.encode(mapped)
    took["encode"] = (clock() - started) * 1000
    return took, out


def _references(translator: Translator, body: bytes, out: bytes, runs: int) -> dict[str, float]:
    """Median CPU ms of the bare libraries on the same data (see the module docstring)."""
    import warnings

    from pydifact.control import Characters
    from pydifact.parser import Parser
    from pydifact.serializer import Serializer

    text = out.decode("latin-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydifact has no definitions for the directory
        segments = list(Parser().parse(text))
    serializer = Serializer(Characters.from_str(text[:9]))
    tree = json.loads(body)
    schema = translator.input_schema
    validator = Draft202012Validator(schema.document) if schema is not None else None
    jobs: dict[str, Any] = {
        "decode": lambda: json.loads(body),
        "encode": lambda: serializer.serialize(segments, with_una_header=True, break_lines=True),
    }
    if validator is not None:
        jobs["validate"] = lambda: list(validator.iter_errors(tree))
    found: dict[str, float] = {}
    for stage, job in jobs.items():
        took = []
        for _ in range(max(3, runs // 3)):
            started = time.thread_time()
            job()
            took.append((time.thread_time() - started) * 1000)
        found[stage] = round(statistics.median(took), 2)
    return found


def run(lines: int = 1000, runs: int = 15) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hub-worker-cpu-") as tmp:
        config = _config(Path(tmp))
        started = time.thread_time()
        routes = compile_routes(load_config(config)).routes
        build_ms = (time.thread_time() - started) * 1000
        started = time.thread_time()
        warm_routes(routes)
        warm_ms = (time.thread_time() - started) * 1000
        try:
            translator = routes[DEMO_ROUTE].translator
            body = large_order(lines)
            first, out = _stages(translator, body)
            reference = translator.translate(body).body  # the worker's own path agrees
            if out != reference:
                raise SystemExit("the staged run and Translator.translate differ")
            samples: list[dict[str, float]] = []
            gc.collect()
            for _ in range(runs):
                took, _out = _stages(translator, body)
                samples.append(took)
            references = _references(translator, body, out, runs)
        finally:
            for route in routes.values():
                route.close()
    stats = {
        stage: {
            "median_ms": round(statistics.median(s[stage] for s in samples), 2),
            "best_ms": round(min(s[stage] for s in samples), 2),
            "reference_ms": references.get(stage),
        }
        for stage in STAGES
    }
    totals = [sum(s.values()) for s in samples]
    total = {"median_ms": round(statistics.median(totals), 2), "best_ms": round(min(totals), 2)}
    return {
        "lines": lines,
        "body_bytes": len(body),
        "output_bytes": len(out),
        "runs": runs,
        "build_ms": round(build_ms, 1),
        "warm_ms": round(warm_ms, 1),
        "first_ms": round(sum(first.values()), 2),
        "first_encode_ms": round(first["encode"], 2),
        "stages": stats,
        "total": total,
        "target_ms": TARGET_MS,
        "ok": total["median_ms"] <= TARGET_MS,
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        f"a {results['lines']:,}-line order ({results['body_bytes']:,} bytes JSON -> "
        f"{results['output_bytes']:,} bytes EDIFACT), worker CPU per stage over "
        f"{results['runs']} runs",
        f"{'stage':>10} {'median ms':>10} {'best ms':>9} {'share':>6}   bare library (median)",
    ]
    total = results["total"]["median_ms"] or 1.0
    names = {"decode": "json.loads", "validate": "jsonschema", "encode": "pydifact"}
    for stage, figures in results["stages"].items():
        share = figures["median_ms"] / total
        reference = figures["reference_ms"]
        bare = (
            f"   {names[stage]} {reference:.2f} ms ({figures['median_ms'] / reference:.2f}x)"
            if reference
            else ""
        )
        rows.append(
            f"{stage:>10} {figures['median_ms']:>10.2f} {figures['best_ms']:>9.2f} "
            f"{share:>6.0%}{bare}"
        )
    rows.append(
        f"{'total':>10} {results['total']['median_ms']:>10.2f} {results['total']['best_ms']:>9.2f}"
    )
    rows.append(
        f"route built in {results['build_ms']:.1f} ms, definitions warmed in "
        f"{results['warm_ms']:.1f} ms; first message {results['first_ms']:.2f} ms "
        f"(encode {results['first_encode_ms']:.2f} ms)"
    )
    verdict = "ok" if results["ok"] else "MISSED"
    ratio = results["total"]["median_ms"] / results["target_ms"]
    rows.append(
        f"target: <= {results['target_ms']:.0f} ms of worker CPU (median): {verdict} "
        f"({ratio:.2f}x the target)"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1000, help="line items in the order")
    parser.add_argument("--runs", type=int, default=15, help="timed runs after the first")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.lines, args.runs)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
