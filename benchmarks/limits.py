"""Decoders on hostile shapes: time at n and at 10n must grow ~10x (linear), not ~100x.

    python -m benchmarks.limits [--scale 1.0] [--json]

Each row decodes one adversarial shape at two sizes, n and 10n, with limits raised so
that the document is decoded, not refused, and prints both times and their ratio. A
linear decoder shows about 10; a quadratic one about 100. The last rows time the
refusal of issue 9's poison document (one XML element with 200,000 attributes) and of
a JSON document nested 100,000 deep under the default limits.

Each figure is the best of three runs. Tests never assert these times; this is where
linearity is shown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from hub.errors import LimitExceeded
from hub.formats.csv_codec import CsvCodec
from hub.formats.edifact import EdifactCodec, EdifactOptions
from hub.formats.json_codec import JsonCodec
from hub.formats.limits import DecodeLimits
from hub.formats.xml_codec import XmlCodec

__all__ = ["SHAPES", "run", "table"]

#: Limits high enough for every shape below: the rows time decoding, not refusing.
OPEN = DecodeLimits(
    max_depth=256,
    max_nodes=10**9,
    max_attributes=10**7,
    max_namespaces=10**6,
    max_string_length=10**9,
    max_segments=10**9,
    max_segment_elements=10**7,
    max_rows=10**9,
    max_columns=10**7,
)


def _xml_attributes(n: int) -> bytes:
    return b"<order " + b" ".join(b'a%d="v"' % i for i in range(n)) + b"/>"


def _xml_namespaced_attributes(n: int) -> bytes:
    attributes = b" ".join(b'p:a%d="v"' % i for i in range(n))
    return b'<order xmlns:p="urn:p">' + b"<line " + attributes + b"/></order>"


def _xml_deep(n: int) -> bytes:
    chain = b"<a>" * 100 + b"x" + b"</a>" * 100  # at the default max_depth
    return b"<r>" + chain * n + b"</r>"


def _xml_namespaces_in_scope(n: int) -> bytes:
    """255 namespaces declared at the root, then n children (element.nsmap per child
    would cost 255 each)."""
    declared = b" ".join(b'xmlns:n%d="urn:%d"' % (i, i) for i in range(255))
    return b"<r " + declared + b">" + b'<c n1:k="1"/>' * n + b"</r>"


def _xml_redeclaring(n: int) -> bytes:
    """Every child declares a namespace: a new scope per element."""
    declared = b" ".join(b'xmlns:n%d="urn:%d"' % (i, i) for i in range(200))
    return b"<r " + declared + b">" + b'<c xmlns:q="urn:q" q:k="1" n7:k="2"/>' * n + b"</r>"


def _json_deep(n: int) -> bytes:
    return b"[" + b",".join([b"[" * 99 + b"1" + b"]" * 99] * n) + b"]"


def _json_wide(n: int) -> bytes:
    return b"{" + b",".join(b'"k%d": [1, "x"]' % i for i in range(n)) + b"}"


def _csv_wide(n: int) -> bytes:
    header = b",".join(b"c%d" % i for i in range(n))
    return header + b"\r\n" + b",".join([b"x"] * n) + b"\r\n"


def _csv_long(n: int) -> bytes:
    return b"a,b\r\n" + b"1,x\r\n" * n


_UNB = b"UNA:+.? '\nUNB+UNOC:3+A+B+240101:1200+R1'\nUNH+1+ORDERS:D:96A:UN'\n"


def _edifact_segments(n: int) -> bytes:
    return _UNB + b"FTX+AAI+++TEXT'\n" * n + b"UNT+%d+1'\nUNZ+1+R1'\n" % (n + 2)


def _edifact_elements(n: int) -> bytes:
    return _UNB + b"FTX" + b"+x:y" * n + b"'\nUNT+3+1'\nUNZ+1+R1'\n"


_EDIFACT = EdifactCodec(EdifactOptions(structure=False, validate=False), limits=OPEN)

#: name -> (decode, make(n), n)
SHAPES: dict[str, tuple[Callable[[bytes], Any], Callable[[int], bytes], int]] = {
    "xml: attributes on one element": (XmlCodec(limits=OPEN).decode, _xml_attributes, 20_000),
    "xml: namespaced attributes": (
        XmlCodec(limits=OPEN).decode,
        _xml_namespaced_attributes,
        20_000,
    ),
    "xml: 100-deep chains": (XmlCodec(limits=OPEN).decode, _xml_deep, 200),
    "xml: 255 namespaces in scope": (XmlCodec(limits=OPEN).decode, _xml_namespaces_in_scope, 5_000),
    "xml: a new scope per element": (XmlCodec(limits=OPEN).decode, _xml_redeclaring, 5_000),
    "json: 100-deep chains": (JsonCodec(limits=OPEN).decode, _json_deep, 500),
    "json: keys of one object": (JsonCodec(limits=OPEN).decode, _json_wide, 20_000),
    "csv: columns": (CsvCodec(limits=OPEN).decode, _csv_wide, 20_000),
    "csv: rows": (CsvCodec(limits=OPEN).decode, _csv_long, 20_000),
    "edifact: segments": (_EDIFACT.decode, _edifact_segments, 20_000),
    "edifact: elements of one segment": (_EDIFACT.decode, _edifact_elements, 20_000),
}


def _best(decode: Callable[[bytes], Any], data: bytes, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.suppress(LimitExceeded):
            decode(data)
        best = min(best, time.perf_counter() - started)
    return best


def run(scale: float = 1.0) -> dict[str, Any]:
    rows = []
    for name, (decode, make, base) in SHAPES.items():
        n = max(1, int(base * scale))
        small, large = make(n), make(10 * n)
        t_small, t_large = _best(decode, small), _best(decode, large)
        rows.append(
            {
                "shape": name,
                "n": n,
                "bytes_10n": len(large),
                "seconds_n": t_small,
                "seconds_10n": t_large,
                "ratio": t_large / t_small if t_small else float("inf"),
            }
        )
    refusals = []
    poison = _xml_attributes(200_000)
    deep = b"[" * 100_000 + b"]" * 100_000
    for name, decode, data in (
        ("xml: 200,000 attributes (issue 9)", XmlCodec().decode, poison),
        ("json: nested 100,000 deep", JsonCodec().decode, deep),
    ):
        refusals.append({"document": name, "bytes": len(data), "seconds": _best(decode, data)})
    return {"linearity": rows, "refusals": refusals}


def table(report: dict[str, Any]) -> str:
    lines = [
        f"{'shape':<34} {'n':>7} {'10n bytes':>10} {'t(n) ms':>9} {'t(10n) ms':>10} {'ratio':>6}"
    ]
    for row in report["linearity"]:
        lines.append(
            f"{row['shape']:<34} {row['n']:>7} {row['bytes_10n']:>10} "
            f"{row['seconds_n'] * 1000:>9.1f} {row['seconds_10n'] * 1000:>10.1f} "
            f"{row['ratio']:>6.1f}"
        )
    lines.append("")
    lines.append(f"{'refused under the default limits':<42} {'bytes':>9} {'ms':>8}")
    for row in report["refusals"]:
        lines.append(f"{row['document']:<42} {row['bytes']:>9} {row['seconds'] * 1000:>8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every n")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report = run(args.scale)
    print(json.dumps(report, indent=2) if args.json else table(report))
    print(f"run took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
