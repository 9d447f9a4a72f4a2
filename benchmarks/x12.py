"""X12 decoding with validation: the hub's x12 codec against pyx12, same file, same run.

    python -m benchmarks.x12 [--acks 2000] [--json]

The input is one 997 (004010) interchange acknowledging ``--acks`` 837 transaction sets
(AK2, every fifth one rejected with AK3 and AK4, AK5), the transaction set pyx12 ships a
map for among the hub's definitions (pyx12's maps are HIPAA implementation guides: none
for 850, 856 or 810). Both read it whole and check it against their definitions: pyx12's
``x12n_document`` (segment and element validation, no output documents) and the hub's
codec with ``structure`` and ``validate`` on (loops nested into ``body``, every element
checked). Both must accept the file. badx12 was the other candidate: it does not import
on Python 3.10+ (``collections.Iterable``), so it is not run.

The issue's target: the hub at least ``TARGET_RATIO`` times pyx12's rate; the exit status
is 1 when it is missed, when pyx12 is not installed (``pip install pyx12``), or when
either side refuses the file.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.formats.x12 import X12Codec

__all__ = ["TARGET_RATIO", "ack_interchange", "run"]

TARGET_RATIO = 5.0


def ack_interchange(acks: int) -> bytes:
    """A 997 acknowledging ``acks`` 837s, one segment a line."""
    body = ["AK1*HC*4711"]
    for n in range(1, acks + 1):
        body.append(f"AK2*837*{n:09d}")
        if n % 5 == 0:
            body += ["AK3*CLM*22*2300*8", "AK4*2*782*4*1234567.890"]
            body.append("AK5*R*5")
        else:
            body.append("AK5*A")
    rejected = acks // 5
    body.append(f"AK9*E*{acks}*{acks}*{acks - rejected}")
    segments = [
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PROVIDER       "
        "*261120*1405*U*00401*000000905*0*P*:",
        "GS*FA*CLEARINGHOUSE*PROVIDER*20261120*1405*905*X*004010X098A1",
        "ST*997*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*905",
        "IEA*1*000000905",
    ]
    return "".join(f"{s}~\n" for s in segments).encode("ascii")


def _best(fn: Callable[[], object], at_least: int = 2, seconds: float = 0.4) -> float:
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < at_least or time.perf_counter() - started < seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 20:
            break
    return min(times)


def _rate(size: int, seconds: float) -> dict[str, float]:
    return {"seconds": round(seconds, 5), "mb_per_s": round(size / seconds / 1e6, 3)}


def run(*, acks: int = 5000) -> dict[str, Any]:
    data = ack_interchange(acks)
    problems: list[str] = []
    codec = X12Codec()
    tree = codec.decode(data)  # raises when the hub refuses it
    transactions = len(tree["groups"][0]["messages"])
    hub_s = _best(lambda: codec.decode(data))
    report: dict[str, Any] = {
        "input": {"bytes": len(data), "acks": acks, "transaction_sets": transactions},
        "decode": {"hub": _rate(len(data), hub_s)},
        "meta": {"python": platform.python_version()},
        "problems": problems,
    }
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError:
        problems.append("pyx12 is not installed: pip install pyx12")
        return report
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)  # it logs every error it finds
    params = pyx12.params.params()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "acks.x12"
        path.write_bytes(data)

        def pyx12_decode() -> bool:
            return bool(pyx12.x12n_document.x12n_document(params, str(path), None, None))

        if not pyx12_decode():
            problems.append("pyx12 refuses the input")
        pyx12_s = _best(pyx12_decode, at_least=1, seconds=0.0)
    ratio = pyx12_s / hub_s
    report["decode"]["pyx12"] = _rate(len(data), pyx12_s)
    report["decode"]["ratio"] = round(ratio, 1)
    if ratio < TARGET_RATIO:
        problems.append(f"the hub is {ratio:.1f}x pyx12, the target is {TARGET_RATIO:g}x")
    return report


def table(report: dict[str, Any]) -> str:
    dec = report["decode"]
    size = report["input"]["bytes"]
    lines = [
        f"X12 decode with validation, one 997 of {report['input']['acks']} acknowledgements "
        f"({size / 1e6:.2f} MB, Python {report['meta']['python']})",
        f"  hub x12 codec   {dec['hub']['mb_per_s']:8.3f} MB/s  ({dec['hub']['seconds']:.4f} s)",
    ]
    if "pyx12" in dec:
        lines.append(
            f"  pyx12           {dec['pyx12']['mb_per_s']:8.3f} MB/s  "
            f"({dec['pyx12']['seconds']:.4f} s)"
        )
        lines.append(
            f"target: >= {TARGET_RATIO:g}x pyx12: "
            + ("met" if dec["ratio"] >= TARGET_RATIO else "MISSED")
            + f" ({dec['ratio']:.1f}x)"
        )
    if report["problems"]:
        lines.append("PROBLEMS: " + "; ".join(report["problems"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.x12",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--acks", type=int, default=5000, help="acknowledgements in the 997")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.acks < 1:
        parser.error("--acks must be at least 1")
    report = run(acks=args.acks)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
