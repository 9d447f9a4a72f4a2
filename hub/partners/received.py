"""One received interchange, whatever its standard: who sent it to whom, its references,
its messages one by one, and the faults an acknowledgement reports.

EDIFACT and X12 are read with their codecs (``read`` keeps envelope faults instead of
raising, ``check``/``check_messages`` add the definition violations); each message is
written back as an interchange of its own in a copy of its envelope, so the route that
receives it decodes it as if the partner had sent it alone.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.errors import DecodeError
from hub.formats.edifact import EdifactCodec, EdifactOptions
from hub.formats.edifact import Fault as EdifactFault
from hub.formats.edifact import Reading as EdifactReading
from hub.formats.edifact.writer import write_interchange
from hub.formats.limits import DecodeLimits
from hub.formats.x12 import Fault as X12Fault
from hub.formats.x12 import X12Codec, X12Options, write_tree

__all__ = [
    "ACK_TYPES",
    "Received",
    "ReceivedMessage",
    "detect_standard",
    "read_received",
    "rejecting_fault",
]

#: Message types that are acknowledgements themselves: matched, never acknowledged.
ACK_TYPES = frozenset({"CONTRL", "997", "999"})


@dataclass(frozen=True)
class ReceivedMessage:
    type: str
    reference: str
    body: bytes  # the message alone, in a copy of its envelope
    tree: dict[str, Any]  # the message as decoded (segments)


@dataclass
class Received:
    """One interchange of a received file."""

    standard: str  # edifact, x12
    sender: tuple[str, str]  # (id, qualifier)
    recipient: tuple[str, str]
    control_ref: str  # UNB 0020, ISA13
    group_ref: str | None  # the first UNG 0048 / GS06
    test: bool
    ack_requested: bool  # UNB 0031 = 1, ISA14 = 1
    messages: list[ReceivedMessage]
    tree: dict[str, Any]  # the interchange as read
    envelope_faults: list[Any] = field(default_factory=list)
    faults: list[Any] = field(default_factory=list)  # envelope and definition faults
    edifact_reading: EdifactReading | None = None
    ta1: list[list[Any]] = field(default_factory=list)  # X12 TA1s (TA101-105) before any GS

    @property
    def is_ack(self) -> bool:
        """Nothing but acknowledgements: CONTRL/997/999 messages, or TA1s alone."""
        if not self.messages:
            return bool(self.ta1)
        return all(m.type in ACK_TYPES for m in self.messages)


def rejecting_fault(received: Received) -> Any:
    """The first fault that rejects the whole interchange (its envelope: UNB/UNZ or
    segments outside a message; ISA/IEA), or None. Faults inside a message or a set reject
    only that one, which its route's validation dead-letters."""
    for fault in received.envelope_faults:
        if received.standard == "x12" and fault.level == "interchange":
            return fault
        if received.standard == "edifact" and fault.message_ref is None:
            return fault
    return None


def detect_standard(data: bytes) -> str:
    """``x12`` for a body starting with ISA, ``edifact`` for UNA/UNB; a BOM and blank
    lines before are allowed."""
    head = data[:64].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"ISA"):
        return "x12"
    if head[:3] in (b"UNA", b"UNB"):
        return "edifact"
    raise DecodeError(
        f"an EDI interchange starts with UNA, UNB or ISA, found {head[:20]!r}",
        where="byte 0",
        hint="the inbox takes EDIFACT and X12 interchanges",
    )


def read_received(
    data: bytes,
    *,
    edifact_options: EdifactOptions | None = None,
    x12_options: X12Options | None = None,
    limits: DecodeLimits | None = None,
) -> list[Received]:
    """Every interchange of ``data``; syntax errors raise :class:`DecodeError`."""
    if detect_standard(data) == "x12":
        return _read_x12(X12Codec(x12_options, limits=limits), data)
    return _read_edifact(EdifactCodec(edifact_options, limits=limits), data)


