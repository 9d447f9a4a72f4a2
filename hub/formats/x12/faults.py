"""Located X12 faults, each with the code a TA1, 997 or 999 would report it with.

The level says which acknowledgement segment carries the code:

=============  =========================================  ======================
level          code list                                  997 / 999 segment
=============  =========================================  ======================
interchange    I18 interchange note code (``"001"``)      TA1
group          716 functional group syntax error code     AK905 / AK905
transaction    718 transaction set syntax error code      AK502 / IK502
segment        720 segment syntax error code              AK304 / IK304
element        723 element syntax error code              AK403 / IK403
=============  =========================================  ======================

A fault keeps what a 997/999 needs (transaction control number, segment position in
the transaction set, loop identifier, element and component position, the bad value),
so an acknowledgement can be built from a validation result later.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import Problem

__all__ = ["CODE_NAMES", "Fault"]

#: What each code means, by level (the acknowledgement standards' own wording).
CODE_NAMES: dict[str, dict[str, str]] = {
    "interchange": {
        "001": "interchange control numbers in header and trailer do not match",
        "005": "invalid interchange ID qualifier for sender",
        "006": "invalid interchange sender ID",
        "007": "invalid interchange ID qualifier for receiver",
        "008": "invalid interchange receiver ID",
        "010": "invalid authorization information qualifier value",
        "011": "invalid authorization information value",
        "012": "invalid security information qualifier value",
        "013": "invalid security information value",
        "014": "invalid interchange date value",
        "015": "invalid interchange time value",
        "016": "invalid interchange standards identifier value",
        "017": "invalid interchange version ID value",
        "018": "invalid interchange control number value",
        "019": "invalid acknowledgment requested value",
        "020": "invalid test indicator value",
        "021": "invalid number of included groups value",
        "022": "invalid control structure",
        "023": "improper (premature) end-of-file",
        "024": "invalid interchange content",
        "026": "invalid data element separator",
        "027": "invalid component element separator",
    },
    "group": {
        "1": "functional group not supported",
        "2": "functional group version not supported",
        "3": "functional group trailer missing",
        "4": "group control number in the header and trailer do not agree",
        "5": "number of included transaction sets does not match actual count",
        "6": "group control number violates syntax",
    },
    "transaction": {
        "1": "transaction set not supported",
        "2": "transaction set trailer missing",
        "3": "transaction set control number in header and trailer do not match",
        "4": "number of included segments does not match actual count",
        "5": "one or more segments in error",
        "6": "missing or invalid transaction set identifier",
        "7": "missing or invalid transaction set control number",
        "23": "transaction set control number not unique within the functional group",
    },
    "segment": {
        "1": "unrecognized segment ID",
        "2": "unexpected segment",
        "3": "mandatory segment missing",
        "4": "loop occurs over maximum times",
        "5": "segment exceeds maximum use",
        "6": "segment not in defined transaction set",
        "7": "segment not in proper sequence",
        "8": "segment has data element errors",
    },
    "element": {
        "1": "mandatory data element missing",
        "2": "conditional required data element missing",
        "3": "too many data elements",
        "4": "data element too short",
        "5": "data element too long",
        "6": "invalid character in data element",
        "7": "invalid code value",
        "8": "invalid date",
        "9": "invalid time",
        "10": "exclusion condition violated",
        "12": "too many repetitions",
        "13": "too many components",
    },
}

_LABELS = {
    "interchange": "TA1 I18",
    "group": "AK905",
    "transaction": "AK502/IK502",
    "segment": "AK304/IK304",
    "element": "AK403/IK403",
}


@dataclass(frozen=True)
class Fault:
    """One thing wrong in an interchange, precise enough for a person and for a 997/999."""

    message: str
    level: str  # interchange, group, transaction, segment or element
    code: str  # in the code list of the level (see CODE_NAMES)
    segment: int  # position in the interchange, counting ISA as 1
    tag: str
    element: int | None = None  # 1-based data element position (AK401/IK401-1)
    component: int | None = None  # 1-based component position (AK401-2)
    repeat: int | None = None  # 1-based repetition (IK401-3)
    line: int | None = None
    interchange: int = 1  # which interchange of the file, from 1
    group_control: str | None = None  # GS06 of the group it is in (AK102)
    transaction_type: str | None = None  # ST01 (AK201)
    transaction_ref: str | None = None  # ST02 (AK202)
    transaction_segment: int | None = None  # position in the set, ST = 1 (AK302)
    loop: str | None = None  # loop identifier (AK303)
    data_element: str | None = None  # data element reference number (AK402)
    value: str | None = None  # a copy of the bad value (AK404)
    hint: str | None = None
    several: bool = False  # the file has several interchanges: say which

    @property
    def label(self) -> str:
        """``AK403/IK403 code 5``: where an acknowledgement reports it."""
        return f"{_LABELS.get(self.level, self.level)} code {self.code}"

    @property
    def where(self) -> str:
        parts = [f"interchange {self.interchange}"] if self.several else []
        parts.append(f"segment {self.segment} ({self.tag})")
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.repeat is not None:
            parts.append(f"repeat {self.repeat}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def problem(self) -> Problem:
        return Problem(f"{self.message} [{self.label}]", where=self.where, hint=self.hint)
