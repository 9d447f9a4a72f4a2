"""Trading-partner profiles (``partners:`` in the config): who a partner is in the envelopes,
how its interchanges are numbered, checked and acknowledged, and how it is reached.

A profile belongs to the config layer: the partner layer (:mod:`hub.partners`) turns it into
envelope values of the formats (:class:`hub.formats.x12.X12Envelope`, UNB elements) and into
control numbers in the store; the formats and the store know nothing of profiles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hub.config.models import ROUTE_NAME, SinkRef
from hub.errors import Problem

__all__ = [
    "AckPolicy",
    "DuplicatePolicy",
    "EdifactProfile",
    "Identifier",
    "PartnerConfig",
    "PartnerName",
    "X12Profile",
    "partner_problems",
]

#: A partner's name: the same alphabet as a route's, kept short enough that the hub's own
#: route for the partner's acknowledgements (``NAME.acks``) fits the store's column.
PartnerName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,58}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identifier(_Strict):
    """An interchange identifier with its qualifier (UNB S002/S003 0004+0007, ISA05/06...)."""

    id: str = Field(min_length=1, max_length=35, pattern=r"^[^\r\n]+$")
    qualifier: str = Field("", max_length=4, description="EDIFACT 0007 or X12 ISA05/ISA07")


class EdifactProfile(_Strict):
    """The UNB values of this partner's interchanges."""

    syntax_identifier: str = Field("UNOC", pattern=r"^UNO[A-Z]$")
    syntax_version: Literal["1", "2", "3", "4"] = "3"
    separators: str | None = Field(
        None,
        min_length=6,
        max_length=6,
        description="UNA's six characters (component, element, decimal, release, "
        "repetition, segment), e.g. \":+.? '\"; default: the standard's",
    )
    directories: dict[str, str] = Field(
        default_factory=dict,
        description="message type -> directory version it is exchanged in, e.g. "
        "ORDERS: D:96A:UN (an outgoing message takes it when it names none)",
    )
    control_max: int = Field(
        99_999_999_999_999,
        ge=9,
        le=99_999_999_999_999,
        description="the largest interchange reference (0020, an..14) before it wraps to 1",
    )


class X12Profile(_Strict):
    """The ISA/GS values of this partner's interchanges."""

    version: str = Field("00401", pattern=r"^[0-9]{5}$", description="ISA12")
    group_version: str = Field("004010", min_length=1, max_length=12, description="GS08")
    separators: str = Field(
        "*>^~",
        min_length=4,
        max_length=4,
        description="element, component, repetition and segment separators",
    )
    application_sender: str | None = Field(None, max_length=15, description="GS02")
    application_receiver: str | None = Field(None, max_length=15, description="GS03")
    acknowledgement: Literal["997", "999"] = Field(
        "997", description="the functional acknowledgement sent for this partner's groups"
    )
    ta1: Literal["never", "on_error", "always", "requested"] = Field(
        "requested",
        description="send a TA1 interchange acknowledgement: never, on an envelope error, "
        "always, or when the interchange asks for one (ISA14 = 1)",
    )


class AckPolicy(_Strict):
    """Which acknowledgements are sent for this partner's interchanges, and which are owed."""

    send: Literal["never", "on_error", "always"] = Field(
        "always",
        description="send CONTRL (EDIFACT) or 997/999 (X12) for each received interchange",
    )
    expect_within_hours: float | None = Field(
        None,
        gt=0,
        description="an interchange sent to this partner awaits its acknowledgement once a "
        "sink delivered it, until one arrives; overdue this many hours after the delivery. "
        "null: none is expected",
    )


class DuplicatePolicy(_Strict):
    """What a repeated interchange (same sender, recipient and control reference) gets."""

    window_hours: float = Field(
        30 * 24, gt=0, description="a repeat within this many hours is a duplicate"
    )
    action: Literal["refuse", "flag"] = Field(
        "refuse",
        description="refuse: its messages are not routed again and the acknowledgement "
        "rejects it; flag: they are, marked as a duplicate in the history",
    )


