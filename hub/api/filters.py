"""The filters ``GET /messages`` and ``GET /dead-letters`` share, declared once.

Times are ISO 8601 exactly as the OpenAPI document describes them (:data:`TIME_PATTERN`): a
date, or a date and a time with or without a zone (none: UTC). Nothing else is a time: not a
number (pydantic would take ``0.5`` as seconds after 1970), not ``2026-02-30``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BeforeValidator, WithJsonSchema

from hub.api.deps import get_hub
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.store import MessageFilter
from hub.store.queries import MAX_LIMIT

__all__ = ["TIME_PATTERN", "ListFilters", "list_filters", "parse_time"]

_YEAR = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DAY_31 = "(?:0[1-9]|[12][0-9]|3[01])"
_DAY_30 = "(?:0[1-9]|[12][0-9]|30)"
_DAY_28 = "(?:0[1-9]|1[0-9]|2[0-8])"
#: Only days that exist: 31 in the long months, 30 in the others, 29 February in leap years.
_DATE = (
    f"(?:{_YEAR}-(?:(?:0[13578]|1[02])-{_DAY_31}|(?:0[469]|11)-{_DAY_30}|02-{_DAY_28})"
    f"|{_LEAP_YEAR}-02-29)"
)
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]+)?)?"
_ZONE = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
#: What a time parameter accepts, for the server and the OpenAPI document alike (plain ASCII
#: classes, so that Python's ``re`` and an ECMA-262 validator read it the same way).
TIME_PATTERN = f"^{_DATE}(?:[Tt]{_TIME}{_ZONE}?)?$"
_TIME_RE = re.compile(TIME_PATTERN)
_PARTS = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[Tt](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))?)?",
    re.ASCII,
)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def parse_time(value: object) -> datetime:
    """An ISO 8601 date or time as a UTC time; ValueError for anything else.

    A time whose zone takes it past year 9999 (or before year 1) in UTC is that end of time:
    as a filter's bound it means the same.
    """
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
        raise ValueError(
            "not an ISO 8601 date or time: give e.g. 2026-11-23, 2026-11-23T14:05 (UTC) "
            "or 2026-11-23T14:05:00+01:00"
        )
    found = _PARTS.fullmatch(value)
    assert found is not None  # the same grammar, in parts
    year, month, day, hour, minute, second, fraction, _z, sign, zone_h, zone_m = found.groups()
    offset = timedelta(hours=int(zone_h or 0), minutes=int(zone_m or 0))
    if sign == "-":
        offset = -offset
    local = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0")[:6].ljust(6, "0")),
    )
    try:  # Z, z or no zone at all: UTC
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return _LATEST if offset < timedelta(0) else _EARLIEST


_TIME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": TIME_PATTERN,
    "description": "ISO 8601: a date, or a date and time with or without a zone (none: UTC), "
    "e.g. 2026-11-23, 2026-11-23T14:05 or 2026-11-23T14:05:00+01:00",
}

#: A time parameter: a string in :data:`TIME_PATTERN`, nothing else.
Time = Annotated[datetime, BeforeValidator(parse_time), WithJsonSchema(_TIME_SCHEMA)]

#: Text the store can hold as a key: no NUL (a filter with one is a 400 naming it).
_NO_NUL = {"pattern": "^[^\\u0000]*$"}


@dataclass(frozen=True)
class ListFilters:
    """The filters of a list request, as given."""

    route: str | None
    status: tuple[MessageStatus, ...]
    error_type: str | None
    correlation_key: str | None
    since: datetime | None
    until: datetime | None
    limit: int
    awaiting_ack: str | None = None

    def where(
        self, *, cursor: int | None = None, statuses: tuple[MessageStatus, ...] = ()
    ) -> MessageFilter:
        """The store's filter; ``statuses`` are the default when the request names none."""
        return MessageFilter(
            statuses=self.status or statuses,
            route=self.route,
            error_type=self.error_type,
            correlation_key=self.correlation_key,
            since=self.since,
            until=self.until,
            limit=self.limit,
            cursor=cursor,
            awaiting_ack=self.awaiting_ack,
        )


def list_filters(
    hub: Annotated[Hub, Depends(get_hub)],
    correlation_key: Annotated[
        str | None,
        Query(
            description="the business key, e.g. an order number (exact match)",
            json_schema_extra=_NO_NUL,
        ),
    ] = None,
    route: Annotated[
        str | None,
        Query(description="a route name from the config (404 if there is none)"),
    ] = None,
    status: Annotated[
        list[MessageStatus] | None,
        Query(
            description="repeat for several: `status=failed&status=retrying`; none: every "
            "status (on `/dead-letters`: failed)"
        ),
    ] = None,
    error_type: Annotated[
        str | None,
        Query(description="e.g. `delivery_fatal`, `validation_error`", json_schema_extra=_NO_NUL),
    ] = None,
    since: Annotated[
        Time | None,
        Query(
            description="received at or after; must be before `until` (else 400)",
            examples=["2026-11-23"],
        ),
    ] = None,
    until: Annotated[
        Time | None,
        Query(description="received before", examples=["2026-11-30T14:05:00Z"]),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="messages per page")] = 100,
    awaiting_ack: Annotated[
        Literal["any", "overdue"] | None,
        Query(
            description="messages delivered to a trading partner whose acknowledgement has not "
            "arrived: `any`, or only those past the partner's expect_within_hours after their "
            "delivery: `overdue`"
        ),
    ] = None,
) -> ListFilters:
    """The shared filters; a route the config does not have is a 404 naming those it has."""
    if route is not None and route not in hub.partner_routes:  # NAME.acks are listable
        hub.ingestor.route(route)  # 404 with the routes there are, not an empty page
    return ListFilters(
        route=route,
        status=tuple(status or ()),
        error_type=error_type,
        correlation_key=correlation_key,
        since=since,
        until=until,
        limit=limit,
        awaiting_ack=awaiting_ack,
    )


Filters = Annotated[ListFilters, Depends(list_filters)]
