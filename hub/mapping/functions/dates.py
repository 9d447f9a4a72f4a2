"""Date and time functions: ISO 8601, EDIFACT formats and strftime patterns, with time zones.

A *format* is one of

``iso``       ISO 8601: '2024-02-29', '2024-02-29T13:45:00+01:00', '...Z'. Writing, a date
              stays a date and a date-time keeps its offset.
``iso-date``  writing only the date part: '2024-02-29'.
``102``       EDIFACT CCYYMMDD: '20240229'
``203``       EDIFACT CCYYMMDDHHMM: '202402291345'
``204``       EDIFACT CCYYMMDDHHMMSS: '20240229134500'
a pattern     anything with a '%', as Python's strftime/strptime: '%d.%m.%Y %H:%M'

EDIFACT 718 is a period CCYYMMDD-CCYYMMDD: ``edi_period`` writes one, ``period_start`` and
``period_end`` read one.

Time zones are IANA names ('Europe/Berlin', 'UTC'). A value without an offset ("naive") that
is given a zone is taken as local time in that zone; a value with an offset is converted into
the zone. Dates without a time have no zone and are never shifted. EDIFACT formats carry no
zone, so convert before writing one: ``date(created, 'iso', '203', null, 'Europe/Berlin')``.
"""

from __future__ import annotations

import re
from datetime import date as Date  # noqa: N812 - the function is called date()
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.functions.strings import text_of

__all__ = ["format_value", "parse_value", "zone"]

_EDI = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
_EDI_DIGITS = {"102": 8, "203": 12, "204": 14}
_ISO_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
_FORMATS = "'iso', 'iso-date', '102', '203', '204' or a pattern with '%'"


def zone(name: Any) -> ZoneInfo | None:
    """The time zone called ``name``; None for null or ''."""
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise FunctionError(f"time zone must be a name such as 'Europe/Berlin', not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FunctionError(
            f"unknown time zone {name!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')"
        ) from None


def _format_name(fmt: Any) -> str:
    if fmt is None:
        return "iso"
    name = text_of(fmt, "format")  # 102 written unquoted in YAML is a number
    if name in ("iso", "iso-date") or name in _EDI or "%" in name:
        return name
    if name == "718":
        raise FunctionError(
            "format 718 is a period; use period_start() / period_end() to read it "
            "and edi_period() to write it"
        )
    raise FunctionError(f"unknown date format {name!r}: use {_FORMATS}")


def _localise(value: Date, tz: ZoneInfo | None) -> Date:
    """Naive date-times are taken as local time in ``tz``, aware ones converted into it."""
    if tz is None or not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


