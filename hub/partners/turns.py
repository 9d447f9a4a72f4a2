"""The translators of the partner routes, run in the worker's turn.

:class:`InboxTranslator` puts each message of a received file on the route its partner's
profile names for its type, keyed by the inbox message so a repeated turn or a replay adds
nothing twice, then hands the file on unchanged to the inbox's sinks (the archive). An
unknown partner, an unrouted type or an interchange rejected whole make the inbox message a
dead letter that says which. :class:`VerbatimTranslator` sends an acknowledgement as built.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hub.errors import MessageError, Problem
from hub.message import Event, Message
from hub.partners.directory import RejectedInterchange, UnknownPartner
from hub.partners.inbox import Inbox
from hub.partners.received import detect_standard, rejecting_fault
from hub.pipeline.translate import Translation, Translator
from hub.store.interchanges import interchanges_of

__all__ = ["InboxTranslator", "VerbatimTranslator"]


@dataclass(frozen=True)
class InboxTranslator(Translator):
    """The inbox route's turn: route each message on, then archive the file as received."""

    inbox: Inbox | None = None
    route_sinks: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def translate(
        self, body: bytes, *, deadline: float | None = None, message_id: str | None = None
    ) -> Translation:
        inbox = self.inbox
        assert inbox is not None  # set by hub.partners.attach
        interchanges = inbox.read(body)
        refused: set[str] = set()
        if message_id is not None:
            with inbox.store.transaction() as session:
                for record in interchanges_of(session, [message_id]):
                    if record.duplicate_of is not None:
                        refused.add(record.control_ref)
        routed: list[str] = []
        problems: list[MessageError] = []
        for number, received in enumerate(interchanges, 1):
            try:
                name, profile = inbox.directory.find(received)
            except UnknownPartner as exc:
                problems.append(exc)
                continue
            duplicate = received.control_ref in refused
            if received.is_ack or (duplicate and profile.duplicates.action == "refuse"):
                continue
            fault = rejecting_fault(received)
            if fault is not None:  # the acknowledgement rejected it whole: route nothing
                problems.append(
                    RejectedInterchange(
                        f"interchange {received.control_ref} from {name} was rejected: "
                        f"{fault.message}",
                        where=fault.where,
                        hint="the partner was told (CONTRL/TA1); it should send it again corrected",
                    )
                )
                continue
            for index, part in enumerate(received.messages, 1):
                try:
                    target = inbox.directory.route_for(name, profile, part.type)
                except MessageError as exc:
                    problems.append(exc)
                    continue
                key = f"{message_id or 'preview'}/{number}/{index}"
                headers = {
                    "x-hub-partner": name,
                    "x-hub-interchange": received.control_ref,
                    "x-hub-inbox-message": message_id or "",
                }
                if duplicate:
                    headers["x-hub-duplicate"] = "flagged"
                routed += inbox.store.add(
                    Message(
                        id=str(uuid.uuid4()),
                        route=target,
                        source=f"inbox:{inbox.route}",
                        body=part.body,
                        format=received.standard,
                        correlation_key=f"{received.control_ref}/{part.reference}",
                        content_type="application/EDIFACT"
                        if received.standard == "edifact"
                        else "application/EDI-X12",
                        headers=headers,
                        idempotency_key=key,
                    ),
                    list(self.route_sinks.get(target, ())),
                )
        if problems:
            first = problems[0]
            raise type(first)(
                first.message
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                + (f"; {len(routed)} other message(s) were routed" if routed else ""),
                where=first.where,
                hint=first.hint,
                problems=[problem for exc in problems for problem in [_problem(exc)]],
            )
        return Translation(
            body=body,
            content_type="application/EDI-X12"
            if detect_standard(body) == "x12"
            else "application/EDIFACT",
            extension="x12" if detect_standard(body) == "x12" else "edi",
            mapping_name=None,
            mapping_hash=None,
            events=(
                Event(
                    "routed", f"{len(routed)} message(s) routed by envelope", data={"ids": routed}
                ),
            ),
        )


def _problem(exc: MessageError) -> Problem:
    return Problem(exc.message, where=exc.where, hint=exc.hint)


@dataclass(frozen=True)
class VerbatimTranslator(Translator):
    """A partner's acknowledgement route: the stored bytes are what is sent."""

    def translate(
        self, body: bytes, *, deadline: float | None = None, message_id: str | None = None
    ) -> Translation:
        x12 = detect_standard(body) == "x12"
        return Translation(
            body=body,
            content_type="application/EDI-X12" if x12 else "application/EDIFACT",
            extension="x12" if x12 else "edi",
            mapping_name=None,
            mapping_hash=None,
            events=(Event("encoded", f"as generated, {len(body)} bytes"),),
        )
