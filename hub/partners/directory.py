"""Find the partner of a received interchange by its envelope, and the route of a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.config.partners import Identifier, PartnerConfig
from hub.errors import MessageError
from hub.partners.received import Received

__all__ = ["PartnerDirectory", "RejectedInterchange", "UnknownPartner", "Unroutable"]


class UnknownPartner(MessageError):
    """No partner profile has the envelope's sender and recipient: a dead letter."""

    code = "unknown_partner"
    stage = "route"


class Unroutable(MessageError):
    """The partner is known but sends a message type no route of its profile takes."""

    code = "unroutable_message"
    stage = "route"


class RejectedInterchange(MessageError):
    """The interchange's envelope is broken: its acknowledgement rejected it whole."""

    code = "interchange_rejected"
    stage = "route"


def _matches(profile: Identifier, found: tuple[str, str]) -> bool:
    ident, qualifier = found
    if profile.id.strip() != ident:
        return False
    return not (profile.qualifier and qualifier and profile.qualifier.strip() != qualifier)


@dataclass(frozen=True)
class PartnerDirectory:
    """The partner profiles of a config, looked up by envelope."""

    partners: Mapping[str, PartnerConfig]

    def find(self, received: Received) -> tuple[str, PartnerConfig]:
        """The partner that sent ``received`` (its sender is their id, its recipient ours)."""
        for name, profile in self.partners.items():
            if profile.standard != received.standard:
                continue
            if _matches(profile.their_id, received.sender) and _matches(
                profile.our_id, received.recipient
            ):
                return name, profile
        sender = ":".join(v for v in received.sender if v)
        recipient = ":".join(v for v in received.recipient if v)
        segment = "UNB" if received.standard == "edifact" else "ISA"
        raise UnknownPartner(
            f"no trading partner sends {received.standard} from {sender!r} to {recipient!r} "
            f"(interchange {received.control_ref})",
            where=f"{segment} sender and recipient",
            hint="add a profile under `partners:` whose their_id and our_id are these, "
            "then replay the message",
        )

    def route_for(self, name: str, profile: PartnerConfig, message_type: str) -> str:
        route = profile.routes.get(message_type)
        if route is None:
            known = ", ".join(sorted(profile.routes)) or "(none)"
            raise Unroutable(
                f"partner {name!r} sent a {message_type} message, and its profile routes "
                f"only {known}",
                where=f"partners.{name}.routes",
                hint=f"add `{message_type}: ROUTE` to partners.{name}.routes, then replay",
            )
        return route
