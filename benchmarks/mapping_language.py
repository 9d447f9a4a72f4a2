"""The mapping language's constructs and shipped mappings, against Python and jsonata-python.

    python -m benchmarks.mapping_language [--json]

1. **The demo route's mapping** (mappings/woocommerce-order-to-orders-d96a.yaml) on a
   1,000-line order: CPU time of one run (issue 11 asks for the whole worker turn of such
   an order within 25 ms of CPU; this is the mapping's share).
2. **Every construct** (inline functions, grouping, sorting, distinct, batches, switch,
   rule variables, functions of the mapping, ...) on a 10-item and a 1,000-item list: CPU
   per run of a one-rule mapping.
3. **Shipped mappings against the same transform written by hand in Python** (the stock
   report in batches, the DESADV fulfilments), on 10 and 1,000 input lines: both must give
   the same output; the target is the mapping within :data:`TARGET_PYTHON` times Python.
4. **The stock transform in JSONata** run by jsonata-python (the dev extra) in the same
   run, same input, same output: the target is the language at least
   :data:`TARGET_JSONATA` times faster, both timed the same way: CPU per call in loops of
   back-to-back calls, best of seven (:func:`_steady`); a single call after a collection is
   printed beside it.

Figures are CPU time (``time.process_time``), best of several runs, so other load on the
machine shifts them less. The exit status is 1 when a target is missed or outputs differ.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.mapping import load_mapping, parse_mapping
from hub.mapping.functions import aggregates, edifact, numbers, strings

__all__ = ["TARGET_JSONATA", "TARGET_PYTHON", "run", "table"]

TARGET_PYTHON = 3.0
TARGET_JSONATA = 30.0
REPO = Path(__file__).resolve().parent.parent
MAPPINGS = REPO / "mappings"
EXAMPLE = REPO / "examples" / "woocommerce-order.json"
SIZES = (10, 1000)


def _cpu(fn: Callable[[], Any], min_time: float = 0.25) -> float:
    """Best CPU seconds of one call (at least three calls, then until ``min_time``)."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or (spent < min_time and runs < 500):
        gc.collect()
        started = time.process_time()
        fn()
        took = time.process_time() - started
        best = min(best, took)
        spent += took
        runs += 1
    return best


