"""SLA deadlines and service hours: Hong Kong time, working days, public holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.handoff.sla import (
    HONG_KONG,
    Priority,
    add_working_hours,
    deadline,
    in_service_hours,
    is_working_day,
    next_opening,
)
from bot.handoff.triggers import Trigger, decide, escalation_requested
from tests.service_hours import service_hours_offset


def hk(*args: int) -> datetime:
    return datetime(*args, tzinfo=HONG_KONG)  # type: ignore[misc]


def test_christmas_and_weekends_are_not_working_days() -> None:
    assert not is_working_day(hk(2026, 12, 25).date())  # Christmas Day
    assert not is_working_day(hk(2026, 12, 26).date())  # Saturday (and Boxing Day)
    assert not is_working_day(hk(2026, 10, 1).date())  # National Day
    assert is_working_day(hk(2026, 12, 24).date())


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Thursday 10:00 + 14 h to midnight, Christmas Friday and the weekend skipped,
        # 10 h on Monday from 08:00.
        (hk(2026, 12, 24, 10), hk(2026, 12, 28, 18)),
        # Opened at night: counting starts at 08:00.
        (hk(2026, 11, 25, 3), hk(2026, 11, 26, 16)),
        # Friday evening: 2 h on Friday, 22 h from Monday 08:00 (16 h) to Tuesday 14:00.
        (hk(2026, 11, 27, 22), hk(2026, 12, 1, 14)),
    ],
)
def test_regular_deadline_counts_24_working_hours(start: datetime, due: datetime) -> None:
    assert deadline(Priority.REGULAR, start) == due.astimezone(UTC)
    assert add_working_hours(start, 0.5) > start


def test_urgent_is_immediate_in_service_hours_else_at_the_opening() -> None:
    assert deadline(Priority.URGENT, hk(2026, 11, 25, 15)) == hk(2026, 11, 25, 15)
    assert deadline(Priority.URGENT, hk(2026, 11, 25, 2)) == hk(2026, 11, 25, 8)
    assert deadline(Priority.COMPLEX, hk(2026, 11, 25, 2)) == hk(2026, 11, 27, 2)


def test_service_hours_are_08_to_24_hong_kong_time() -> None:
    assert in_service_hours(hk(2026, 11, 25, 8))
    assert in_service_hours(hk(2026, 11, 25, 23, 59))
    assert not in_service_hours(hk(2026, 11, 25, 7, 59))
    assert next_opening(hk(2026, 11, 25, 0, 30)) == hk(2026, 11, 25, 8)
    assert next_opening(hk(2026, 11, 25, 9)) == hk(2026, 11, 25, 9)
    assert next_opening(hk(2026, 11, 25, 9)) - hk(2026, 11, 25, 9) == timedelta(0)


@pytest.mark.parametrize(
    ("intent", "text", "misses", "extra", "expected"),
    [
        ("ask_human", "human please", 0, {}, Trigger(Priority.REGULAR, "asked")),
        ("urgent_account_theft", "hacked", 0, {}, Trigger(Priority.URGENT, "urgent")),
        ("complex_payment_anomaly", "odd", 0, {}, Trigger(Priority.COMPLEX, "complex")),
        (None, "???", 2, {}, Trigger(Priority.REGULAR, "not_understood")),
        (None, "???", 1, {}, None),
        (
            "faq_escalation",
            "I want to escalate this",
            0,
            {},
            Trigger(Priority.REGULAR, "escalation"),
        ),
        ("faq_escalation", "Wie kann ich eskalieren?", 0, {}, None),
        ("faq_hotline", "hotline", 0, {}, None),
        (
            "faq_hotline",
            "x",
            0,
            {"handoff_priority": "urgent"},
            Trigger(Priority.URGENT, "overdue_refund"),
        ),
        ("ask_human", "x", 0, {"handoff_priority": "urgent"}, Trigger(Priority.URGENT, "asked")),
    ],
)
def test_triggers(
    intent: str | None, text: str, misses: int, extra: dict[str, str], expected: Trigger | None
) -> None:
    assert decide(intent, text, misses, extra, had_ticket=False) == expected


def test_an_escalation_question_after_a_ticket_counts_as_a_request() -> None:
    assert not escalation_requested("如何升级投诉？", had_ticket=False)
    assert escalation_requested("如何升级投诉？", had_ticket=True)
    assert escalation_requested("Я хочу эскалировать жалобу", had_ticket=False)


def test_the_tests_clock_moves_any_hour_into_service_hours() -> None:
    margin = timedelta(hours=2)
    for quarter in range(4 * 24):
        now = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=15 * quarter)
        moved = now + service_hours_offset(now, margin)
        assert in_service_hours(moved) and in_service_hours(moved + margin), now
        assert timedelta(0) <= moved - now <= timedelta(hours=10), now
        if in_service_hours(now) and in_service_hours(now + margin):
            assert moved == now
