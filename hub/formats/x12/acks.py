"""X12 acknowledgements: 997 and 999 built from a validation result, TA1 for the envelope,
and a received 997/999 or TA1 read into an :class:`~hub.formats.acks.AckReport`.

A 997 or 999 answers each functional group of an interchange::

    ST*997|999          one per group (GS08 of the answer: the group's own version for
                        a 997, 005010X231A1 for a 999)
    AK1*GS01*GS06[*GS08]
      AK2*ST01*ST02[*ST03]        per transaction set
        AK3/IK3*tag*position*loop*code       a segment in error (720)
        AK4/IK4*pos:comp:rep*ref*code*value  an element in error (723)
      AK5/IK5*A|E|R*codes         the set: accepted, accepted with errors, rejected (718)
    AK9*A|E|P|R*included*received*accepted*codes   the group (716)

A 997 rejects a set with any error; a 999 does the same (E is for errors the receiver
chose to accept, which the hub does not). A TA1 reports the interchange envelope
(I18 note code) and is written as ``ISA TA1 IEA`` with no group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.formats.acks import AckReport, AckStatus
from hub.formats.x12.envelope import Separators, X12Envelope
from hub.formats.x12.faults import Fault

__all__ = ["build_functional_ack", "read_functional_ack", "read_ta1", "write_ta1"]

_IMPLEMENTATION_999 = "005010X231A1"


def build_functional_ack(
    interchange: dict[str, Any],
    faults: Sequence[Fault],
    *,
    kind: str,
    envelope: X12Envelope,
    interchange_number: int = 1,
) -> dict[str, Any]:
    """The interchange tree of the 997 or 999 answering ``interchange`` (one decoded
    interchange), with ``envelope`` (addressed to its sender, numbered by the caller)."""
    if kind not in ("997", "999"):
        raise ValueError(f"no functional acknowledgement {kind!r}: 997 or 999")
    mine = [f for f in faults if f.interchange == interchange_number]
    sets: list[dict[str, Any]] = []
    for number, group in enumerate(interchange.get("groups") or [], 1):
        header = [str(v) for v in group.get("header") or []]
        control = header[5] if len(header) > 5 else ""
        group_faults = [f for f in mine if f.group_control == control]
        segments: list[list[Any]] = [_ak1(kind, header)]
        accepted = 0
        messages = group.get("messages") or []
        for message in messages:
            ref = str(message.get("reference") or "")
            faults_of_set = [
                f for f in group_faults if f.transaction_ref == ref and f.level != "group"
            ]
            segments += _set(kind, message, faults_of_set)
            accepted += 0 if faults_of_set else 1
        group_codes = [f.code for f in group_faults if f.level == "group"][:5]
        if group_codes or (accepted == 0 and messages):
            status = "R"
        elif accepted < len(messages):
            status = "P"
        else:
            status = "A"
        segments.append(["AK9", status, str(len(messages)), str(len(messages)), str(accepted)])
        segments[-1] += group_codes
        sets.append({"type": kind, "reference": f"{number:04d}", "segments": segments})
    group_version = envelope.group_version if kind == "997" else _IMPLEMENTATION_999
    header = envelope.isa()
    gs = envelope.gs("FA")
    gs[7] = group_version
    return {
        "separators": envelope.separators.to_tree(),
        "newline": "\n",
        "header": header,
        "groups": [{"header": gs, "messages": sets}],
    }


def _ak1(kind: str, gs: list[str]) -> list[Any]:
    ak1: list[Any] = ["AK1", gs[0] if gs else "", gs[5] if len(gs) > 5 else ""]
    if kind == "999":
        ak1.append(gs[7] if len(gs) > 7 else "")
    return ak1


def _set(kind: str, message: dict[str, Any], faults: list[Fault]) -> list[list[Any]]:
    first = (message.get("segments") or [[]])[0]
    ak2: list[Any] = ["AK2", str(message.get("type") or ""), str(message.get("reference") or "")]
    if kind == "999" and isinstance(first, list) and len(first) > 3:
        ak2.append(str(first[3]))
    out: list[list[Any]] = [ak2]
    seg_tag, el_tag, set_tag = ("AK3", "AK4", "AK5") if kind == "997" else ("IK3", "IK4", "IK5")
    by_segment: dict[int, list[Fault]] = {}
    for fault in faults:
        if fault.level in ("segment", "element") and fault.transaction_segment is not None:
            by_segment.setdefault(fault.transaction_segment, []).append(fault)
    for position in sorted(by_segment):
        found = by_segment[position]
        segment_fault = next((f for f in found if f.level == "segment"), None)
        code = segment_fault.code if segment_fault is not None else "8"
        out.append(_trim([seg_tag, found[0].tag, str(position), found[0].loop or "", code]))
        for fault in found:
            if fault.level != "element" or fault.element is None:
                continue
            place: Any = str(fault.element)
            if fault.component is not None or fault.repeat is not None:
                place = [str(fault.element), str(fault.component or ""), str(fault.repeat or "")]
                place = _trim(place)
            element = [el_tag, place, fault.data_element or "", fault.code, fault.value or ""]
            out.append(_trim(element))
    set_codes = [f.code for f in faults if f.level == "transaction"]
    if by_segment and "5" not in set_codes:
        set_codes.append("5")
    out.append([set_tag, "R" if faults else "A", *set_codes[:5]])
    return out


def write_ta1(
    received_isa: Sequence[str],
    *,
    envelope: X12Envelope,
    note_code: str = "000",
) -> bytes:
    """``ISA TA1 IEA`` acknowledging the interchange whose ISA01-16 is ``received_isa``:
    TA101-103 repeat its ISA13, ISA09 and ISA10; A with note 000 when sound, else R."""
    seps: Separators = envelope.separators
    isa = envelope.isa()
    status = "A" if note_code == "000" else "R"
    ta1 = [
        "TA1",
        received_isa[12].strip() if len(received_isa) > 12 else "",
        received_isa[8] if len(received_isa) > 8 else "",
        received_isa[9] if len(received_isa) > 9 else "",
        status,
        note_code,
    ]
    e, s = seps.element, seps.segment
    lines = [
        "ISA" + e + e.join(isa) + s,
        e.join(ta1) + s,
        e.join(["IEA", "0", isa[12]]) + s,
    ]
    return "\n".join(lines).encode("ascii") + b"\n"


def read_functional_ack(message: dict[str, Any]) -> AckReport:
    """The report of one decoded 997 or 999 transaction set."""
    kind = str(message.get("type") or "")
    segments = [s for s in message.get("segments") or [] if isinstance(s, list) and s]
    group_ref: str | None = None
    status = AckStatus.ACCEPTED
    errors: list[str] = []
    where = ""
    for segment in segments:
        tag = str(segment[0])
        values = [_text(v) for v in segment[1:]]
        if tag == "AK1":
            group_ref = values[1] if len(values) > 1 else None
        elif tag == "AK2":
            where = f"{values[0] if values else ''} {values[1] if len(values) > 1 else ''}"
        elif tag in ("AK3", "IK3"):
            code = values[3] if len(values) > 3 else ""
            errors.append(f"{code} at {where.strip()} segment {values[0]} #{values[1]}".strip())
        elif tag in ("AK4", "IK4"):
            place = values[0] if values else ""
            code = values[2] if len(values) > 2 else ""
            errors.append(f"{code} at {where.strip()} element {place}")
        elif tag in ("AK5", "IK5") and len(values) > 1:
            errors += [f"{code} at {where.strip()}" for code in values[1:] if code]
        elif tag == "AK9":
            outcome = values[0] if values else ""
            status = {
                "A": AckStatus.ACCEPTED,
                "E": AckStatus.ACCEPTED_WITH_ERRORS,
                "P": AckStatus.ACCEPTED_WITH_ERRORS,
                "M": AckStatus.REJECTED,
                "W": AckStatus.REJECTED,
                "X": AckStatus.REJECTED,
                "R": AckStatus.REJECTED,
            }.get(outcome, AckStatus.REJECTED)
            errors += [f"{code} at group" for code in values[4:] if code]
    return AckReport(kind=kind, status=status, group_ref=group_ref, errors=tuple(errors))


def read_ta1(ta1: Sequence[Any]) -> AckReport:
    """The report of one received TA1 (its elements TA101-TA105, as the codec reads them
    into ``ta1``): TA101 names the acknowledged interchange (its ISA13), TA104 says A
    (accepted), E (accepted with errors) or R (rejected), TA105 the I18 note code."""
    values = [_text(v) for v in ta1]
    ref = values[0].strip() if values else ""
    code = values[3] if len(values) > 3 else ""
    note = values[4] if len(values) > 4 else ""
    status = {"A": AckStatus.ACCEPTED, "E": AckStatus.ACCEPTED_WITH_ERRORS}.get(
        code, AckStatus.REJECTED
    )
    errors = (f"{note} at interchange",) if note and note != "000" else ()
    return AckReport(kind="TA1", status=status, interchange_ref=ref or None, errors=errors)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _trim(segment: list[Any]) -> list[Any]:
    while len(segment) > 1 and segment[-1] in ("", None, []):
        segment.pop()
    return segment