def _pair(value: Any) -> tuple[str, str]:
    if isinstance(value, list):
        return (
            str(value[0]).strip() if value else "",
            str(value[1]).strip() if len(value) > 1 else "",
        )
    return (str(value or "").strip(), "")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _read_edifact(codec: EdifactCodec, data: bytes) -> list[Received]:
    reading = codec.read(data)
    out: list[Received] = []
    for one in reading.interchanges:
        tree = one.tree
        header = list(tree.get("header") or [])
        faults: list[EdifactFault] = list(one.faults)
        faults += codec.check_messages(copy.deepcopy(tree))
        groups = tree.get("groups")
        pairs: Sequence[tuple[dict[str, Any] | None, dict[str, Any]]]
        if isinstance(groups, list):
            pairs = [(g, m) for g in groups for m in g.get("messages") or []]
        else:
            pairs = [(None, m) for m in tree.get("messages") or []]
        messages = []
        for group, message in pairs:
            single = {
                k: v
                for k, v in tree.items()
                if k not in ("messages", "groups", "final_newline", "bom")
            }
            if group is None:
                single["messages"] = [message]
            else:
                single["groups"] = [{**group, "messages": [message]}]
            body = write_interchange(copy.deepcopy(single), una="auto", newline=tree.get("newline"))
            messages.append(
                ReceivedMessage(
                    _text(message.get("type")), _text(message.get("reference")), body, message
                )
            )
        first_group = groups[0] if isinstance(groups, list) and groups else None
        out.append(
            Received(
                standard="edifact",
                sender=_pair(header[1] if len(header) > 1 else ""),
                recipient=_pair(header[2] if len(header) > 2 else ""),
                control_ref=_text(header[4] if len(header) > 4 else ""),
                group_ref=_text((first_group.get("header") or [""] * 5)[4])
                if first_group
                else None,
                test=_text(header[10] if len(header) > 10 else "") == "1",
                ack_requested=_text(header[8] if len(header) > 8 else "") == "1",
                messages=messages,
                tree=tree,
                envelope_faults=list(one.faults),
                faults=faults,
                edifact_reading=one,
            )
        )
    return out


def _read_x12(codec: X12Codec, data: bytes) -> list[Received]:
    reading = codec.read(data)
    every: list[X12Fault] = codec.check(data)
    out: list[Received] = []
    for number, tree in enumerate(reading.interchanges, 1):
        isa = [str(v) for v in tree.get("header") or []]
        messages = []
        groups = tree.get("groups") or []
        for group in groups:
            for message in group.get("messages") or []:
                single = {k: v for k, v in tree.items() if k not in ("groups", "leading", "bom")}
                single["groups"] = [{**group, "messages": [message]}]
                single["final_newline"] = tree.get("newline") or ""
                body = write_tree(copy.deepcopy(single), charset=codec.options.charset)
                messages.append(
                    ReceivedMessage(
                        _text(message.get("type")), _text(message.get("reference")), body, message
                    )
                )
        mine = [f for f in every if f.interchange == number]
        first = [str(v) for v in (groups[0].get("header") or [])] if groups else []
        out.append(
            Received(
                standard="x12",
                sender=(
                    isa[5].strip() if len(isa) > 5 else "",
                    isa[4].strip() if len(isa) > 4 else "",
                ),
                recipient=(
                    isa[7].strip() if len(isa) > 7 else "",
                    isa[6].strip() if len(isa) > 6 else "",
                ),
                control_ref=isa[12].strip() if len(isa) > 12 else "",
                group_ref=first[5] if len(first) > 5 else None,
                test=len(isa) > 14 and isa[14] == "T",
                ack_requested=len(isa) > 13 and isa[13] == "1",
                messages=messages,
                tree=tree,
                envelope_faults=[
                    f for f in mine if f.level in ("interchange", "group", "transaction")
                ],
                faults=mine,
                ta1=[list(t) for t in tree.get("ta1") or []],
            )
        )
    return out
