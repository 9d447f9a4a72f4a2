"""Streaming a large XML file: peak memory must stay flat as the file grows.

Each size runs in a fresh process so its peak resident memory (ru_maxrss) is its
own; the bare lxml ``iterparse`` loop with element clearing is the floor.
Then an *invalid* file (stock-report.xsd, one bad quantity per 50,000 items) streamed
with the XSD: the hub places every violation (line and path) in bounded memory,
beside lxml loading it whole and validating (what placing them used to cost).
Run: ``python -m benchmarks.xml_stream [--sizes 25,100] [--invalid-mb 45]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RECORD = (
    '  <Item sku="SKU-{n:08d}"><Name>Schraube M6x40 verzinkt {n}</Name>'
    '<Warehouse>A-01-03</Warehouse><Quantity unit="EA">{q}</Quantity>'
    "<Updated>2026-11-20T14:05:51Z</Updated></Item>\n"
)

_CHILD = r"""
import json, resource, sys, time
path, mode = sys.argv[1], sys.argv[2]
start = time.perf_counter()
count = 0
if mode == "hub":
    from hub.formats.xml_codec import iter_records
    for _record in iter_records(__import__("pathlib").Path(path), "Item"):
        count += 1
else:
    from lxml import etree
    for _event, element in etree.iterparse(path, tag="Item", resolve_entities=False):
        count += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
seconds = time.perf_counter() - start
print(json.dumps({"records": count, "seconds": seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


_INVALID_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
path, mode, xsd = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if mode == "hub":
    from hub.errors import SchemaValidationError
    from hub.formats.xml_codec import XmlCodec, XmlOptions
    codec = XmlCodec(XmlOptions(xsd=Path(xsd), max_bytes=1 << 30))
    try:
        for _record in codec.iter_records(Path(path), "Item"):
            pass
        placed = []
    except SchemaValidationError as exc:
        placed = [p.where for p in exc.problems]
else:
    from lxml import etree
    schema = etree.XMLSchema(etree.parse(xsd))
    schema.validate(etree.parse(path, etree.XMLParser(resolve_entities=False)))
    placed = [f"line {e.line}" for e in schema.error_log]
seconds = time.perf_counter() - start
print(json.dumps({"placed": placed, "seconds": seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
XSD = Path(__file__).resolve().parent.parent / "schemas" / "xsd" / "stock-report.xsd"
VALID = Path(__file__).resolve().parent.parent / "tests" / "data" / "xml" / "stock-report.xml"


def write_invalid(path: Path, megabytes: float) -> int:
    """A stock report for stock-report.xsd with one bad quantity per 50,000 items."""
    data = VALID.read_bytes()
    item = data[data.index(b"<Item") : data.rindex(b"</Item>") + 7]
    bad = item.replace(b">1200<", b">lots<", 1)
    count = int(megabytes * 1024 * 1024) // len(item)
    with path.open("wb") as out:
        out.write(data[: data.index(b"<Item")])
        for n in range(count):
            out.write(bad if n % 50_000 == 49_999 else item)
        out.write(b"</StockReport>\n")
    return count // 50_000


def invalid(megabytes: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hub-xml-bench-") as tmp:
        path = Path(tmp) / "invalid.xml"
        violations = write_invalid(path, megabytes)
        for mode in ("hub", "lxml"):
            done = subprocess.run(
                [sys.executable, "-c", _INVALID_CHILD, str(path), mode, str(XSD)],
                capture_output=True,
                text=True,
                check=True,
                timeout=900,
            )
            result = json.loads(done.stdout)
            placed = result.pop("placed")
            assert len(placed) == violations, (mode, placed, violations)
            assert all(placed), (mode, placed)
            size = path.stat().st_size / 1024 / 1024
            rows.append({"size_mb": round(size, 1), "mode": mode, "placed": len(placed), **result})
    return rows


def write_file(path: Path, megabytes: float) -> int:
    target = int(megabytes * 1024 * 1024)
    written, n = 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<StockReport>\n')
        while written < target:
            chunk = "".join(RECORD.format(n=n + i, q=(n + i) % 997) for i in range(1000))
            out.write(chunk)
            written += len(chunk)
            n += 1000
        out.write("</StockReport>\n")
    return n


def measure(path: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run(sizes: tuple[float, ...] = (25.0, 100.0)) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hub-xml-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"stock-{size:g}.xml"
            records = write_file(path, size)
            mb = path.stat().st_size / 1024 / 1024
            for mode in ("hub", "lxml"):
                result = measure(path, mode)
                assert result["records"] == records, (mode, result["records"], records)
                rows.append(
                    {
                        "size_mb": round(mb, 1),
                        "mode": mode,
                        **result,
                        "mb_per_s": mb / result["seconds"],
                    }
                )
            path.unlink()
    return {"rows": rows}


def table(report: dict[str, Any]) -> str:
    lines = [
        "XML streaming (iter_records, one process per run)",
        f"{'file MB':>8} {'reader':<6} {'records':>9} {'MB/s':>7} {'peak RSS MB':>12}",
    ]
    for row in report["rows"]:
        lines.append(
            f"{row['size_mb']:8.1f} {row['mode']:<6} {row['records']:9d} "
            f"{row['mb_per_s']:7.1f} {row['peak_rss_mb']:12.1f}"
        )
    hub_rows = [r for r in report["rows"] if r["mode"] == "hub"]
    if len(hub_rows) >= 2:
        small, large = hub_rows[0], hub_rows[-1]
        growth = large["peak_rss_mb"] - small["peak_rss_mb"]
        lines.append(
            f"hub peak memory grows {growth:+.1f} MB while the file grows "
            f"{large['size_mb'] - small['size_mb']:.0f} MB"
        )
    for row in report.get("invalid", []):
        if row is report["invalid"][0]:
            lines.append("Invalid file streamed with the XSD: every violation placed (line, path)")
            lines.append(f"{'file MB':>8} {'reader':<6} {'placed':>9} {'s':>7} {'peak RSS MB':>12}")
        reader = "hub" if row["mode"] == "hub" else "whole"
        lines.append(
            f"{row['size_mb']:8.1f} {reader:<6} {row['placed']:9d} "
            f"{row['seconds']:7.1f} {row['peak_rss_mb']:12.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="25,100", help="file sizes in MB, comma-separated")
    parser.add_argument("--invalid-mb", type=float, default=45.0, help="0: skip that part")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(tuple(float(s) for s in args.sizes.split(",")))
    if args.invalid_mb:
        report["invalid"] = invalid(args.invalid_mb)
    print(table(report))
    print(f"run took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
