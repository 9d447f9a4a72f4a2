"""Interchanges exchanged with partners: duplicate detection inbound, numbering and the
acknowledgement state outbound. Each function works inside the caller's transaction
(:meth:`Store.transaction`), so a record is written together with the messages it concerns.

Acknowledgement states (``ack_status``): outbound ``sending`` from its numbering until a
sink delivered it, then ``awaiting`` (with ``ack_due_at``: the delivery plus the profile's
``expect_within_hours``) until the partner's CONTRL/997/999/TA1 closes it as ``accepted``,
``accepted_with_errors`` or ``rejected``; ``not_expected`` when the profile owes none;
``replaced`` when the message was translated again (a replay) into a new interchange.
Inbound, the state of the acknowledgement the hub sent: ``accepted``, ``accepted_with_errors``,
``rejected``, or ``not_sent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from hub.message import utcnow
from hub.store.control_numbers import allocate
from hub.store.partner_tables import InterchangeRow
from hub.store.tables import UTCDateTime

__all__ = [
    "AWAITING",
    "InterchangeRecord",
    "OutboundNumbers",
    "awaiting_by_partner",
    "awaiting_message_ids",
    "close_outbound",
    "count_overdue",
    "interchanges_of",
    "number_outbound",
    "record_inbound",
    "set_ack_status",
    "start_ack_clocks",
]

_TABLE = cast(Table, InterchangeRow.__table__)

SENDING = "sending"
AWAITING = "awaiting"
NOT_EXPECTED = "not_expected"
REPLACED = "replaced"


@dataclass(frozen=True)
class InterchangeRecord:
    """One row of ``interchanges``, for the API, the CLI and tests."""

    id: int
    partner: str
    direction: str
    standard: str
    sender: str
    recipient: str
    control_ref: str
    group_ref: str | None
    message_refs: tuple[str, ...]
    message_id: str | None
    at: datetime
    duplicate_of: int | None
    ack_status: str
    ack_due_at: datetime | None
    ack_message_id: str | None
    ack_detail: dict[str, Any] | None

    def overdue(self, now: datetime | None = None) -> bool:
        return (
            self.ack_status == AWAITING
            and self.ack_due_at is not None
            and self.ack_due_at < (now or utcnow())
        )


@dataclass(frozen=True)
class OutboundNumbers:
    """The control numbers of one outgoing interchange of one message."""

    interchange: int
    group: int
    message: int
    record_id: int


def record_inbound(
    session: Session,
    *,
    partner: str,
    standard: str,
    sender: str,
    recipient: str,
    control_ref: str,
    group_ref: str | None,
    message_refs: Sequence[str],
    message_id: str | None,
    window: timedelta,
    ack_status: str,
    test: bool = False,
) -> InterchangeRecord:
    """Record a received interchange; ``duplicate_of`` names an earlier one with the same
    sender, recipient and control reference within ``window`` (else None).

    The partner's inbound counter row is stepped first: it serialises the check and the
    insert across workers, so two copies arriving at once cannot both be the first.
    """
    allocate(session, partner, "in", "interchange", maximum=2**62)
    now = utcnow()
    earlier = session.scalars(
        select(InterchangeRow.id)
        .where(
            InterchangeRow.direction == "in",
            InterchangeRow.sender == sender,
            InterchangeRow.recipient == recipient,
            InterchangeRow.control_ref == control_ref,
            InterchangeRow.at >= now - window,
        )
        .order_by(InterchangeRow.id)
        .limit(1)
    ).first()
    values = {
        "partner": partner,
        "direction": "in",
        "standard": standard,
        "sender": sender,
        "recipient": recipient,
        "control_ref": control_ref,
        "group_ref": group_ref,
        "message_refs": list(message_refs),
        "message_id": message_id,
        "at": now,
        "duplicate_of": earlier,
        "ack_status": ack_status,
        "test": test,
        "note": "",
    }
    new_id = session.execute(insert(InterchangeRow).returning(InterchangeRow.id), [values])
    return _record_of(session.get_one(InterchangeRow, new_id.scalar_one()))


def set_ack_status(session: Session, record_id: int, status: str) -> None:
    """What the acknowledgement sent for a received interchange told the partner."""
    session.execute(
        update(InterchangeRow).where(InterchangeRow.id == record_id).values(ack_status=status)
    )


def number_outbound(
    session: Session,
    *,
    partner: str,
    standard: str,
    sender: str,
    recipient: str,
    message_id: str,
    maximum: int,
    awaits_ack: bool,
    test: bool = False,
) -> OutboundNumbers:
    """Take the next control numbers of an interchange to ``partner`` for ``message_id``
    and record it, in the caller's transaction: the one that stores the interchange.

    An earlier interchange of the same message still open (a replay translates again) is
    ``replaced``: only the newest one waits for an acknowledgement.
    """
    [interchange] = allocate(session, partner, "out", "interchange", maximum=maximum)
    [group] = allocate(session, partner, "out", "group", maximum=min(maximum, 999_999_999))
    [message] = allocate(session, partner, "out", "message", maximum=min(maximum, 999_999_999))
    session.execute(
        update(InterchangeRow)
        .where(
            InterchangeRow.message_id == message_id,
            InterchangeRow.direction == "out",
            InterchangeRow.ack_status.in_([SENDING, AWAITING]),
        )
        .values(ack_status=REPLACED)
    )
    new_id = session.execute(
        insert(InterchangeRow).returning(InterchangeRow.id),
        [
            {
                "partner": partner,
                "direction": "out",
                "standard": standard,
                "sender": sender,
                "recipient": recipient,
                "control_ref": str(interchange),
                "group_ref": str(group),
                "message_refs": [str(message)],
                "message_id": message_id,
                "at": utcnow(),
                "duplicate_of": None,
                "ack_status": SENDING if awaits_ack else NOT_EXPECTED,
                "ack_due_at": None,
                "test": test,
                "note": "",
            }
        ],
    ).scalar_one()
    return OutboundNumbers(interchange, group, message, new_id)


def start_ack_clocks(session: Session, due: Sequence[tuple[str, datetime]]) -> None:
    """The messages (id, deadline) were delivered: their interchange now awaits its
    acknowledgement until the deadline (the delivery plus the profile's window)."""
    if not due:
        return
    table = _TABLE.c
    session.execute(
        update(_TABLE)
        .where(
            table.message_id == bindparam("m_id"),
            table.direction == "out",
            table.ack_status == SENDING,
        )
        .values(ack_status=AWAITING, ack_due_at=bindparam("m_due", type_=UTCDateTime())),
        [{"m_id": message_id, "m_due": at} for message_id, at in due],
    )


def close_outbound(
    session: Session,
    *,
    partner: str,
    control_ref: str,
    status: str,
    detail: dict[str, Any],
    ack_message_id: str | None,
    by_group: bool = False,
    overrule: bool = True,
) -> InterchangeRecord | None:
    """Close the newest outbound interchange to ``partner`` numbered ``control_ref`` (its
    group's number with ``by_group``: a 997/999 answers a group) with the acknowledgement's
    outcome; None if no such interchange was sent. Numbers compare without leading zeros.
    Without ``overrule`` an interchange an acknowledgement already closed is left as it is."""
    column = InterchangeRow.group_ref if by_group else InterchangeRow.control_ref
    wanted = control_ref.lstrip("0") or "0"
    row = session.scalars(
        select(InterchangeRow)
        .where(
            InterchangeRow.partner == partner,
            InterchangeRow.direction == "out",
            column == wanted,
        )
        .order_by(InterchangeRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    if not overrule and row.ack_status not in (SENDING, AWAITING, NOT_EXPECTED):
        return _record_of(row)
    session.execute(
        update(InterchangeRow)
        .where(InterchangeRow.id == row.id)
        .values(ack_status=status, ack_detail=detail, ack_message_id=ack_message_id)
    )
    session.flush()
    session.refresh(row)
    return _record_of(row)


def interchanges_of(session: Session, message_ids: Sequence[str]) -> list[InterchangeRecord]:
    """The interchanges of these messages (either direction), oldest first."""
    if not message_ids:
        return []
    rows = session.scalars(
        select(InterchangeRow)
        .where(InterchangeRow.message_id.in_(list(message_ids)))
        .order_by(InterchangeRow.id)
    ).all()
    return [_record_of(row) for row in rows]


def count_overdue(session: Session, now: datetime | None = None) -> int:
    """Outbound interchanges whose acknowledgement is past due."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InterchangeRow)
            .where(
                InterchangeRow.ack_status == AWAITING, InterchangeRow.ack_due_at < (now or utcnow())
            )
        )
        or 0
    )


def _record_of(row: InterchangeRow) -> InterchangeRecord:
    return InterchangeRecord(
        id=row.id,
        partner=row.partner,
        direction=row.direction,
        standard=row.standard,
        sender=row.sender,
        recipient=row.recipient,
        control_ref=row.control_ref,
        group_ref=row.group_ref,
        message_refs=tuple(row.message_refs or ()),
        message_id=row.message_id,
        at=row.at,
        duplicate_of=row.duplicate_of,
        ack_status=row.ack_status,
        ack_due_at=row.ack_due_at,
        ack_message_id=row.ack_message_id,
        ack_detail=row.ack_detail,
    )


def awaiting_by_partner(
    session: Session, now: datetime | None = None
) -> dict[str, tuple[int, int]]:
    """Per partner: (awaiting an acknowledgement, of which overdue)."""
    at = now or utcnow()
    rows = session.execute(
        select(
            InterchangeRow.partner,
            func.count(),
            func.sum(case((InterchangeRow.ack_due_at < at, 1), else_=0)),
        )
        .where(InterchangeRow.ack_status == AWAITING)
        .group_by(InterchangeRow.partner)
    ).all()
    return {partner: (int(count), int(late or 0)) for partner, count, late in rows}


def awaiting_message_ids(overdue: bool, now: datetime | None = None) -> Any:
    """A subquery of the ids of messages awaiting an acknowledgement (overdue ones only,
    with ``overdue``), for ``GET /messages?awaiting_ack=``."""
    query = select(InterchangeRow.message_id).where(InterchangeRow.ack_status == AWAITING)
    if overdue:
        query = query.where(InterchangeRow.ack_due_at < (now or utcnow()))
    return query
