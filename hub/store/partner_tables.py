"""The tables of the trading-partner layer (migration 0006): control numbers and interchanges.

Registered on the store's :class:`~hub.store.tables.Base`, so the migrations check
(``compare_metadata``) covers them too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base, UTCDateTime

__all__ = ["ControlNumberRow", "InterchangeRow"]


class ControlNumberRow(Base):
    """The last control number used, per partner, direction and kind (interchange, group,
    message). Its row is also the lock that serialises allocations for the partner."""

    __tablename__ = "control_numbers"

    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class InterchangeRow(Base):
    """One interchange exchanged with a partner, inbound or outbound, with its envelope
    references and the state of its acknowledgement."""

    __tablename__ = "interchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))  # in, out
    standard: Mapped[str] = mapped_column(String(8))  # edifact, x12
    sender: Mapped[str] = mapped_column(String(80))  # id, or qualifier:id
    recipient: Mapped[str] = mapped_column(String(80))
    control_ref: Mapped[str] = mapped_column(String(32))  # UNB 0020, ISA13
    group_ref: Mapped[str | None] = mapped_column(String(32))  # UNG 0048, GS06
    message_refs: Mapped[list[str] | None] = mapped_column(JSON)  # UNH 0062, ST02
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    ack_status: Mapped[str] = mapped_column(String(24))
    ack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_message_id: Mapped[str | None] = mapped_column(String(36))
    ack_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_interchanges_lookup", "direction", "sender", "recipient", "control_ref"),
        Index("ix_interchanges_ack", "ack_status", "ack_due_at"),
    )
