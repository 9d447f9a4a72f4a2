"""CONTRL: the syntax and service report (CONTRL D:3) answering a received interchange.

:func:`build_contrl` turns a :class:`Reading` (and faults found later, e.g. by message
validation) into a tree of the same shape as a decoded interchange, so
``EdifactCodec().encode(tree)`` writes it::

    UNB  the received recipient as sender and the received sender as recipient
    UNH  CONTRL:D:3:UN
    UCI  received 0020, S002, S003; 0083 action; 0085, 0013, S011 of an interchange fault
    UCM  per message (SG1): 0062, S009, 0083 [, 0085, 0013, S011 of a UNH/UNT fault]
      UCS  a segment in error (SG2): 0096 position counting UNH as 1 [, 0085]
      UCD  a data element in error: 0085, S011 (element position:component position)
    UCF  per functional group (SG3): 0048, S006, S007, 0083 [, 0085, 0013, S011],
         then the UCM of its messages (SG4)
    UNT, UNZ

Actions (0083): 7 acknowledged (lower levels too unless rejected there), 4 rejected
(this level and all lower ones). A fault in the envelope (UNB/UNZ, segments outside a
message) rejects the interchange; one in a group's UNG/UNE the group; one in a message
the message. UCI, UCF and UCM carry one error code each: the first fault at that level.
Messages and groups without faults are listed only with ``report_messages=True``.

Faults are matched to messages by ``message_ref`` (the UNH reference; the interchange
position ``segment`` decides between messages sharing a reference); ``message_segment``
places a fault on a UCS, ``element``/``component`` on a UCD.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.formats.edifact.faults import Fault
from hub.formats.edifact.interchange import Reading

__all__ = ["ACCEPTED", "REJECTED", "build_contrl"]

ACCEPTED = "7"  # 0083: this level and all lower levels acknowledged if not explicitly rejected
REJECTED = "4"  # 0083: this level and all lower levels rejected

_SERVICE_TAGS = frozenset({"UNB", "UNZ", "UNG", "UNE", "UNH", "UNT"})
_V3_CHARSETS = frozenset(f"UNO{c}" for c in "ABCDEFGHIJK")  # UNOW/UNOY need syntax 4
_CONTRL_VERSIONS = frozenset({"2", "3"})  # syntax versions CONTRL D:3 belongs to
_MAX_UCS = 999  # SG2 repeats
_MAX_UCD = 99  # UCD per UCS


@dataclass
class _Message:
    message: dict[str, Any]
    first: int  # interchange position of UNH (UNB = 1)
    last: int  # interchange position of its last segment
    own: list[Fault] = field(default_factory=list)  # UNH/UNT faults: on the UCM
    located: list[Fault] = field(default_factory=list)  # faults with message_segment


@dataclass
class _Group:
    header: list[Any]
    first: int  # UNG
    last: int  # UNE
    messages: list[_Message] = field(default_factory=list)
    own: list[Fault] = field(default_factory=list)


def build_contrl(
    reading: Reading,
    *,
    reference: str,
    extra_faults: Sequence[Fault] = (),
    date_time: datetime | None = None,
    report_messages: bool = False,
    message_reference: str = "1",
    charset: str | None = None,
) -> dict[str, Any]:
    """The CONTRL interchange answering ``reading``; ``reference`` is its UNB/UNZ 0020.

    ``extra_faults`` are added to the reading's envelope faults (message validation);
    ``date_time`` goes into UNB (default: now); ``charset`` is the UNB syntax identifier
    (default: the received one). UNB answers in the sender's syntax version, 2 or 3; a
    version 4 interchange is answered in version 3 (UNOC for UNOW and UNOY).
    """
    received = reading.tree
    header = list(received.get("header") or [])
    interchange: list[Fault] = []
    groups, loose = _index(received)
    every = [m for g in groups for m in g.messages] + loose
    for fault in [*reading.faults, *extra_faults]:
        message = _message_of(fault, every)
        if message is not None:
            (message.located if fault.message_segment is not None else message.own).append(fault)
            continue
        group = next((g for g in groups if g.first <= fault.segment <= g.last), None)
        (group.own if group is not None else interchange).append(fault)

    rejected = bool(interchange)
    uci: list[Any] = [
        "UCI",
        _text(_at(header, 4)),
        _at(header, 1),
        _at(header, 2),
        REJECTED if rejected else ACCEPTED,
    ]
    if interchange:
        uci += _error(interchange[0], missing="UNZ")
    segments: list[Any] = [["UNH", message_reference, ["CONTRL", "D", "3", "UN"]], _trim(uci)]
    for message in loose:
        segments += _ucm(message, rejected, report_messages)
    for group in groups:
        group_rejected = rejected or bool(group.own)
        answers = [s for m in group.messages for s in _ucm(m, group_rejected, report_messages)]
        if answers or group.own or report_messages:
            ucf: list[Any] = [
                "UCF",
                _text(_at(group.header, 4)),
                _at(group.header, 1),
                _at(group.header, 2),
                REJECTED if group_rejected else ACCEPTED,
            ]
            if group.own:
                ucf += _error(group.own[0], missing="UNE")
            segments += [_trim(ucf), *answers]
    segments.append(["UNT", str(len(segments) + 1), message_reference])

    when = date_time or datetime.now()
    identifier, version = _syntax(header, charset)
    separators = dict(received.get("separators") or {})
    separators["repetition"] = " "  # reserved before syntax version 4
    return {
        "una": bool(received.get("una")),
        "separators": separators,
        "syntax": {"identifier": identifier, "version": version},
        "newline": received.get("newline"),
        "header": [
            [identifier, version],
            _at(header, 2),
            _at(header, 1),
            [when.strftime("%y%m%d"), when.strftime("%H%M")],
            reference,
        ],
        "trailer": ["1", reference],
        "messages": [
            {
                "type": "CONTRL",
                "version": "D",
                "release": "3",
                "agency": "UN",
                "reference": message_reference,
                "segments": segments,
            }
        ],
    }


def _syntax(header: list[Any], charset: str | None) -> tuple[str, str]:
    """The UNB syntax identifier and version of the answer: the sender's own.

    CONTRL D:3 is a message of syntax versions 2 and 3, so a version 2 or 3 sender is
    answered in its identifier and version. A version 4 sender (``CONTRL:4:1`` would be
    its own report) is answered in version 3, which every version 4 reader accepts,
    with UNOC in place of the version 4 sets UNOW and UNOY.
    """
    received = _at(header, 0)
    identifier = charset or _text(received).upper()
    version = str(received[1]) if isinstance(received, list) and len(received) > 1 else ""
    if version not in _CONTRL_VERSIONS:
        version = "3"
        if charset is None and identifier not in _V3_CHARSETS:
            identifier = "UNOC"
    return identifier, version


def _index(tree: dict[str, Any]) -> tuple[list[_Group], list[_Message]]:
    """Groups and messages with their interchange positions, counting UNB as 1."""
    at = 1
    groups: list[_Group] = []
    loose: list[_Message] = []

    def messages(items: Any, into: list[_Message]) -> None:
        nonlocal at
        for message in items if isinstance(items, list) else []:
            if isinstance(message, dict):
                count = len(message.get("segments") or [])
                into.append(_Message(message, at + 1, at + max(count, 1)))
                at += count

    if "groups" in tree:
        for raw in tree.get("groups") or []:
            if not isinstance(raw, dict):
                continue
            group = _Group(list(raw.get("header") or []), at + 1, at + 1)
            at += 1  # UNG
            messages(raw.get("messages"), group.messages)
            group.last = at + 1  # UNE, or the segment found instead (its "expected UNE")
            if raw.get("trailer"):
                at += 1
            groups.append(group)
    else:
        messages(tree.get("messages"), loose)
    return groups, loose


def _message_of(fault: Fault, messages: list[_Message]) -> _Message | None:
    if fault.message_ref is None:
        return None
    same = [m for m in messages if str(m.message.get("reference") or "") == fault.message_ref]
    if len(same) < 2:
        return same[0] if same else None
    for message in same:  # a reference used twice: the one holding the position
        if message.first <= fault.segment <= message.last:
            return message
    before = [m for m in same if m.first <= fault.segment]
    return before[-1] if before else same[0]


def _ucm(message: _Message, rejected: bool, report: bool) -> list[Any]:
    """UCM and its UCS/UCD for one message, or nothing for a sound one (unless report)."""
    faulty = bool(message.own or message.located)
    if not (faulty or report):
        return []
    msg = message.message
    ucm: list[Any] = [
        "UCM",
        str(msg.get("reference") or ""),
        _s009(msg),
        REJECTED if rejected or faulty else ACCEPTED,
    ]
    if message.own:
        ucm += _error(message.own[0], missing="UNT")
    out: list[Any] = [_trim(ucm)]
    out += _ucs(message.located)
    return out


def _ucs(faults: list[Fault]) -> list[Any]:
    """One UCS per segment in error (plus one per further segment-level code), then UCDs."""
    by_position: dict[int, list[Fault]] = {}
    for fault in faults:
        by_position.setdefault(int(fault.message_segment or 0), []).append(fault)
    out: list[Any] = []
    count = 0
    for position in sorted(by_position):
        found = by_position[position]
        whole = [f.code for f in found if f.element is None]
        details: list[tuple[str, Any]] = []
        for fault in found:
            if fault.element is None:
                continue
            s011: Any = (
                [str(fault.element), str(fault.component)]
                if fault.component is not None
                else str(fault.element)
            )
            if (fault.code, s011) not in details:
                details.append((fault.code, s011))
        codes: list[str | None] = [*dict.fromkeys(whole)] or [None]
        for n, code in enumerate(codes):
            if count >= _MAX_UCS:
                return out
            count += 1
            out.append(["UCS", str(position)] + ([code] if code else []))
            if n == 0:
                out += [["UCD", code_, s011] for code_, s011 in details[:_MAX_UCD]]
    return out


def _error(fault: Fault, *, missing: str) -> list[Any]:
    """0085, 0013, S011 for UCI/UCF/UCM; a missing trailer is named by ``missing``."""
    tag: str | None = fault.tag if fault.tag in _SERVICE_TAGS else None
    if fault.code == "13" and fault.message_segment is None and fault.element is None:
        tag = missing  # "expected UNZ/UNE", "has no UNT": located on the segment found
    out: list[Any] = [fault.code]
    if tag is not None:
        out.append(tag)
        if fault.element is not None and tag == fault.tag:
            out.append(
                [str(fault.element), str(fault.component)]
                if fault.component is not None
                else str(fault.element)
            )
    return out


def _s009(message: dict[str, Any]) -> Any:
    segments = message.get("segments") or []
    first = segments[0] if segments else None
    if isinstance(first, list) and first[:1] == ["UNH"] and len(first) > 2:
        return first[2]
    ident = [str(message.get(k) or "") for k in ("type", "version", "release", "agency")]
    while ident and not ident[-1]:
        ident.pop()
    return ident


def _at(items: list[Any], index: int) -> Any:
    return items[index] if len(items) > index else ""


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _trim(segment: list[Any]) -> list[Any]:
    while len(segment) > 1 and segment[-1] in ("", None, []):
        segment.pop()
    return segment
