"""The acknowledgement the hub owes for one received interchange, per the partner's policy:
CONTRL for EDIFACT, 997 or 999 (and TA1) for X12, built from the validation result.

A duplicate interchange is reported as such: CONTRL UCI with error 26 ("duplicate
detected"), rejected when the profile refuses duplicates; TA1 with note 025.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from hub.config.partners import PartnerConfig
from hub.formats.edifact import EdifactCodec, build_contrl
from hub.formats.edifact.faults import Fault as EdifactFault
from hub.formats.x12 import X12Codec
from hub.formats.x12.acks import build_functional_ack, write_ta1
from hub.partners.outgoing import x12_envelope
from hub.partners.received import Received, rejecting_fault
from hub.store.interchanges import OutboundNumbers

__all__ = ["Answer", "answers_for", "outcome_of"]

DUPLICATE_CONTRL = "26"  # 0085: duplicate detected
DUPLICATE_TA1 = "025"  # I18: duplicate interchange control number


@dataclass(frozen=True)
class Answer:
    """One acknowledgement to send: its kind and how to write it once numbered."""

    kind: str  # CONTRL, 997, 999, TA1
    outcome: str  # accepted, accepted_with_errors, rejected (what it tells the partner)


def outcome_of(received: Received, duplicate: bool, refuse: bool) -> str:
    if (duplicate and refuse) or rejecting_fault(received) is not None:
        return "rejected"
    if received.faults:
        return "rejected"  # every faulty message or set is rejected by CONTRL / 997 / 999
    return "accepted_with_errors" if duplicate else "accepted"


def answers_for(profile: PartnerConfig, received: Received, *, duplicate: bool) -> list[Answer]:
    """Which acknowledgements the profile wants sent for ``received``."""
    if received.is_ack:
        return []  # an acknowledgement is never acknowledged
    refuse = profile.duplicates.action == "refuse"
    outcome = outcome_of(received, duplicate, refuse)
    faulty = outcome != "accepted"
    send = profile.acknowledgements.send
    wanted = send == "always" or (send == "on_error" and faulty)
    out: list[Answer] = []
    if received.standard == "edifact":
        if wanted:
            out.append(Answer("CONTRL", outcome))
        return out
    envelope_bad = bool([f for f in received.faults if f.level == "interchange"]) or duplicate
    ta1 = profile.x12.ta1
    if (
        ta1 == "always"
        or (ta1 == "on_error" and envelope_bad)
        or (ta1 == "requested" and (received.ack_requested or envelope_bad))
    ):
        out.append(
            Answer("TA1", "rejected" if envelope_bad and (refuse or not duplicate) else outcome)
        )
    if wanted and not (duplicate and refuse) and received.tree.get("groups"):
        out.append(Answer(profile.x12.acknowledgement, outcome))
    return out


def write_answer(
    answer: Answer,
    profile: PartnerConfig,
    received: Received,
    numbers: OutboundNumbers,
    *,
    duplicate: bool,
    when: datetime | None = None,
) -> bytes:
    """The bytes of ``answer``, numbered with ``numbers``."""
    if answer.kind == "CONTRL":
        return _contrl(profile, received, numbers, duplicate=duplicate)
    isa = [str(v) for v in received.tree.get("header") or []]
    if answer.kind == "TA1":
        envelope = x12_envelope(profile, numbers, reply_to=isa, when=when)
        interchange = [f for f in received.faults if f.level == "interchange"]
        sound = interchange[0].code if interchange else "000"
        note = DUPLICATE_TA1 if duplicate else sound
        return write_ta1(isa, envelope=envelope, note_code=note)
    groups = received.tree.get("groups") or []
    first = [str(v) for v in (groups[0].get("header") or [])] if groups else []
    envelope = x12_envelope(
        profile,
        numbers,
        reply_to=isa,
        group_version=first[7] if len(first) > 7 else None,
        when=when,
    )
    tree = build_functional_ack(received.tree, received.faults, kind=answer.kind, envelope=envelope)
    return X12Codec().encode(tree)


def _contrl(
    profile: PartnerConfig, received: Received, numbers: OutboundNumbers, *, duplicate: bool
) -> bytes:
    reading = received.edifact_reading
    assert reading is not None  # an EDIFACT Received always carries its reading
    extra = [f for f in received.faults if f not in reading.faults]
    if duplicate:
        unb = EdifactFault(
            f"interchange {received.control_ref} was received before",
            code=DUPLICATE_CONTRL,
            segment=1,
            tag="UNB",
            element=5,
        )
        reading = replace(reading, faults=[unb, *reading.faults])
    tree = build_contrl(reading, reference=str(numbers.interchange), extra_faults=extra)
    ours, theirs = profile.our_id, profile.their_id
    tree["header"][1] = [ours.id, ours.qualifier] if ours.qualifier else ours.id
    tree["header"][2] = [theirs.id, theirs.qualifier] if theirs.qualifier else theirs.id
    if duplicate and profile.duplicates.action == "flag":
        for segment in tree["messages"][0]["segments"]:
            if segment[0] == "UCI":
                segment[4] = "7"  # flagged, not refused: acknowledged, with the code
    return EdifactCodec().encode(tree)
