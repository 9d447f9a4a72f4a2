"""Nest a transaction set's segments into its loops (``body``), and flatten them back.

The EDIFACT walker does the matching (hub/formats/edifact/structure.py), so a mapping
reads both syntaxes the same way: segments keyed by tag (the segment itself when the
table allows one, a list when it allows more), loops keyed ``<trigger>_loop`` holding a
list of dicts::

    body = {
        "ST": ["ST", "850", "0001"],
        "BEG": ["BEG", "00", "SA", "PO-4711", "", "20261120"],
        "N1_loop": [{"N1": ["N1", "ST", "Jane Doe"], "N3": [["N3", "1 Main St"]], ...}],
        "PO1_loop": [{"PO1": ["PO1", "1", "2", "EA", "12.5", "", "VP", "SKU-1"], ...}],
        "CTT_loop": [{"CTT": ["CTT", "1"]}],
        "SE": ["SE", "12", "0001"],
    }

HL loops (856) are nested by their parent ids: ``body["HL_loop"]`` holds the HL loops
without a parent (HL02 empty), and each HL loop the ones naming it in HL02 under
``HL_loop``, so shipment -> order -> pack -> item reads as it is meant.
"""

from __future__ import annotations

from typing import Any

from hub.formats.edifact.structure import FlattenError, Walk, walk
from hub.formats.edifact.structure import flatten as flatten_table
from hub.formats.x12.definitions import TransactionDef

__all__ = ["HL", "FlattenError", "flatten", "nest_hl", "walk_set"]

HL = "HL_loop"


def walk_set(definition: TransactionDef, segments: list[Any]) -> Walk:
    walked = walk(definition, segments)
    if definition.hierarchical and HL in walked.body:
        walked.body[HL] = nest_hl(walked.body[HL])
    return walked


def _hl(instance: Any, n: int) -> str:
    segment = instance.get("HL") if isinstance(instance, dict) else None
    if isinstance(segment, list) and len(segment) > n and isinstance(segment[n], str):
        return str(segment[n])
    return ""


def nest_hl(loops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat HL loops -> a tree by HL01/HL02. A loop whose parent is unknown (or comes
    later) stays at the top, where validation reports it."""
    by_id: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for instance in loops:
        parent = by_id.get(_hl(instance, 2)) if _hl(instance, 2) else None
        if parent is None:
            top.append(instance)
        else:
            parent.setdefault(HL, []).append(instance)
        by_id.setdefault(_hl(instance, 1), instance)
    return top


def _unnest(loops: Any, where: str, out: list[Any]) -> None:
    if not isinstance(loops, list):
        raise FlattenError(where, "HL_loop is a list of HL loops")
    for n, instance in enumerate(loops):
        if not isinstance(instance, dict):
            raise FlattenError(f"{where}/{n}", "an HL loop is an object keyed by segment tag")
        out.append({k: v for k, v in instance.items() if k != HL})
        if HL in instance:
            _unnest(instance[HL], f"{where}/{n}/{HL}", out)


def flatten(definition: TransactionDef, body: Any, where: str = "body") -> list[Any]:
    """Segments from a ``body`` in the order of the table; nested HL loops depth first."""
    if definition.hierarchical and isinstance(body, dict) and HL in body:
        flat: list[Any] = []
        _unnest(body[HL], f"{where}/{HL}", flat)
        body = {**body, HL: flat}
    return flatten_table(definition, body, where)
