"""The X12 envelope: ISA's fixed-width layout, separators, and a typed envelope value.

ISA is the one fixed-width segment of X12: 16 data elements of set widths, so that a
reader finds the separators at set places. The element separator is the character after
``ISA``; ISA11 is the repetition separator from version 00402 on (``U`` before); ISA16 is
the component separator; the character after ISA16 ends every segment.

:class:`X12Envelope` holds what a trading-partner profile decides (ids, qualifiers, test
indicator, version) and builds the ISA and GS of an interchange; :func:`wrap` puts
transaction sets into an interchange tree the codec writes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ISA_WIDTHS",
    "Separators",
    "X12Envelope",
    "isa_check",
    "pad_isa",
    "wrap",
]

#: The width of ISA01 ... ISA16.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
#: The I18 (TA1) note code for a bad value of ISA01 ... ISA16.
ISA_CODES = (
    "010",
    "011",
    "012",
    "013",
    "005",
    "006",
    "007",
    "008",
    "014",
    "015",
    "016",
    "017",
    "018",
    "019",
    "020",
    "027",
)
_NUMERIC = {9: "date (YYMMDD)", 10: "time (HHMM)", 12: "version", 13: "control number"}


@dataclass(frozen=True)
class Separators:
    """The four delimiters of an interchange (X12 has no release character)."""

    element: str = "*"
    component: str = ">"
    repetition: str = ""  # ISA11 from version 00402 on; none before
    segment: str = "~"

    def to_tree(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_tree(cls, tree: Any) -> Separators:
        if tree is None:
            return cls()
        if not isinstance(tree, dict):
            raise ValueError("`separators` must be an object")
        return cls(**{k: str(v) for k, v in tree.items() if k in cls.__dataclass_fields__})

    def chars(self) -> list[str]:
        return [c for c in (self.element, self.component, self.repetition, self.segment) if c]

    def problem(self) -> str | None:
        """Why these cannot delimit an interchange, or None."""
        used = self.chars()
        if any(len(c) != 1 for c in used):
            return "each separator is one character"
        if len(set(used)) != len(used):
            return f"the same character is used for two separators: {''.join(used)!r}"
        if any(c.isalnum() or c == " " for c in used):
            return f"letters, digits and spaces cannot be separators: {''.join(used)!r}"
        return None


def pad_isa(position: int, value: Any) -> str:
    """ISA ``position`` (1-16) at its width: ids padded with spaces, numbers with zeros.

    Raises ValueError when the value is longer than the width.
    """
    text = "" if value is None else str(value)
    width = ISA_WIDTHS[position - 1]
    if len(text) > width:
        raise ValueError(f"ISA{position:02d} is {width} wide, {text!r} has {len(text)}")
    if position == 13 and text.isdigit():
        return text.rjust(width, "0")
    return text.ljust(width)


def isa_check(header: list[str]) -> list[tuple[int, str, str]]:
    """``(position, I18 code, reason)`` for each ISA element that breaks its layout."""
    found: list[tuple[int, str, str]] = []
    for n, value in enumerate(header[:16], 1):
        width = ISA_WIDTHS[n - 1]
        if len(value) != width:
            found.append(
                (n, ISA_CODES[n - 1], f"ISA{n:02d} has {len(value)} characters, not {width}")
            )
        elif n in _NUMERIC and not value.isdigit():
            found.append((n, ISA_CODES[n - 1], f"ISA{n:02d} is not a {_NUMERIC[n]}: {value!r}"))
    if len(header) == 16 and len(header[14]) == 1 and header[14] not in "PTI":
        found.append((15, "020", f"ISA15 (usage indicator) is P, T or I, not {header[14]!r}"))
    if len(header) < 16:
        found.append((len(header), "022", f"ISA has {len(header)} data elements, not 16"))
    return found


_CONTROL = re.compile(r"[0-9]{1,9}\Z")


@dataclass(frozen=True)
class X12Envelope:
    """What one partner's interchanges carry in ISA and GS, typed.

    A partner layer builds one from a profile and calls :meth:`isa` and :meth:`gs`
    (or :func:`wrap`) with the control numbers it allocated.
    """

    sender_qualifier: str  # ISA05, e.g. ZZ, 01, 12
    sender_id: str  # ISA06
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    control_number: int | str  # ISA13 (and IEA02); up to 9 digits
    usage_indicator: str = "P"  # ISA15: P production, T test, I information
    version: str = "00401"  # ISA12: 00401, 00501 ...
    group_version: str = "004010"  # GS08: 004010, 005010, 005010X231A1 ...
    application_sender: str | None = None  # GS02 (default: sender_id)
    application_receiver: str | None = None  # GS03 (default: receiver_id)
    group_control_number: int | str | None = None  # GS06 (default: control_number)
    acknowledgment_requested: str = "0"  # ISA14
    authorization: tuple[str, str] = ("00", "")  # ISA01, ISA02
    security: tuple[str, str] = ("00", "")  # ISA03, ISA04
    separators: Separators = field(default_factory=Separators)
    date_time: datetime | None = None  # default: now

    def __post_init__(self) -> None:
        if not _CONTROL.match(str(self.control_number)):
            raise ValueError(f"control_number {self.control_number!r} is not 1-9 digits")
        problem = self.separators.problem()
        if problem:
            raise ValueError(problem)
        if self.version >= "00402" and not self.separators.repetition:
            raise ValueError(f"ISA12 {self.version} needs a repetition separator (ISA11)")

    def isa(self) -> list[str]:
        """ISA01 ... ISA16, each at its fixed width."""
        when = self.date_time or datetime.now()
        repetition = self.separators.repetition if self.version >= "00402" else "U"
        values = [
            *self.authorization,
            *self.security,
            self.sender_qualifier,
            self.sender_id,
            self.receiver_qualifier,
            self.receiver_id,
            when.strftime("%y%m%d"),
            when.strftime("%H%M"),
            repetition,
            self.version,
            str(self.control_number),
            self.acknowledgment_requested,
            self.usage_indicator,
            self.separators.component,
        ]
        return [pad_isa(n, v) for n, v in enumerate(values, 1)]

    def gs(self, functional_group: str) -> list[str]:
        """GS01 ... GS08 for a group of ``functional_group`` (PO, IN, SH, FA ...)."""
        when = self.date_time or datetime.now()
        number = self.group_control_number
        return [
            functional_group,
            self.application_sender or self.sender_id.strip(),
            self.application_receiver or self.receiver_id.strip(),
            when.strftime("%Y%m%d"),
            when.strftime("%H%M"),
            str(number if number is not None else int(str(self.control_number))),
            "X",
            self.group_version,
        ]


def wrap(
    envelope: X12Envelope,
    functional_group: str,
    messages: list[dict[str, Any]],
    *,
    newline: str | None = "\n",
) -> dict[str, Any]:
    """An interchange tree of one group holding ``messages`` (each ``{"type", "segments"}``
    or ``{"type", "body"}``); the writer computes SE, GE and IEA."""
    return {
        "separators": envelope.separators.to_tree(),
        "newline": newline,
        "header": envelope.isa(),
        "groups": [{"header": envelope.gs(functional_group), "messages": messages}],
    }