class PartnerConfig(_Strict):
    """One trading partner."""

    description: str = ""
    standard: Literal["edifact", "x12"]
    their_id: Identifier = Field(description="the partner in the envelope (UNB, ISA06/08)")
    our_id: Identifier = Field(description="the hub's identity towards this partner")
    test: bool = Field(False, description="test indicator: UNB 0035 = 1, ISA15 = T")
    edifact: EdifactProfile = Field(default_factory=EdifactProfile)
    x12: X12Profile = Field(default_factory=X12Profile)
    acknowledgements: AckPolicy = Field(default_factory=AckPolicy)
    duplicates: DuplicatePolicy = Field(default_factory=DuplicatePolicy)
    routes: dict[str, Annotated[str, StringConstraints(pattern=ROUTE_NAME)]] = Field(
        default_factory=dict,
        description="inbound routing: message type (ORDERS, 850) -> the route that "
        "receives it from this partner",
    )
    sink: SinkRef | None = Field(
        None,
        description="the channel that reaches the partner: acknowledgements go out "
        "through it (retried and dead-lettered like any delivery)",
    )
    source: str | None = Field(
        None,
        pattern=ROUTE_NAME,
        description="the inbox route this partner's interchanges arrive on (informative; "
        "any inbox route accepts a known partner)",
    )

    @model_validator(mode="after")
    def _identifiers_fit(self) -> PartnerConfig:
        if self.standard == "x12":
            for name, ident in (("their_id", self.their_id), ("our_id", self.our_id)):
                if len(ident.id) > 15:
                    raise ValueError(f"{name}.id is longer than ISA06/ISA08's 15 characters")
                if len(ident.qualifier) != 2:
                    raise ValueError(f"{name}.qualifier must be 2 characters for X12 (ZZ, 01)")
        if len(set(self.x12.separators)) != 4:
            raise ValueError("x12.separators must be four different characters")
        ta1 = self.standard == "x12" and self.x12.ta1 != "never"
        needs_sink = self.acknowledgements.send != "never" or ta1
        if needs_sink and self.sink is None:
            raise ValueError(
                "acknowledgements are sent to this partner but it has no `sink`; "
                "add one, or set acknowledgements.send: never (and x12.ta1: never)"
            )
        return self


def partner_problems(
    config: BaseModel, where: Callable[[tuple[str | int, ...]], str]
) -> list[Problem]:
    """What the partner profiles and the routes say of each other that cannot work: a
    route's ``partner`` that does not exist or speaks another standard than its output,
    a profile routing to a route the config lacks. ``where`` locates a config key."""
    partners: dict[str, PartnerConfig] = getattr(config, "partners", {})
    routes: dict[str, Any] = getattr(config, "routes", {})
    problems: list[Problem] = []
    for name, route in routes.items():
        if route.partner is not None:
            profile = partners.get(route.partner)
            if profile is None:
                problems.append(
                    Problem(
                        f"route {name!r} sends to partner {route.partner!r}, which is not "
                        "under `partners:`",
                        where=where(("routes", name, "partner")),
                        hint="partners here: " + (", ".join(sorted(partners)) or "(none)"),
                    )
                )
            elif route.output.format != profile.standard:
                problems.append(
                    Problem(
                        f"route {name!r} writes {route.output.format}, and partner "
                        f"{route.partner!r} speaks {profile.standard}",
                        where=where(("routes", name, "output", "format")),
                        hint=f"set output.format: {profile.standard}",
                    )
                )
        if route.inbox and route.input.format not in ("edifact", "x12"):
            problems.append(
                Problem(
                    f"inbox route {name!r} reads {route.input.format}; an inbox reads EDI",
                    where=where(("routes", name, "input", "format")),
                    hint="set input.format: edifact or x12 (the inbox reads both; the format "
                    "given supplies its codec options)",
                )
            )
    for name, profile in partners.items():
        for kind, target in profile.routes.items():
            if target not in routes:
                problems.append(
                    Problem(
                        f"partner {name!r} routes {kind} to {target!r}, which is not a route",
                        where=where(("partners", name, "routes", kind)),
                        hint="routes here: " + (", ".join(sorted(routes)) or "(none)"),
                    )
                )
            elif routes[target].inbox:
                problems.append(
                    Problem(
                        f"partner {name!r} routes {kind} to the inbox {target!r}",
                        where=where(("partners", name, "routes", kind)),
                        hint="route it to the route that translates it",
                    )
                )
    return problems