def parse_value(value: Any, fmt: Any = "iso", tz: Any = None) -> Date | None:
    """``value`` (text, or already a date/date-time) as a date or date-time; null gives None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    zone_info = zone(tz)
    if isinstance(value, Date):  # datetime is a Date too
        return _localise(value, zone_info)
    name = _format_name(fmt)
    text = text_of(value).strip()
    parsed: Date
    try:
        if name in ("iso", "iso-date"):
            if _ISO_DATE.fullmatch(text):
                parsed = Date.fromisoformat(text)
            else:
                parsed = datetime.fromisoformat(text)
        elif name in _EDI:
            if len(text) != _EDI_DIGITS[name] or not text.isdigit():
                raise ValueError(f"expected {_EDI_DIGITS[name]} digits")
            moment = datetime.strptime(text, _EDI[name])  # localised below
            parsed = moment.date() if name == "102" else moment
        else:
            parsed = datetime.strptime(text, name)  # localised below
    except ValueError as exc:
        raise FunctionError(f"{text!r} is not a date in format {name!r} ({exc})") from None
    return _localise(parsed, zone_info)


def format_value(value: Date, fmt: Any = "iso", tz: Any = None) -> str:
    """Write ``value`` in format ``fmt``, converted to (or localised in) zone ``tz`` first."""
    name = _format_name(fmt)
    moment = _localise(value, zone(tz))
    if name == "iso":
        return moment.isoformat()
    if name == "iso-date":
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat()
    pattern = _EDI.get(name, name)
    try:
        return moment.strftime(pattern)
    except ValueError as exc:
        raise FunctionError(f"cannot write {moment} with pattern {name!r}: {exc}") from None


def _any_date(value: Any, tz: Any = None) -> Date | None:
    """A date argument: a date/date-time, ISO text, or EDIFACT 102/203/204 digits."""
    if isinstance(value, str):
        text = value.strip()
        for name, digits in _EDI_DIGITS.items():
            if len(text) == digits and text.isdigit():
                return parse_value(text, name, tz)
    return parse_value(value, "iso", tz)


@function(
    "parse_date",
    doc="parse_date('31.12.2024', '%d.%m.%Y') -> the date 2024-12-31 (format default 'iso')",
)
def parse_date(value: Any, format: Any = "iso", tz: Any = None) -> Date | None:
    """Read a date or date-time written in ``format``; a naive one given ``tz`` is local time
    there. Gives a date value for other functions; use format_date() to write text."""
    return parse_value(value, format, tz)


@function(
    "format_date",
    doc="format_date('2024-07-01T10:00:00Z', '%d.%m.%Y %H:%M', 'Europe/Berlin') -> "
    "'01.07.2024 12:00'",
)
def format_date(value: Any, format: Any = "iso", tz: Any = None) -> str | None:
    """Write a date (a date value, ISO text, or 102/203/204 digits) in ``format``, converting
    an aware value to ``tz``; a naive one given ``tz`` is taken as local time there."""
    moment = _any_date(value)
    return None if moment is None else format_value(moment, format, tz)


@function(
    "date",
    doc="date('20240229', '102', 'iso') -> '2024-02-29'; "
    "date('2024-03-31T01:30:00Z', 'iso', '203', null, 'Europe/Berlin') -> '202403310330'",
)
def convert_date(
    value: Any, from_format: Any, to_format: Any, from_tz: Any = None, to_tz: Any = None
) -> str | None:
    """Read ``value`` in ``from_format`` (naive values are local time in ``from_tz``) and write
    it in ``to_format``, converted to ``to_tz`` (default: ``from_tz``)."""
    moment = parse_value(value, from_format, from_tz)
    if moment is None:
        return None
    return format_value(moment, to_format, from_tz if to_tz is None else to_tz)


@function(
    "edi_date",
    doc="edi_date('2024-02-29T13:45:00+01:00', '203') -> '202402291345' (qualifier default 102)",
)
def edi_date(value: Any, qualifier: Any = "102", tz: Any = None) -> str | None:
    """Write a date (ISO text or a date value) as EDIFACT 102, 203 or 204, in zone ``tz`` if
    given (else in the value's own offset)."""
    name = text_of(qualifier, "qualifier")
    if name not in _EDI:
        raise FunctionError(
            f"edi_date writes qualifiers 102, 203 and 204, not {name!r}"
            + ("; use edi_period(start, end) for 718" if name == "718" else "")
        )
    moment = _any_date(value)
    return None if moment is None else format_value(moment, name, tz)


def _period(value: Any) -> tuple[Date, Date] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = text_of(value).strip()
    start, sep, end = text.partition("-")
    if not sep or len(start) != 8 or len(end) != 8:
        raise FunctionError(f"{text!r} is not an EDIFACT 718 period CCYYMMDD-CCYYMMDD")
    first, last = parse_value(start, "102"), parse_value(end, "102")
    if first is None or last is None or last < first:
        raise FunctionError(f"period {text!r} ends before it starts")
    return first, last


@function(
    "edi_period",
    doc="edi_period('2024-02-01', '2024-02-29') -> '20240201-20240229' (EDIFACT 718)",
)
def edi_period(start: Any, end: Any) -> str | None:
    """Write the period from ``start`` to ``end`` (dates or date-times) as EDIFACT 718."""
    first, last = _any_date(start), _any_date(end)
    if first is None or last is None:
        return None
    first_day = first.date() if isinstance(first, datetime) else first
    last_day = last.date() if isinstance(last, datetime) else last
    if last_day < first_day:
        raise FunctionError(f"period end {last_day} is before its start {first_day}")
    return f"{first_day:%Y%m%d}-{last_day:%Y%m%d}"


@function(
    "period_start",
    doc="period_start('20240201-20240229') -> '2024-02-01' (format default 'iso')",
)
def period_start(value: Any, format: Any = "iso") -> str | None:
    """The first day of an EDIFACT 718 period, written in ``format``."""
    period = _period(value)
    return None if period is None else format_value(period[0], format)


@function(
    "period_end",
    doc="period_end('20240201-20240229', '102') -> '20240229' (format default 'iso')",
)
def period_end(value: Any, format: Any = "iso") -> str | None:
    """The last day of an EDIFACT 718 period, written in ``format``."""
    period = _period(value)
    return None if period is None else format_value(period[1], format)
