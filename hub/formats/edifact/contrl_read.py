"""Read a received CONTRL into an :class:`~hub.formats.acks.AckReport`.

UCI carries the acknowledged interchange (0020, S002, S003) and its action (0083): 7
acknowledged, 4 rejected, 8 received only. A UCI of 7 with a rejected group (UCF) or
message (UCM) is accepted with errors. Error codes (0085) are collected with where they
were reported.
"""

from __future__ import annotations

from typing import Any

from hub.errors import DecodeError
from hub.formats.acks import AckReport, AckStatus

__all__ = ["read_contrl"]

_REJECTED = "4"


def read_contrl(message: dict[str, Any]) -> AckReport:
    """The report of one decoded CONTRL message (``{"type": "CONTRL", "segments": ...}``)."""
    segments = [s for s in message.get("segments") or [] if isinstance(s, list) and s]
    uci = next((s for s in segments if s[0] == "UCI"), None)
    if uci is None:
        raise DecodeError("the CONTRL has no UCI segment", hint="UCI follows UNH in a CONTRL")
    action = _text(_at(uci, 4))
    errors: list[str] = []
    if _text(_at(uci, 5)):
        errors.append(f"{_text(_at(uci, 5))} at interchange {_text(_at(uci, 6)) or ''}".strip())
    rejected_part = False
    where = ""
    for segment in segments:
        tag = segment[0]
        if tag == "UCF":
            where = f"group {_text(_at(segment, 1))}"
            rejected_part |= _text(_at(segment, 4)) == _REJECTED
            if _text(_at(segment, 5)):
                errors.append(f"{_text(_at(segment, 5))} at {where}")
        elif tag == "UCM":
            where = f"message {_text(_at(segment, 1))}"
            rejected_part |= _text(_at(segment, 3)) == _REJECTED
            if _text(_at(segment, 4)):
                errors.append(f"{_text(_at(segment, 4))} at {where}")
        elif tag == "UCS" and _text(_at(segment, 2)):
            errors.append(f"{_text(_at(segment, 2))} at {where} segment {_text(_at(segment, 1))}")
        elif tag == "UCD":
            position = _at(segment, 2)
            place = ":".join(position) if isinstance(position, list) else _text(position)
            errors.append(f"{_text(_at(segment, 1))} at {where} element {place}")
    if action == _REJECTED:
        status = AckStatus.REJECTED
    elif rejected_part or errors:
        status = AckStatus.ACCEPTED_WITH_ERRORS
    else:
        status = AckStatus.ACCEPTED
    return AckReport(
        kind="CONTRL",
        status=status,
        interchange_ref=_text(_at(uci, 1)) or None,
        sender=_text(_at(uci, 2)) or None,
        recipient=_text(_at(uci, 3)) or None,
        errors=tuple(errors),
    )


def _at(items: list[Any], index: int) -> Any:
    return items[index] if len(items) > index else ""


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)
