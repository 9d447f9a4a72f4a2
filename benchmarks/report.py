"""Turn a benchmark report (the dict written to results/latest.json) into text."""

from __future__ import annotations

from typing import Any

from benchmarks.variants import HUB_VARIANTS

__all__ = ["problems", "ratios", "table"]

NAN = float("nan")


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else NAN


def ratios(floor: dict[str, Any], hub: dict[str, Any]) -> dict[str, float]:
    """hub / floor: below 1 for throughput means slower, above 1 for latency means slower."""
    f, h = floor["ingest"], hub["ingest"]
    found = {
        "ingest_throughput": _ratio(h["messages_per_s"], f["messages_per_s"]),
        "p50_latency": _ratio(h["latency_ms"]["p50"], f["latency_ms"]["p50"]),
        "p99_latency": _ratio(h["latency_ms"]["p99"], f["latency_ms"]["p99"]),
        "server_cpu_per_msg": _ratio(h["server_cpu_ms_per_msg"], f["server_cpu_ms_per_msg"]),
    }
    if "end_to_end" in hub:
        found["delivered_over_floor_ingest"] = _ratio(
            hub["end_to_end"]["delivered_per_s"], f["messages_per_s"]
        )
    return found


_ROWS = (
    ("floor", "floor (FastAPI+SQLite)"),
    ("floor_serialized", "floor, writes serialized"),
    ("hub_ingest_only", "hub, worker off"),
    *((key, label) for key, label, _ in HUB_VARIANTS),
)
#: Issue 11's end-to-end targets: ingest >= 0.8x the floor with p99 no worse (<= 1x), and
#: delivered/s >= 0.4x the floor's requests/s with everything delivered.
INGEST_TARGET, P99_TARGET, DELIVERED_TARGET = 0.8, 1.0, 0.4


def _verdict(r: dict[str, float], complete: bool) -> str:
    a = r["ingest_throughput"] >= INGEST_TARGET and r["p99_latency"] <= P99_TARGET
    b = r["delivered_over_floor_ingest"] >= DELIVERED_TARGET and complete
    return f"(a) {'met' if a else 'not met'}, (b) {'met' if b else 'not met'}"


def _rounds(report: dict[str, Any]) -> list[str]:
    """The floor and the example's hub run in turn: each round's ratios, and the verdict on
    their median (one round on a shared machine can be 30% off the next)."""
    rounds, median = report.get("rounds", []), report.get("ratios_median")
    if len(rounds) < 2 or median is None:
        return []

    def each(name: str) -> str:
        return ", ".join(f"{r['ratios'][name]:.2f}" for r in rounds)

    floors = ", ".join(f"{r['floor_per_s']:.0f}" for r in rounds)
    hubs = ", ".join(f"{r['hub_per_s']:.0f}" for r in rounds)
    complete = all(r["complete"] for r in rounds)
    return [
        f"hub (shop-orders) / floor in {len(rounds)} rounds run in turn (floor {floors}, hub "
        f"{hubs} msg/s): "
        f"ingest {each('ingest_throughput')}x (median {median['ingest_throughput']:.2f}x); "
        f"p99 {each('p99_latency')}x (median {median['p99_latency']:.2f}x); delivered "
        f"{each('delivered_over_floor_ingest')}x (median "
        f"{median['delivered_over_floor_ingest']:.2f}x)",
        f"judged on the medians: {_verdict(median, complete)}",
    ]


def _row(label: str, run: dict[str, Any]) -> str:
    ing = run["ingest"]
    e2e = run.get("end_to_end")
    delivered = "-"
    if e2e:
        delivered = f"{e2e['delivered_per_s']:.1f}" + ("" if e2e["complete"] else "*")
    return (
        f"{label:<27}{ing['messages_per_s']:>12.1f}{ing['latency_ms']['p50']:>9.1f}"
        f"{ing['latency_ms']['p99']:>9.1f}{delivered:>13}{ing['server_cpu_ms_per_msg']:>12.2f}"
    )


