#!/usr/bin/env python3
"""Write message definitions from the UN/EDIFACT directory's text files (UNTDID).

A directory as the UN publishes it (e.g. d96a.zip) holds one text file per message
(EDMD, ``ORDERS_D.96A``), the segment directory (``EDSD.96A``), the composite data
element directory (``EDCD.96A``) and the data element directory (``EDED.96A``). This
script reads the messages' segment tables and the definitions they need and writes
them in the layout described in README.md::

    python schemas/edifact/generate.py --out schemas/edifact/D96A \\
        --edsd EDSD.96A --edcd EDCD.96A --eded EDED.96A ORDERS_D.96A INVOIC_D.96A

``segments.yaml`` gets the segments those messages use, with their composites and data
elements; ``messages/<TYPE>.yaml`` one file per message. With ``--base DIR`` it writes
only what differs from the segments.yaml of the base directory (an overlay, like D01B on
D96A); directory.yaml is left for a person to write. Service segments (UNH, UNT, UNS) are
not in EDSD and come from service.yaml.

Only the standard library and PyYAML (for ``--base``) are needed. The UN files are not
kept in the repository; tests/data/edifact/untdid holds a small excerpt in their layout.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVICE = {"UNH", "UNT", "UNS", "UNE", "UNG", "UNB", "UNZ"}
# Change indicators in column 1 of the UN files: + added, * changed, # name changed,
# | other change, X marked for deletion, - deleted.
_MARK = r"[+*#|X\-]?"
_ELEMENT_LINE = re.compile(
    rf"^{_MARK}\s*(?:(\d{{3}})\s+)?([CES]\d{{3}}|\d{{4}})\s+(.+?)\s+([MC])(?:\s+\d+)?"
    r"(?:\s+((?:an|a|n)(?:\.\.)?\d+))?\s*$"
)
_WRAPPED = re.compile(rf"^{_MARK}\s*(?:\d{{3}}\s+)?(?:[CES]\d{{3}}|\d{{4}})\s+\S")
_EDED_HEAD = re.compile(rf"^{_MARK}\s+(\d{{4}})\s+(.+?)\s*(?:\[[A-Z]\])?\s*$")
_REPR = re.compile(r"^\s*Repr:\s*((?:an|a|n)(?:\.\.)?\d+)\s*$")
_SEGMENT_HEAD = re.compile(rf"^{_MARK}\s+([A-Z][A-Z0-9]{{2}})\s+([A-Z].*?)\s*$")
_COMPOSITE_HEAD = re.compile(rf"^{_MARK}\s+([CES]\d{{3}})\s+([A-Z].*?)\s*$")
_TABLE_SEGMENT = re.compile(
    rf"^{_MARK}\s*(\d{{4}})\s+([A-Z][A-Z0-9]{{2}})\s+(.+?)\s+([MC])\s+(\d+)([-+|\s]*)$"
)
_TABLE_GROUP = re.compile(
    rf"^{_MARK}\s*(\d{{4}})\s+-+\s*Segment group\s+(\d+)\s*-*\s+([MC])\s+(\d+)([-+|\s]*)$"
)


class UntdidError(ValueError):
    pass


@dataclass
class Entry:
    id: str
    status: str


@dataclass
class Dictionary:
    segments: dict[str, tuple[str, list[Entry]]] = field(default_factory=dict)
    composites: dict[str, tuple[str, list[Entry]]] = field(default_factory=dict)
    elements: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, format)


def sentence(name: str) -> str:
    """``DOCUMENT/MESSAGE NAME`` -> ``Document/message name`` (EDSD/EDCD use capitals)."""
    if name != name.upper():
        return name
    lower = name.lower()
    return lower[:1].upper() + lower[1:]


def _blocks(text: str) -> list[list[str]]:
    """Entries are separated by lines of dashes."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if re.fullmatch(r"\s*-{20,}\s*", line):
            blocks.append([])
        else:
            blocks[-1].append(line.rstrip())
    return [b for b in blocks if any(line.strip() for line in b)]


def parse_eded(text: str, into: Dictionary) -> None:
    for block in _blocks(text):
        head = next((m for line in block if (m := _EDED_HEAD.match(line))), None)
        rep = next((m for line in block if (m := _REPR.match(line))), None)
        if head is None or rep is None:
            continue
        into.elements[head.group(1)] = (head.group(2).strip(), rep.group(1))


