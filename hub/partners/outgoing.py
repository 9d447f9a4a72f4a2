"""Outgoing envelopes built from a partner profile: the mapping makes the message, the hub
wraps it in the partner's UNB or ISA/GS with control numbers taken from the store.

A mapping may produce one message (``{"type": "ORDERS", "segments": ...}`` or with
``body``) or a whole interchange; either way its messages are put into a fresh envelope,
so whatever envelope a mapping wrote is replaced by the profile's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hub.config.partners import PartnerConfig
from hub.errors import EncodeError
from hub.formats.base import Tree
from hub.formats.edifact import Separators as EdifactSeparators
from hub.formats.x12 import Separators as X12Separators
from hub.formats.x12 import X12Envelope
from hub.store.interchanges import OutboundNumbers, number_outbound

__all__ = ["Enveloper", "functional_group", "identity", "wrap_edifact", "x12_envelope"]

#: GS01 by transaction set (X12 479).
_GROUPS = {
    "810": "IN",
    "846": "IB",
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "860": "PC",
    "865": "CA",
    "997": "FA",
    "999": "FA",
}

EDIFACT_MAX = 99_999_999_999_999
X12_MAX = 999_999_999


def functional_group(transaction_set: str) -> str:
    group = _GROUPS.get(transaction_set)
    if group is None:
        raise EncodeError(
            f"no functional group (GS01) is known for transaction set {transaction_set!r}",
            hint="known: " + ", ".join(f"{k} {v}" for k, v in sorted(_GROUPS.items())),
        )
    return group


def identity(ident_id: str, qualifier: str) -> str:
    """How an envelope party is kept in the store: ``qualifier:id`` (or the id alone)."""
    return f"{qualifier}:{ident_id}" if qualifier else ident_id


def x12_envelope(
    profile: PartnerConfig,
    numbers: OutboundNumbers,
    *,
    reply_to: list[str] | None = None,
    group_version: str | None = None,
    when: datetime | None = None,
) -> X12Envelope:
    """The ISA/GS values towards the partner. ``reply_to`` (the received ISA01-16) makes an
    answer reuse the received interchange's version, usage indicator and separators'
    component, as 997/999/TA1 are expected to."""
    seps = profile.x12.separators
    separators = X12Separators(
        element=seps[0], component=seps[1], repetition=seps[2], segment=seps[3]
    )
    version = profile.x12.version
    usage = "T" if profile.test else "P"
    if reply_to is not None and len(reply_to) >= 16:
        version = reply_to[11]
        usage = reply_to[14]
        separators = X12Separators(
            element=separators.element,
            component=reply_to[15],
            repetition=reply_to[10] if version >= "00402" else "",
            segment=separators.segment,
        )
    elif version < "00402":
        separators = X12Separators(
            element=separators.element, component=separators.component, segment=separators.segment
        )
    return X12Envelope(
        sender_qualifier=profile.our_id.qualifier,
        sender_id=profile.our_id.id,
        receiver_qualifier=profile.their_id.qualifier,
        receiver_id=profile.their_id.id,
        control_number=numbers.interchange,
        usage_indicator=usage,
        version=version,
        group_version=group_version or profile.x12.group_version,
        application_sender=profile.x12.application_sender,
        application_receiver=profile.x12.application_receiver,
        group_control_number=numbers.group,
        separators=separators,
        date_time=when,
    )


def edifact_header(
    profile: PartnerConfig, reference: str, when: datetime | None = None
) -> list[Any]:
    """UNB S001 ... 0035 towards the partner."""
    now = when or datetime.now()
    ours, theirs = profile.our_id, profile.their_id
    header: list[Any] = [
        [profile.edifact.syntax_identifier, profile.edifact.syntax_version],
        [ours.id, ours.qualifier] if ours.qualifier else ours.id,
        [theirs.id, theirs.qualifier] if theirs.qualifier else theirs.id,
        [
            now.strftime("%y%m%d" if profile.edifact.syntax_version != "4" else "%Y%m%d"),
            now.strftime("%H%M"),
        ],
        reference,
    ]
    if profile.test:
        header += ["", "", "", "", "", "1"]
    return header


def _messages_of(tree: Tree, standard: str) -> list[dict[str, Any]]:
    if not isinstance(tree, dict):
        raise EncodeError(f"the mapping made no {standard} message: an object is expected")
    if isinstance(tree.get("groups"), list):
        return [m for g in tree["groups"] for m in (g.get("messages") or [])]
    if isinstance(tree.get("messages"), list):
        return list(tree["messages"])
    return [tree]


def wrap_edifact(profile: PartnerConfig, tree: Tree, numbers: OutboundNumbers) -> dict[str, Any]:
    messages = []
    for n, message in enumerate(_messages_of(tree, "edifact")):
        message = dict(message)
        kind = str(message.get("type") or "")
        directory = profile.edifact.directories.get(kind)
        if directory and not message.get("version"):
            parts = directory.split(":")
            for key, value in zip(("version", "release", "agency"), parts, strict=False):
                message[key] = value
        message["reference"] = str(numbers.message + n)
        segments = message.get("segments")
        if isinstance(segments, list) and segments and segments[0][:1] == ["UNH"]:
            message["segments"] = [
                ["UNH", str(numbers.message + n), *segments[0][2:]],
                *segments[1:],
            ]
        messages.append(message)
    seps = profile.edifact.separators
    separators = (
        EdifactSeparators(*seps)
        if seps
        else (
            EdifactSeparators.version_4_defaults()
            if profile.edifact.syntax_version == "4"
            else EdifactSeparators()
        )
    )
    return {
        "una": seps is not None,
        "separators": {
            "component": separators.component,
            "element": separators.element,
            "decimal": separators.decimal,
            "release": separators.release,
            "repetition": separators.repetition,
            "segment": separators.segment,
        },
        "syntax": {
            "identifier": profile.edifact.syntax_identifier,
            "version": profile.edifact.syntax_version,
        },
        "newline": "\n",
        "header": edifact_header(profile, str(numbers.interchange)),
        "trailer": [str(len(messages)), str(numbers.interchange)],
        "messages": messages,
    }


def wrap_x12(profile: PartnerConfig, tree: Tree, numbers: OutboundNumbers) -> dict[str, Any]:
    messages = []
    kinds: set[str] = set()
    for n, message in enumerate(_messages_of(tree, "x12")):
        message = {k: v for k, v in dict(message).items() if k != "segments" or v}
        kind = str(message.get("type") or "")
        segments = message.get("segments")
        if not kind and isinstance(segments, list) and segments and segments[0][:1] == ["ST"]:
            kind = str(segments[0][1])
        kinds.add(kind)
        ref = f"{numbers.message + n:04d}"
        message["reference"] = ref
        message.setdefault("version", profile.x12.group_version)
        if isinstance(segments, list) and segments and segments[0][:1] == ["ST"]:
            message["segments"] = [["ST", kind, ref, *segments[0][3:]], *segments[1:]]
        messages.append(message)
    if len(kinds) != 1:
        raise EncodeError(
            f"one interchange to a partner holds one kind of transaction set, the mapping made "
            f"{', '.join(sorted(kinds)) or 'none'}"
        )
    envelope = x12_envelope(profile, numbers)
    return {
        "separators": envelope.separators.to_tree(),
        "newline": "\n",
        "header": envelope.isa(),
        "groups": [{"header": envelope.gs(functional_group(kinds.pop())), "messages": messages}],
    }


@dataclass(frozen=True)
class Enveloper:
    """Wraps one route's mapping output for its partner, with numbers from the store.

    The numbers are taken in the transaction that stores the message's output
    (:meth:`hub.store.Store.store_output`): none is taken for an output that is not
    kept, and a later turn sends the stored output with the same numbers.
    """

    partner: str
    profile: PartnerConfig

    @property
    def ack_within(self) -> timedelta | None:
        hours = self.profile.acknowledgements.expect_within_hours
        return None if hours is None else timedelta(hours=hours)

    def preview(self, tree: Tree) -> tuple[Tree, str]:
        return self._wrap(tree, OutboundNumbers(1, 1, 1, 0))

    def numbered(self, session: Session, tree: Tree, message_id: str) -> tuple[Tree, str]:
        profile = self.profile
        numbers = number_outbound(
            session,
            partner=self.partner,
            standard=profile.standard,
            sender=identity(profile.our_id.id, profile.our_id.qualifier),
            recipient=identity(profile.their_id.id, profile.their_id.qualifier),
            message_id=message_id,
            maximum=X12_MAX if profile.standard == "x12" else profile.edifact.control_max,
            awaits_ack=self.ack_within is not None,
            test=profile.test,
        )
        return self._wrap(tree, numbers)

    def _wrap(self, tree: Tree, numbers: OutboundNumbers) -> tuple[Tree, str]:
        profile = self.profile
        wrap = wrap_x12 if profile.standard == "x12" else wrap_edifact
        hours = profile.acknowledgements.expect_within_hours
        awaiting = (
            ""
            if hours is None
            else f"; its acknowledgement is due within {hours:g} h of its delivery"
        )
        detail = (
            f"in {self.partner}'s envelope: interchange {numbers.interchange}, group "
            f"{numbers.group}, message {numbers.message}{awaiting}"
        )
        return wrap(profile, tree, numbers), detail