def table(report: dict[str, Any]) -> str:
    meta, hub, r = report["meta"], report["hub"], report["ratios"]
    head = (
        f"{'':<27}{'ingest msg/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'delivered/s':>13}{'CPU ms/msg':>12}"
    )
    rule = "-" * len(head)
    lines = [
        f"Switchboard benchmark: {meta['messages']} messages x {meta['payload_bytes']} B, "
        f"{meta['concurrency']} {meta['client']} clients, {meta['cpus']} CPUs, "
        f"python {meta['python']}, sqlite {meta['sqlite']}",
        "",
        head,
        rule,
        *(_row(label, report[key]) for key, label in _ROWS if key in report),
        rule,
        f"{'hub / floor':<27}{r['ingest_throughput']:>11.2f}x{r['p50_latency']:>8.2f}x"
        f"{r['p99_latency']:>8.2f}x{r['delivered_over_floor_ingest']:>12.2f}x"
        f"{r['server_cpu_per_msg']:>11.2f}x",
        "",
    ]
    for key, label in _ROWS:
        vr = report.get("variant_ratios", {}).get(key)
        if vr is None:
            continue
        e = report[key]["end_to_end"]
        lines.append(
            f"{label}: ingest {vr['ingest_throughput']:.2f}x, p99 {vr['p99_latency']:.2f}x, "
            f"delivered {vr['delivered_over_floor_ingest']:.2f}x the floor; "
            f"{e['delivered_when_ingest_finished']} delivered at the last 202, drain "
            f"{e['drain_per_s']:.1f}/s; CPU {e['server_cpu_ms_per_msg']:.2f} ms/msg "
            f"(process tree): {_verdict(vr, e['complete'])}"
        )
    if "variant_ratios" in report:
        lines.append(
            f"targets: (a) ingest >= {INGEST_TARGET}x and p99 <= {P99_TARGET}x; "
            f"(b) delivered/s >= {DELIVERED_TARGET}x, all delivered"
        )
        lines += _rounds(report)
        lines.append("")
    e2e, side, sq = hub["end_to_end"], hub["server_side"], report["sqlite_commit_floor"]
    lines += [
        f"hub end to end: {e2e['delivered']}/{meta['messages']} files in {e2e['elapsed_s']:.1f}s "
        f"from the first POST; {e2e['delivered_when_ingest_finished']} were there at the last "
        f"202, the rest drained at {e2e['drain_per_s']:.1f}/s using "
        f"{e2e['drain_cpu_ms_per_msg']:.2f} ms CPU/msg ({e2e['drain_cores_busy']:.2f} cores busy)",
        f"hub process CPU: {e2e['server_cpu_ms_per_msg']:.2f} ms per message ingested and "
        f"delivered; mean latency (hub metrics, not CPU): ingest "
        f"{side.get('ingest_mean_ms', NAN):.2f} ms from receipt to the durable commit, a "
        f"turn {side.get('processing_mean_ms', NAN):.2f} ms from its claim to its end",
        f"disk: {sq['commits_per_s']:.0f} durable SQLite commits/s from one thread "
        f"({sq['ms_per_commit']:.2f} ms each)",
        "delivered/s: N / (first POST -> N-th file in the outbox); CPU ms/msg: server "
        "process CPU during the ingest phase / accepted; ratios: hub / floor",
    ]
    if not e2e["complete"]:
        lines.append("* delivery did not finish within the budget: the rate is partial")
    if report["problems"]:
        lines.append("PROBLEMS: " + "; ".join(report["problems"]))
    return "\n".join(lines)


def problems(report: dict[str, Any], settings: Any) -> list[str]:
    """Anything that makes the figures incomplete or suspect."""
    found: list[str] = []
    for key, _ in _ROWS:
        if key not in report:
            continue
        ing = report[key]["ingest"]
        if ing["accepted"] != settings.messages:
            found.append(f"{key}: {ing['accepted']}/{settings.messages} accepted")
        if ing["errors"]:
            found.append(f"{key}: errors {ing['errors']}")
        if ing["timed_out"]:
            found.append(f"{key}: the load timed out")
    for key, _ in _ROWS:
        hub = report.get(key)
        if hub is None or "end_to_end" not in hub:
            continue
        if not hub["end_to_end"]["complete"]:
            got = hub["end_to_end"]["delivered"]
            found.append(f"{key}: {got}/{settings.messages} delivered in time")
        if hub["status_check"]["other"]:
            found.append(f"{key}: not delivered per GET /messages: {hub['status_check']['other']}")
    return found