def _steady(fn: Callable[[], Any], repeat_time: float = 0.1, repeats: int = 7) -> float:
    """Best CPU seconds per call over loops of back-to-back calls, the collector on as in a
    running hub: how timeit and pyperf time a call of microseconds. (A single call right
    after :func:`gc.collect`, as :func:`_cpu` takes, is mostly cache misses for a 50 us
    run and swings by a third between runs; it is printed beside this, not judged.)"""
    started = time.process_time()
    fn()
    number = max(1, int(repeat_time / max(time.process_time() - started, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - started) / number)
    return best


# --- 1. the demo route's mapping -------------------------------------------------------------


def demo_order(lines: int) -> dict[str, Any]:
    """The example WooCommerce order with ``lines`` line items."""
    order: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    first = order["line_items"][0]
    order["line_items"] = [
        {**first, "id": n, "sku": f"SKU-{n:05d}", "product_id": 1000 + n, "quantity": n % 5 + 1}
        for n in range(lines)
    ]
    return order


def demo() -> dict[str, Any]:
    mapping = load_mapping(MAPPINGS / "woocommerce-order-to-orders-d96a.yaml")
    order = demo_order(SIZES[-1])
    return {"lines": SIZES[-1], "cpu_ms": round(_cpu(lambda: mapping.apply(order)) * 1000, 2)}


# --- 2. constructs -----------------------------------------------------------------------------

CONSTRUCTS: dict[str, str] = {
    "map": "map(rows, r -> $r.qty * $r.price)",
    "filter": "filter(rows, r -> $r.qty > 2)",
    "reduce": "reduce(rows, (t, r) -> $t + $r.qty, 0)",
    "find": "find(rows, r -> $r.sku == 'none')",
    "any / every": "every(rows, r -> $r.qty >= 0)",
    "group_by + sum": "map(group_by(rows, r -> $r.group), g -> sum($g.items[*].qty))",
    "sort_by": "sort_by(rows, r -> $r.price, 'desc')",
    "distinct": "distinct(rows[*].group)",
    "chunk": "chunk(rows, 100)",
    "nested [*]": "count(rows[*].tags[*])",
    "$root.list[*]": "sum($root.rows[*].qty)",
    "switch": "map(rows, r -> switch($r.group, 'g0', 1, 'g1', 2, 3))",
    "function of the mapping": "map(rows, r -> net($r.qty, $r.price))",
    "assert": "assert(count(rows) >= 0, 'never')",
    "dates": "map(rows, r -> add_days('2026-01-31', $r.qty))",
    "regex": "map(rows, r -> extract($r.sku, '[0-9]+'))",
    "each + rule vars": "",  # a rule, not an expression: see _construct_mapping
}


def _construct_mapping(name: str, expr: str) -> str:
    if name == "each + rule vars":
        return (
            "name: c\nfields:\n  out:\n    each: rows\n    vars: {net: 'qty * price'}\n"
            "    fields: {net: $net, gross: '$net * 1.19'}\n"
        )
    return f"name: c\nfunctions:\n  net: '(q, p) -> $q * $p'\nfields:\n  out: {json.dumps(expr)}\n"


def rows(count: int) -> dict[str, Any]:
    return {
        "rows": [
            {
                "sku": f"SKU-{n:05d}",
                "qty": n % 7,
                "price": f"{n % 50 + 1}.{n % 100:02d}",
                "group": f"g{n % 10}",
                "tags": ["a", "b"],
            }
            for n in range(count)
        ]
    }


def constructs() -> list[dict[str, Any]]:
    found = []
    for name, expr in CONSTRUCTS.items():
        mapping = parse_mapping(_construct_mapping(name, expr), f"{name}.yaml")
        row: dict[str, Any] = {"construct": name}
        for size in SIZES:
            tree = rows(size)
            row[f"ms_{size}"] = round(_cpu(lambda m=mapping, t=tree: m.apply(t)) * 1000, 4)
        found.append(row)
    return found


# --- 3. shipped mappings against Python -----------------------------------------------------


def stock_rows(count: int) -> dict[str, Any]:
    """Stock report rows as the csv codec reads them: ~3 bins per SKU, some blocked."""
    return {
        "rows": [
            {
                "Artikelnr": f"{n % max(1, count // 3):05d}-A" if n % 50 else "",
                "Bezeichnung": f"Artikel {n}",
                "Lagerort": f"A-{n % 9:02d}-01",
                "Menge": n % 13 - 2,
                "Einheit": "Stk",
                "Preis": None,
                "Gesperrt": n % 17 == 0,
                "Bemerkung": None,
            }
            for n in range(count)
        ]
    }


def stock_by_hand(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """mappings/stock-report-csv-to-inventory-batches.yaml in Python, with the same functions
    (trim, sum, integer: the language's library), so the ratio is the language's own cost."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in tree.get("rows") or []:
        sku = strings.trim(row.get("Artikelnr"))
        if strings.default(sku, "") != "" and row.get("Gesperrt") is not True:
            groups.setdefault(sku, []).append(row)
    items = []
    for sku in sorted(groups):
        members = groups[sku]
        units = list(dict.fromkeys(r.get("Einheit") for r in members))
        if aggregates.count(units) != 1:
            raise ValueError(
                f"SKU {sku} is counted in different units: {strings.join(units, ', ')}"
            )
        total = aggregates.sum_values([r.get("Menge") for r in members])
        items.append(
            {
                "sku": sku,
                "stock_quantity": numbers.integer(aggregates.max_value([total, 0])),
                "manage_stock": True,
                "stock_status": "instock" if total > 0 else "outofstock",
            }
        )
    return [{"update": items[i : i + 100]} for i in range(0, len(items), 100)]


def desadv(lines: int) -> dict[str, Any]:
    """A decoded DESADV: packages of 5 lines, 4 packages per tracking number."""
    packages = []
    for p in range(max(1, lines // 5)):
        packages.append(
            {
                "CPS": ["CPS", str(p + 2), "1"],
                "SG11": [
                    {
                        "PAC": ["PAC", "1", "", "201"],
                        "SG13": [{"PCI": ["PCI", "33E"], "RFF": ["RFF", ["CN", f"TRK-{p // 4}"]]}],
                    }
                ],
                "SG15": [
                    {
                        "LIN": ["LIN", str(5 * p + n), "", [f"40008621{(p + n) % 40:05d}", "SRV"]],
                        "QTY": [["QTY", ["12", f"{n + 1},5"]]],
                    }
                    for n in range(5)
                ],
            }
        )
    body = {
        "BGM": ["BGM", "351", "LS-1", "9"],
        "SG1": [{"RFF": ["RFF", ["ON", "731"]]}],
        "SG10": [{"CPS": ["CPS", "1"]}, *packages],
    }
    return {"separators": {"decimal": ","}, "messages": [{"body": body}]}


def desadv_by_hand(tree: dict[str, Any]) -> dict[str, Any]:
    """mappings/desadv-d96a-to-shop-fulfillments.yaml in Python, with the same functions
    (element, number, sum: the language's library), so the ratio is the language's own cost."""
    body = tree["messages"][0]["body"]
    mark = tree.get("separators", {}).get("decimal")

    def tracking(package: dict[str, Any]) -> Any:
        for group in package.get("SG11") or []:
            for pci in group.get("SG13") or []:
                if edifact.element(pci.get("RFF"), 1) == "CN":
                    return edifact.element(pci["RFF"], 1, 2)
        return None

    def despatched(line: dict[str, Any]) -> Any:
        qty = next((q for q in line.get("QTY") or [] if edifact.element(q, 1) == "12"), None)
        return numbers.number(edifact.element(qty, 1, 2), mark)

    ordered = next(g for g in body["SG1"] if edifact.element(g.get("RFF"), 1) == "ON")
    by_number: dict[Any, list[dict[str, Any]]] = {}
    for package in body["SG10"]:
        if package.get("SG15") is not None:
            by_number.setdefault(tracking(package), []).append(package)
    fulfillments = []
    for number, packages in by_number.items():
        if number is None:
            raise ValueError("a package has no tracking number")
        lines: dict[str, list[Any]] = {}
        for package in packages:
            for line in package["SG15"]:
                lines.setdefault(edifact.element(line["LIN"], 3, 1), []).append(line)
        items = [
            {
                "gtin": gtin,
                "quantity": _plain(aggregates.sum_values([despatched(x) for x in lines[gtin]])),
            }
            for gtin in sorted(lines)
        ]
        fulfillments.append(
            {"tracking_number": number, "packages": len(packages), "line_items": items}
        )
    return {
        "order_number": edifact.element(ordered["RFF"], 1, 2),
        "despatch_number": edifact.element(body["BGM"], 2),
        "fulfillments": fulfillments,
    }


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


SHIPPED: dict[str, tuple[str, Callable[[int], Any], Callable[[Any], Any]]] = {
    "stock batches": ("stock-report-csv-to-inventory-batches.yaml", stock_rows, stock_by_hand),
    "DESADV fulfilments": ("desadv-d96a-to-shop-fulfillments.yaml", desadv, desadv_by_hand),
}


def shipped() -> list[dict[str, Any]]:
    found = []
    for name, (file, make, by_hand) in SHIPPED.items():
        mapping = load_mapping(MAPPINGS / file)
        splits = mapping.splits
        for size in SIZES:
            tree = make(size)
            mapped = mapping.apply_all(tree) if splits else mapping.apply(tree)
            if mapped != by_hand(tree):
                raise SystemExit(f"{file} and its Python differ ({size} lines)")
            apply = mapping.apply_all if splits else mapping.apply
            ours = _cpu(lambda a=apply, t=tree: a(t))
            plain = _cpu(lambda t=tree, f=by_hand: f(t))
            found.append(
                {
                    "mapping": name,
                    "lines": size,
                    "mapping_ms": round(ours * 1000, 3),
                    "python_ms": round(plain * 1000, 3),
                    "ratio": round(ours / plain, 2),
                }
            )
    return found


# --- 4. jsonata-python ---------------------------------------------------------------------

#: The stock transform in JSONata: per SKU over every bin, blocked rows out, sorted, batches.
STOCK_JSONATA = """(
  $usable := rows[$trim(Artikelnr) != '' and Gesperrt != true];
  $totals := $usable{$trim(Artikelnr): $sum(Menge)};
  $items := $sort($keys($totals)).(
    $total := $lookup($totals, $);
    {"sku": $, "stock_quantity": $max([$total, 0]), "manage_stock": true,
     "stock_status": $total > 0 ? "instock" : "outofstock"}
  );
  $map([0..$floor(($count($items) - 1) / 100)], function($b) {
    {"update": $items[[$b * 100 .. $b * 100 + 99]]}
  })
)"""


def jsonata_peer() -> list[dict[str, Any]] | str:
    try:
        import jsonata  # type: ignore[import-untyped]
    except ImportError:
        return "jsonata-python is not installed (pip install -e '.[dev]')"
    expression = jsonata.Jsonata(STOCK_JSONATA)
    mapping = load_mapping(MAPPINGS / "stock-report-csv-to-inventory-batches.yaml")
    found = []
    for size in SIZES:
        tree = stock_rows(size)
        theirs = expression.evaluate(tree)
        theirs = [theirs] if isinstance(theirs, dict) else theirs  # JSONata unwraps one item
        if theirs != mapping.apply_all(tree):
            raise SystemExit(f"jsonata-python and the mapping differ ({size} rows)")
        ours = _steady(lambda t=tree: mapping.apply_all(t))
        peer = _steady(lambda t=tree: expression.evaluate(t))
        ours_cold = _cpu(lambda t=tree: mapping.apply_all(t))
        peer_cold = _cpu(lambda t=tree: expression.evaluate(t), min_time=0.5)
        found.append(
            {
                "rows": size,
                "mapping_ms": round(ours * 1000, 4),
                "jsonata_ms": round(peer * 1000, 3),
                "times_faster": round(peer / ours, 1),
                "cold_mapping_ms": round(ours_cold * 1000, 4),
                "cold_jsonata_ms": round(peer_cold * 1000, 3),
                "cold_times_faster": round(peer_cold / ours_cold, 1),
            }
        )
    return found


def run() -> dict[str, Any]:
    results: dict[str, Any] = {
        "target_python": TARGET_PYTHON,
        "target_jsonata": TARGET_JSONATA,
        "demo": demo(),
        "constructs": constructs(),
        "shipped": shipped(),
        "jsonata": jsonata_peer(),
    }
    peer = results["jsonata"]
    results["ok"] = all(r["ratio"] <= TARGET_PYTHON for r in results["shipped"]) and (
        isinstance(peer, list) and all(r["times_faster"] >= TARGET_JSONATA for r in peer)
    )
    return results


def table(results: dict[str, Any]) -> str:
    demo_run = results["demo"]
    rows_ = [
        f"demo mapping (woocommerce-order-to-orders-d96a), {demo_run['lines']:,}-line order: "
        f"{demo_run['cpu_ms']:.1f} ms CPU per run",
        "",
        f"{'construct':<26} {'10 items ms':>12} {'1,000 items ms':>15}",
    ]
    for row in results["constructs"]:
        rows_.append(f"{row['construct']:<26} {row['ms_10']:>12.3f} {row['ms_1000']:>15.3f}")
    rows_ += [
        "",
        f"{'shipped mapping':<20} {'lines':>6} {'mapping ms':>11} {'python ms':>10} {'ratio':>6}",
    ]
    for row in results["shipped"]:
        rows_.append(
            f"{row['mapping']:<20} {row['lines']:>6} {row['mapping_ms']:>11.3f} "
            f"{row['python_ms']:>10.3f} {row['ratio']:>5.2f}x"
        )
    rows_.append("")
    peer = results["jsonata"]
    if isinstance(peer, str):
        rows_.append(f"jsonata-python: not measured: {peer}")
    else:
        head = f"{'stock transform':<16} {'rows':>6} {'mapping ms':>11} {'jsonata ms':>11}"
        rows_.append(f"{head} {'faster':>7}   single call after gc.collect() (not judged)")
        for row in peer:
            rows_.append(
                f"{'':<16} {row['rows']:>6} {row['mapping_ms']:>11.4f} {row['jsonata_ms']:>11.2f} "
                f"{row['times_faster']:>6.1f}x   {row['cold_mapping_ms']:.4f} ms vs "
                f"{row['cold_jsonata_ms']:.2f} ms: {row['cold_times_faster']:.1f}x"
            )
    verdict = "ok" if results["ok"] else "MISSED"
    worst_python = max(r["ratio"] for r in results["shipped"])
    least = (
        f"{min(r['times_faster'] for r in peer):.1f}x" if isinstance(peer, list) else "not measured"
    )
    rows_.append(
        f"targets: shipped mappings within {results['target_python']}x of Python (worst "
        f"{worst_python:.2f}x), at least {results['target_jsonata']:g}x jsonata-python (least "
        f"{least}): {verdict}"
    )
    return "\n".join(rows_)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run()
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
