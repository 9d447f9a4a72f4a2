"""The EDI inbox: one endpoint for every partner's interchanges.

At ingest (:meth:`Inbox.receive`), in one transaction: the file is stored as a message of
the inbox route (its sinks archive it); each interchange from a known partner is recorded
(a repeat within the profile's window is a duplicate); an acknowledgement received
(CONTRL, 997, 999, TA1) closes the interchange it answers; and the acknowledgements the
profile wants are stored as messages of the partner's ``NAME.acks`` route, numbered and
delivered (retried, dead-lettered) like any other message.

In the worker's turn (:class:`hub.partners.turns.InboxTranslator`) each message of the
file goes on to the route its partner's profile names for its type.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hub.config.partners import PartnerConfig
from hub.errors import DecodeError, LimitExceeded
from hub.formats.acks import AckReport, AckStatus
from hub.formats.edifact import EdifactOptions
from hub.formats.edifact.contrl_read import read_contrl
from hub.formats.limits import DecodeLimits
from hub.formats.x12 import X12Options
from hub.formats.x12.acks import read_functional_ack, read_ta1
from hub.message import Event, Message
from hub.partners.acks import answers_for, write_answer
from hub.partners.directory import PartnerDirectory, UnknownPartner
from hub.partners.outgoing import X12_MAX, identity
from hub.partners.received import Received, detect_standard, read_received
from hub.pipeline.inbox import InboxFile, InboxReceipt
from hub.store import Store
from hub.store.interchanges import (
    close_outbound,
    number_outbound,
    record_inbound,
    set_ack_status,
)
from hub.store.notify import notify
from hub.store.rows import event_values, insert_messages, storable
from hub.store.tables import EventRow, MessageRow

__all__ = ["Inbox", "InboxFile", "InboxReceipt", "ack_route"]


def ack_route(partner: str) -> str:
    """The hub's own route that sends ``partner`` its acknowledgements."""
    return f"{partner}.acks"