def _entries(
    block: list[str], head: re.Pattern[str], into: Dictionary
) -> tuple[str, str, list[Entry]] | None:
    """A segment's or composite's entries; the components of composites are recorded too."""
    ident = name = None
    entries: list[Entry] = []
    composite: tuple[str, list[Entry]] | None = None
    pending = ""
    for line in block:
        if ident is None:
            m = head.match(line)
            if m:
                ident, name = m.group(1), m.group(2)
            continue
        if pending:  # a name too long for its column wraps onto the next line
            line, pending = f"{pending} {line.strip()}", ""
        m = _ELEMENT_LINE.match(line)
        if m is None:
            if _WRAPPED.match(line):
                pending = line
            continue
        pos, eid, ename, status, fmt = m.groups()
        if pos is not None:  # a position: an entry of the segment (or composite) itself
            entries.append(Entry(eid, status))
            if eid[0] in "CES" and fmt is None:
                composite = (eid, [])
                into.composites.setdefault(eid, (sentence(ename), composite[1]))
            else:
                composite = None
                if fmt:
                    into.elements.setdefault(eid, (ename, fmt))
        elif composite is not None:  # a component listed under its composite (EDSD)
            composite[1].append(Entry(eid, status))
            if fmt:
                into.elements.setdefault(eid, (ename, fmt))
    if ident is None or name is None:
        return None
    return ident, sentence(name), entries


def parse_edcd(text: str, into: Dictionary) -> None:
    for block in _blocks(text):
        found = _entries(block, _COMPOSITE_HEAD, into)
        if found is not None and found[2]:
            into.composites[found[0]] = (found[1], found[2])


def parse_edsd(text: str, into: Dictionary) -> None:
    for block in _blocks(text):
        found = _entries(block, _SEGMENT_HEAD, into)
        if found is not None and found[2]:
            into.segments[found[0]] = (found[1], found[2])


@dataclass
class Message:
    type: str
    name: str
    structure: list[dict[str, Any]]
    segment_names: dict[str, str]


def parse_edmd(text: str) -> Message:
    """The segment table of a message file; nesting comes from the ``+`` that close groups."""
    type_ = re.search(r"Message Type\s*:\s*([A-Z]{6})", text)
    if type_ is None:
        raise UntdidError("no 'Message Type :' line: is this an EDMD message file?")
    title = ""
    for line in text.splitlines():
        if line.strip() and "message" in line.lower() and line.strip() == line.strip().capitalize():
            title = line.strip()
            break
    start = text.find("Pos    Tag Name")
    if start < 0:
        raise UntdidError("no segment table ('Pos    Tag Name') in the message file")
    root: list[dict[str, Any]] = []
    stack = [root]
    names: dict[str, str] = {}
    for line in text[start:].splitlines()[1:]:
        if not line.strip() or set(line.strip()) <= {"|"}:
            continue
        group = _TABLE_GROUP.match(line)
        if group is not None:
            pos, number, status, maximum, _tail = group.groups()
            item: dict[str, Any] = {
                "group": f"SG{int(number)}",
                "pos": pos,
                "status": status,
                "max": int(maximum),
                "segments": [],
            }
            stack[-1].append(item)
            stack.append(item["segments"])
            continue
        seg = _TABLE_SEGMENT.match(line)
        if seg is None:
            if re.match(r"^\s*\d\.", line):  # the next section
                break
            continue
        pos, tag, name, status, maximum, tail = seg.groups()
        stack[-1].append({"pos": pos, "tag": tag, "status": status, "max": int(maximum)})
        names.setdefault(tag, name.strip())
        for _ in range(tail.count("+")):
            if len(stack) == 1:
                raise UntdidError(f"segment table: {pos} closes a group that is not open")
            stack.pop()
    if len(stack) != 1:
        raise UntdidError("segment table: a segment group is not closed")
    return Message(type_.group(1), title, root, names)


