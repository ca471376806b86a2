"""The clock of the tests' built bots: real time, moved into the agents' service hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handoff.sla import HONG_KONG, OPENS, in_service_hours


def service_hours_offset(now: datetime, margin: timedelta = timedelta(hours=2)) -> timedelta:
    """How far to move ``now`` forward so that the next ``margin`` is in service hours.

    Nothing when it already is; else the shift to the next opening (08:00 Hong Kong time).
    """
    if in_service_hours(now) and in_service_hours(now + margin):
        return timedelta(0)
    day = (now + margin).astimezone(HONG_KONG).date()
    return datetime.combine(day, OPENS, HONG_KONG) - now


#: The built bots' clock: real time, moved into service hours when the run starts outside
#: them, so that what a bot says does not depend on the hour the tests run at (agents
#: off duty add a note to every handoff). The hours themselves are tested on fixed clocks.
OFFSET = service_hours_offset(datetime.now(UTC))


def in_hours_clock() -> datetime:
    return datetime.now(UTC) + OFFSET
