"""What an acknowledgement says, whatever its standard (CONTRL, 997, 999, TA1).

A value of the formats layer, because the codecs read acknowledgements into it and the
partner layer matches it to what was sent; the store keeps its fields as plain values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["AckReport", "AckStatus"]


class AckStatus(enum.StrEnum):
    """The outcome an acknowledgement reports for what it acknowledges."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"  # 997/999 E or P; CONTRL 7 with a rejected part
    REJECTED = "rejected"


@dataclass(frozen=True)
class AckReport:
    """One received acknowledgement of one interchange (CONTRL, TA1) or group (997, 999).

    ``interchange_ref`` is the acknowledged interchange's control reference (UCI 0020,
    TA101); ``group_ref`` the acknowledged group's (UCF 0048, AK102). ``errors`` are the
    partner's codes, each ``"CODE at PLACE"``, as the history shows them.
    """

    kind: str
    status: AckStatus
    interchange_ref: str | None = None
    group_ref: str | None = None
    sender: str | None = None  # the acknowledged interchange's sender (UCI S002)
    recipient: str | None = None
    errors: tuple[str, ...] = ()

    def detail(self) -> dict[str, object]:
        """The report as JSON for the store and the history."""
        return {
            "kind": self.kind,
            "status": self.status.value,
            "interchange_ref": self.interchange_ref,
            "group_ref": self.group_ref,
            "errors": list(self.errors),
        }
