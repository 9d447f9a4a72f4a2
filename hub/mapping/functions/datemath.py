"""Date arithmetic: add days, months and years, the end of a month, days between dates.

Values are read like ``format_date`` reads them (a date value, ISO text, or EDIFACT
102/203/204 digits) and written back as text in ``format`` (default: ISO). Adding months
keeps the day when the month has it and otherwise takes the month's last day (31 January
+ 1 month is 29 February in a leap year), as accounting systems count payment terms. A
date-time keeps its time and offset; give ``tz`` to convert it before the date is taken.
"""

from __future__ import annotations

import calendar
from datetime import date as Date  # noqa: N812 - a date value, as in dates.py
from datetime import datetime, timedelta
from typing import Any

from hub.mapping.functions.dates import _any_date, format_value, zone
from hub.mapping.functions.registry import FunctionError, function
from hub.mapping.functions.strings import whole_number

__all__: list[str] = []

#: The most days, months or years one call may add: beyond it the year leaves 1..9999 anyway.
_MAX_SHIFT = 3_660_000


def _shift(value: Any, amount: Any, what: str) -> tuple[Date, int] | None:
    moment = _any_date(value)
    if moment is None:
        return None
    count = whole_number(amount, what)
    if abs(count) > _MAX_SHIFT:
        raise FunctionError(f"{what} {count} is out of range")
    return moment, count


def _write(moment: Date, format: Any, tz: Any) -> str:
    return format_value(moment, "iso" if format is None else format, tz)


def _plus_months(moment: Date, months: int) -> Date:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise FunctionError(f"the date would be in year {year}, outside 1..9999")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@function(
    "add_days",
    doc="add_days('2024-02-27', 3) -> '2024-03-01'; add_days('20240227', 30, '102') -> '20240328'",
)
def add_days(value: Any, days: Any, format: Any = None, tz: Any = None) -> str | None:
    """The date ``days`` days later (earlier when negative), written in ``format``."""
    shifted = _shift(value, days, "days")
    if shifted is None:
        return None
    moment, count = shifted
    try:
        return _write(moment + timedelta(days=count), format, tz)
    except OverflowError:
        raise FunctionError("the date would be outside years 1..9999") from None


@function("add_months", doc="add_months('2024-01-31', 1) -> '2024-02-29' (the month's last day)")
def add_months(value: Any, months: Any, format: Any = None, tz: Any = None) -> str | None:
    """The date ``months`` months later, on the same day or the month's last day."""
    shifted = _shift(value, months, "months")
    if shifted is None:
        return None
    moment, count = shifted
    return _write(_plus_months(moment, count), format, tz)


@function("add_years", doc="add_years('2024-02-29', 1) -> '2025-02-28'")
def add_years(value: Any, years: Any, format: Any = None, tz: Any = None) -> str | None:
    """The date ``years`` years later (29 February becomes 28 February)."""
    shifted = _shift(value, years, "years")
    if shifted is None:
        return None
    moment, count = shifted
    if abs(count) > 10_000:
        raise FunctionError(f"years {count} is out of range")
    return _write(_plus_months(moment, 12 * count), format, tz)


@function("end_of_month", doc="end_of_month('2024-02-10') -> '2024-02-29'")
def end_of_month(value: Any, format: Any = None, tz: Any = None) -> str | None:
    """The last day of the date's month (a date-time keeps its time)."""
    moment = _any_date(value)
    if moment is None:
        return None
    if tz is not None and isinstance(moment, datetime):
        moment = moment.astimezone(zone(tz)) if moment.tzinfo else moment
    last = calendar.monthrange(moment.year, moment.month)[1]
    return _write(moment.replace(day=last), format, None)


@function(
    "days_between",
    doc="days_between('2024-02-01', '2024-03-01') -> 29 (negative when the second is earlier)",
)
def days_between(start: Any, end: Any) -> int | None:
    """Calendar days from ``start`` to ``end`` (the dates of date-times, as written)."""
    first, second = _any_date(start), _any_date(end)
    if first is None or second is None:
        return None
    first_day = first.date() if isinstance(first, datetime) else first
    second_day = second.date() if isinstance(second, datetime) else second
    return (second_day - first_day).days
