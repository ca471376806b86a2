"""Service hours and SLA deadlines of handed-off tickets (policy section 4).

Definitions (documented in the README):

- *Service hours*: Live Chat's 08:00-24:00 Hong Kong time, every day. Agents take
  tickets then; outside them a customer is told when agents are back.
- *Working hours*: the service hours of working days. A working day is Monday to Friday
  and not a Hong Kong public holiday (the ``holidays`` package's Hong Kong calendar).
- Deadlines: **urgent** - immediate: the moment the ticket opens in service hours, else
  the next opening; **regular** - 24 working hours (one and a half working days);
  **complex** - a first plan within 48 hours (calendar hours, the policy names no
  working-day rule for it).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the holidays package is imported on first use (it costs memory)
    import holidays

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
OPENS = time(8, 0)
REGULAR_WORKING_HOURS = 24
COMPLEX_HOURS = 48


class Priority(enum.StrEnum):
    """A ticket's priority, most urgent first."""

    URGENT = "urgent"
    COMPLEX = "complex"
    REGULAR = "regular"

    @property
    def rank(self) -> int:
        """0 for urgent, 1 for complex, 2 for regular: the queue's order."""
        return list(Priority).index(self)


@lru_cache(maxsize=1)
def _hong_kong_holidays() -> holidays.HolidayBase:
    import holidays

    return holidays.country_holidays("HK")


def is_working_day(day: date) -> bool:
    """Monday to Friday, not a Hong Kong public holiday."""
    return day.weekday() < 5 and day not in _hong_kong_holidays()


def in_service_hours(moment: datetime) -> bool:
    """Whether agents are on duty at ``moment`` (08:00-24:00 Hong Kong time)."""
    return moment.astimezone(HONG_KONG).time() >= OPENS


def next_opening(moment: datetime) -> datetime:
    """``moment`` itself in service hours, else when agents are back (UTC)."""
    if in_service_hours(moment):
        return moment.astimezone(UTC)
    local = moment.astimezone(HONG_KONG)
    return datetime.combine(local.date(), OPENS, HONG_KONG).astimezone(UTC)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """Return the moment ``hours`` working hours after ``start`` (UTC)."""
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(HONG_KONG)
    while True:
        day = cursor.date()
        if is_working_day(day):
            opens = datetime.combine(day, OPENS, HONG_KONG)
            closes = datetime.combine(day + timedelta(days=1), time(0), HONG_KONG)
            begin = max(cursor, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return (begin + remaining).astimezone(UTC)
                remaining -= closes - begin
        cursor = datetime.combine(day + timedelta(days=1), time(0), HONG_KONG)


def deadline(priority: Priority, opened: datetime) -> datetime:
    """The SLA deadline of a ticket of ``priority`` opened at ``opened`` (UTC)."""
    if priority is Priority.URGENT:
        return next_opening(opened)
    if priority is Priority.COMPLEX:
        return (opened + timedelta(hours=COMPLEX_HOURS)).astimezone(UTC)
    return add_working_hours(opened, REGULAR_WORKING_HOURS)
