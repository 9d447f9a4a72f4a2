"""Located EDIFACT faults, with the CONTRL syntax error code (UN/EDIFACT code list 0085)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import Problem

__all__ = ["Fault"]


@dataclass(frozen=True)
class Fault:
    """One thing wrong in an interchange, precise enough for a person and for CONTRL."""

    message: str
    segment: int  # position in the interchange, counting UNB as 1
    tag: str
    code: str = "18"  # 0085: 12 invalid value, 13 missing, 28 references differ, 29 count, ...
    element: int | None = None  # 1-based data element position in the segment
    component: int | None = None  # 1-based component position in the element
    line: int | None = None
    message_ref: str | None = None  # the UNH reference of the message it belongs to
    message_segment: int | None = None  # position in the message, counting UNH as 1
    hint: str | None = None
    interchange: int | None = None  # which interchange of a file of several, from 1

    @property
    def where(self) -> str:
        parts = [f"interchange {self.interchange}"] if self.interchange else []
        parts.append(f"segment {self.segment} ({self.tag})")
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def problem(self) -> Problem:
        return Problem(self.message, where=self.where, hint=self.hint)