def _tags(items: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for item in items:
        found |= _tags(item["segments"]) if "group" in item else {item["tag"]}
    return found


def _q(text: str) -> str:
    if text[:1].isdigit() or any(c in text for c in ":#,[]{}&*!|>%@`'\"") or not text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def render_segments(
    dictionary: Dictionary, tags: set[str], header: str, base: dict[str, Any] | None = None
) -> str:
    segments = {t: dictionary.segments[t] for t in sorted(tags)}
    composites: dict[str, tuple[str, list[Entry]]] = {}
    elements: dict[str, tuple[str, str]] = {}
    for _name, entries in segments.values():
        for entry in entries:
            if entry.id in dictionary.composites:
                composites[entry.id] = dictionary.composites[entry.id]
            else:
                elements[entry.id] = dictionary.elements[entry.id]
    for _name, entries in composites.values():
        for entry in entries:
            elements[entry.id] = dictionary.elements[entry.id]
    if base is not None:
        segments = {k: v for k, v in segments.items() if _seg(v) != base["segments"].get(k)}
        composites = {
            k: v
            for k, v in composites.items()
            if _seg(v, "components") != base["composites"].get(k)
        }
        elements = {
            k: v
            for k, v in elements.items()
            if {"name": v[0], "format": v[1]} != base["elements"].get(k)
        }
    names = {k: v[0] for k, v in dictionary.elements.items()}
    names.update({k: v[0] for k, v in dictionary.composites.items()})
    out = [header, ""]
    for section, table, key in (
        ("segments", segments, "elements"),
        ("composites", composites, "components"),
    ):
        if not table:
            continue
        out.append(f"{section}:")
        for ident, (name, entries) in sorted(table.items()):
            out += [f"  {ident}:", f"    name: {_q(name)}", f"    {key}:"]
            out += [
                f"      - {{id: {_q(e.id)}, status: {e.status}}}  # {names.get(e.id, '')}".rstrip()
                for e in entries
            ]
        out.append("")
    if elements:
        out.append("elements:")
        out += [
            f"  {_q(ident)}: {{name: {_q(name)}, format: {fmt}}}"
            for ident, (name, fmt) in sorted(elements.items())
        ]
        out.append("")
    return "\n".join(out)


def _seg(value: tuple[str, list[Entry]], key: str = "elements") -> dict[str, Any]:
    return {"name": value[0], key: [{"id": e.id, "status": e.status} for e in value[1]]}


def render_message(message: Message, title: str) -> str:
    out = [
        f"# {message.type} {title}: {message.name or message.type}.",
        "# Generated by schemas/edifact/generate.py from the UN/EDIFACT directory (UNTDID).",
        f"message: {message.type}",
        f"name: {_q(message.name or message.type)}",
        "structure:",
    ]

    def emit(items: list[dict[str, Any]], pad: str) -> None:
        for item in items:
            if "group" in item:
                out.extend(
                    [
                        f"{pad}- group: {item['group']}",
                        f'{pad}  pos: "{item["pos"]}"',
                        f"{pad}  status: {item['status']}",
                        f"{pad}  max: {item['max']}",
                        f"{pad}  segments:",
                    ]
                )
                emit(item["segments"], pad + "    ")
            else:
                out.append(
                    f'{pad}- {{pos: "{item["pos"]}", tag: {item["tag"]}, '
                    f"status: {item['status']}, max: {item['max']}}}"
                )

    emit(message.structure, "  ")
    return "\n".join(out) + "\n"


def generate(
    messages: list[Path],
    edsd: Path,
    edcd: Path,
    eded: Path,
    out: Path,
    *,
    title: str,
    base: Path | None = None,
    encoding: str = "latin-1",
) -> list[Path]:
    """Write segments.yaml and messages/*.yaml under ``out``; the files written."""
    dictionary = Dictionary()
    parse_eded(eded.read_text(encoding=encoding), dictionary)
    parse_edcd(edcd.read_text(encoding=encoding), dictionary)
    parse_edsd(edsd.read_text(encoding=encoding), dictionary)
    parsed = [parse_edmd(path.read_text(encoding=encoding)) for path in messages]
    tags: set[str] = set()
    for message in parsed:
        tags |= _tags(message.structure) - SERVICE
    missing = sorted(t for t in tags if t not in dictionary.segments)
    if missing:
        raise UntdidError(f"segments not in {edsd.name}: {', '.join(missing)}")
    for _name, entries in [*dictionary.segments.values(), *dictionary.composites.values()]:
        for entry in entries:
            if entry.id not in dictionary.composites and entry.id not in dictionary.elements:
                raise UntdidError(f"{entry.id} is neither in {edcd.name} nor in {eded.name}")
    base_data = None
    if base is not None:
        import yaml

        base_data = yaml.safe_load((base / "segments.yaml").read_text(encoding="utf-8"))
        base_data = {k: base_data.get(k) or {} for k in ("segments", "composites", "elements")}
        base_data["elements"] = {str(k): v for k, v in base_data["elements"].items()}
    header = (
        f"# {title}: the segments (EDSD), composite data elements (EDCD) and simple data\n"
        "# elements (EDED) the messages in messages/ use."
        + (f"\n# An overlay: only what differs from {base.name}." if base is not None else "")
        + "\n# Generated by schemas/edifact/generate.py from the UN/EDIFACT directory (UNTDID)."
    )
    (out / "messages").mkdir(parents=True, exist_ok=True)
    written = [out / "segments.yaml"]
    written[0].write_text(render_segments(dictionary, tags, header, base_data), encoding="utf-8")
    for message in parsed:
        path = out / "messages" / f"{message.type}.yaml"
        path.write_text(render_message(message, title), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", nargs="+", type=Path, help="EDMD files, e.g. ORDERS_D.96A")
    parser.add_argument("--edsd", type=Path, required=True, help="segment directory, EDSD.96A")
    parser.add_argument("--edcd", type=Path, required=True, help="composites, EDCD.96A")
    parser.add_argument("--eded", type=Path, required=True, help="data elements, EDED.96A")
    parser.add_argument("--out", type=Path, required=True, help="e.g. schemas/edifact/D96A")
    parser.add_argument("--title", default=None, help="e.g. 'UNTDID D.96A'")
    parser.add_argument("--base", type=Path, help="write an overlay on this directory folder")
    args = parser.parse_args(argv)
    title = args.title or f"UNTDID {args.out.name}"
    try:
        written = generate(
            args.messages, args.edsd, args.edcd, args.eded, args.out, title=title, base=args.base
        )
    except (OSError, UntdidError) as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