@dataclass
class Inbox:
    """Receives interchanges on the inbox route ``route``."""

    route: str
    directory: PartnerDirectory
    store: Store
    sinks: Sequence[str]
    edifact_options: EdifactOptions | None = None
    x12_options: X12Options | None = None
    limits: DecodeLimits | None = None
    ack_sinks: Mapping[str, str] = field(default_factory=dict)  # partner -> its sink

    def read(self, body: bytes) -> list[Received]:
        return read_received(
            body,
            edifact_options=self.edifact_options,
            x12_options=self.x12_options,
            limits=self.limits,
        )

    def receive(
        self,
        body: bytes,
        *,
        source: str,
        content_type: str | None,
        headers: Mapping[str, str],
    ) -> InboxReceipt:
        """Store the file, record its interchanges and their acknowledgements; raises
        :class:`DecodeError` for bytes that are no interchange."""
        file = self.prepare(body, source=source, content_type=content_type, headers=headers)
        with self.store.transaction() as session:
            return self.record(session, file)

    def prepare(
        self,
        body: bytes,
        *,
        source: str,
        content_type: str | None,
        headers: Mapping[str, str],
        key: str | None = None,
        strict: bool = True,
    ) -> InboxFile:
        """Read the file; ``key`` (a polled item's name) makes a file polled again a
        repeat. Not ``strict``, bytes that are no interchange are kept whole: the inbox
        message's turn dead-letters them with the reader's error."""
        try:
            interchanges = self.read(body)
            standard = detect_standard(body)
        except LimitExceeded:
            raise
        except DecodeError:
            if strict:
                raise
            interchanges, standard = [], "edi"
        message = storable(
            Message(
                id=str(uuid.uuid4()),
                route=self.route,
                source=source,
                body=body,
                format=standard,
                correlation_key=interchanges[0].control_ref if interchanges else None,
                content_type=content_type,
                headers=dict(headers),
                idempotency_key=key,
            )
        )
        return InboxFile(message, tuple(interchanges))

    def record(self, session: Session, file: InboxFile) -> InboxReceipt:
        """In the caller's transaction: the inbox message, each interchange's record (a
        repeat within the profile's window is a duplicate), the acknowledgements received
        matched and the ones owed stored. A file whose key was recorded before is a
        repeat (a poll that died before confirming it): nothing is recorded again."""
        message = file.message
        if message.idempotency_key is not None:
            earlier = session.scalars(
                select(MessageRow.id).where(
                    MessageRow.route == self.route,
                    MessageRow.idempotency_key == message.idempotency_key,
                )
            ).first()
            if earlier is not None:
                return InboxReceipt(earlier, (earlier,), duplicate=False)
        acks: list[str] = []
        refused: list[bool] = []  # per duplicate interchange: refused (else flagged)
        insert_messages(session, [message], list(self.sinks), self.store.sealer)
        if self.store.is_postgres:
            notify(session)  # wake idle workers in every process at commit
        interchanges: Sequence[Received] = file.interchanges
        for received in interchanges:
            try:
                name, profile = self.directory.find(received)
            except UnknownPartner:
                continue  # the inbox message dead-letters in its turn, saying why
            duplicate = self._record(session, name, profile, received, message.id)
            if duplicate:
                refused.append(profile.duplicates.action == "refuse")
            if received.is_ack or received.ta1:
                self._match(session, name, received, message.id)
            acks += self._answer(session, name, profile, received, duplicate)
        every_refused = bool(interchanges) and len(refused) == len(interchanges) and all(refused)
        return InboxReceipt(message.id, (message.id, *acks), every_refused, tuple(acks))

    def _record(
        self,
        session: Session,
        name: str,
        profile: PartnerConfig,
        received: Received,
        message_id: str,
    ) -> bool:
        answers = answers_for(profile, received, duplicate=False)
        record = record_inbound(
            session,
            partner=name,
            standard=received.standard,
            sender=identity(*received.sender),
            recipient=identity(*received.recipient),
            control_ref=received.control_ref,
            group_ref=received.group_ref,
            message_refs=[m.reference for m in received.messages],
            message_id=message_id,
            window=timedelta(hours=profile.duplicates.window_hours),
            ack_status=answers[0].outcome if answers else "not_sent",
            test=received.test,
        )
        if record.duplicate_of is not None:
            answers = answers_for(profile, received, duplicate=True)
            set_ack_status(session, record.id, answers[0].outcome if answers else "not_sent")
            session.execute(
                insert(EventRow),
                [
                    event_values(
                        message_id,
                        Event(
                            "duplicate",
                            f"interchange {received.control_ref} from {name} was received "
                            f"before (interchange record {record.duplicate_of}); "
                            f"{profile.duplicates.action}d",
                            data={"duplicate_of": record.duplicate_of},
                        ),
                    )
                ],
            )
        return record.duplicate_of is not None

    def _answer(
        self,
        session: Session,
        name: str,
        profile: PartnerConfig,
        received: Received,
        duplicate: bool,
    ) -> list[str]:
        made: list[str] = []
        sink = self.ack_sinks.get(name)
        if sink is None:
            return made
        for answer in answers_for(profile, received, duplicate=duplicate):
            ack_id = str(uuid.uuid4())
            maximum = X12_MAX if profile.standard == "x12" else profile.edifact.control_max
            numbers = number_outbound(
                session,
                partner=name,
                standard=profile.standard,
                sender=identity(profile.our_id.id, profile.our_id.qualifier),
                recipient=identity(profile.their_id.id, profile.their_id.qualifier),
                message_id=ack_id,
                maximum=maximum,
                awaits_ack=False,
                test=profile.test,
            )
            body = write_answer(answer, profile, received, numbers, duplicate=duplicate)
            ack = storable(
                Message(
                    id=ack_id,
                    route=ack_route(name),
                    source=f"ack:{received.control_ref}",
                    body=body,
                    format=profile.standard,
                    correlation_key=received.control_ref,
                    content_type="application/EDIFACT"
                    if profile.standard == "edifact"
                    else "application/EDI-X12",
                    headers={
                        "x-hub-ack-kind": answer.kind,
                        "x-hub-ack-outcome": answer.outcome,
                        "x-hub-partner": name,
                    },
                )
            )
            insert_messages(session, [ack], [sink], self.store.sealer)
            made.append(ack_id)
        return made

    def _match(self, session: Session, name: str, received: Received, inbox_id: str) -> None:
        """Close the outbound interchanges the received acknowledgements answer: a TA1 and
        a CONTRL name the interchange, a 997/999 its group. A TA1 that accepts does not
        overrule what a 997/999 already said of the interchange."""
        reports = [read_ta1(values) for values in received.ta1]
        reports += [
            report
            for part in received.messages
            if (report := _report(part.type, part.tree)) is not None
        ]
        for report in reports:
            by_group = report.kind in ("997", "999")
            ref = report.group_ref if by_group else report.interchange_ref
            closed = close_outbound(
                session,
                partner=name,
                control_ref=ref or "",
                by_group=by_group,
                status=report.status.value,
                detail=report.detail(),
                ack_message_id=inbox_id,
                overrule=report.kind != "TA1" or report.status is AckStatus.REJECTED,
            )
            text = ", ".join(report.errors) or "no errors"
            if closed is None:
                event = Event(
                    "ack_unmatched",
                    f"{report.kind} from {name} answers {ref!r}, which was not sent to it",
                    data=report.detail(),
                )
                session.execute(insert(EventRow), [event_values(inbox_id, event)])
                continue
            if closed.message_id is not None:
                event = Event(
                    "ack_received",
                    f"{report.kind} from {name}: {report.status.value} ({text})",
                    data=report.detail(),
                )
                session.execute(insert(EventRow), [event_values(closed.message_id, event)])


def _report(kind: str, tree: dict[str, Any]) -> AckReport | None:
    if kind == "CONTRL":
        return read_contrl(tree)
    if kind in ("997", "999"):
        return read_functional_ack(tree)
    return None
