"""The hours rule on plain data: rounding, open check-ins, daily maximum, overlaps, expected end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from fablabctl.people.hours import Period, expected_end, format_hours, overlapping, round_seconds, summarize

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def at(day: int, hm: str) -> datetime:
    h, m = map(int, hm.split(":"))
    return datetime(2025, 3, day, h, m, tzinfo=PARIS)


def period(day: int, start: str, end: str | None, method: str = "staff") -> Period:
    return Period(f"{day}-{start}", at(day, start), at(day, end) if end else None, "formation", method)


@pytest.mark.parametrize(
    ("minutes", "seconds", "rounded"),
    [
        (420, 0, 420),  # 7 h 00
        (427, 29, 420),  # 7 h 07 min 29 s -> 7 h 00
        (427, 30, 435),  # 7 h 07 min 30 s: a tie rounds up -> 7 h 15
        (413, 0, 420),  # 6 h 53 -> 7 h 00
        (410, 0, 405),  # 6 h 50 -> 6 h 45
        (0, 0, 0),
    ],
)
def test_quarter_hour_rounding(minutes: int, seconds: int, rounded: int) -> None:
    assert round_seconds(minutes * 60 + seconds, 15) == rounded


def test_rounding_setting_of_one_minute_counts_whole_minutes() -> None:
    assert round_seconds(413 * 60 + 29, 1) == 413


def test_a_day_is_rounded_once_not_each_period() -> None:
    # 3 h 23 + 3 h 30 = 6 h 53 -> 7 h 00 (rounding each period would give 3 h 30 + 3 h 30 too, but
    # 3 h 07 + 3 h 07 = 6 h 14 -> 6 h 15 where per period it would be 3 h 00 + 3 h 00 = 6 h 00)
    summary = summarize(
        [period(3, "09:00", "12:07"), period(3, "13:00", "16:07")],
        tz=PARIS,
        rounding_minutes=15,
        daily_max_hours=8,
        now=NOW,
    )
    assert summary.minutes == 375 and format_hours(summary.minutes) == "6 h 15"


def test_open_checkin_counts_nothing_and_is_reported() -> None:
    summary = summarize(
        [period(3, "09:00", "12:30"), period(3, "13:30", None)],
        tz=PARIS,
        rounding_minutes=15,
        daily_max_hours=8,
        now=NOW,
    )
    assert summary.minutes == 210
    assert [(w.code, w.day) for w in summary.warnings] == [("OPEN_CHECKIN", date(2025, 3, 3))]
    assert (
        "sans sortie" in summary.warnings[0].message.fr and "no check-out" in summary.warnings[0].message.en
    )


def test_open_checkin_of_today_is_reported_after_the_days_end_only() -> None:
    periods = [period(3, "13:30", None)]
    during = at(3, "15:00")
    after = at(3, "17:30")
    ends = {date(2025, 3, 3): at(3, "17:00").timetz().replace(tzinfo=None)}
    kw = {"tz": PARIS, "rounding_minutes": 15, "daily_max_hours": 8.0, "day_ends": ends}
    assert summarize(periods, now=during, **kw).warnings == []  # type: ignore[arg-type]
    assert [w.code for w in summarize(periods, now=after, **kw).warnings] == ["OPEN_CHECKIN"]  # type: ignore[arg-type]


def test_above_the_daily_maximum_is_counted_and_reported() -> None:
    summary = summarize(
        [period(7, "09:00", "12:30"), period(7, "13:30", "18:45")],
        tz=PARIS,
        rounding_minutes=15,
        daily_max_hours=8,
        now=NOW,
    )
    assert summary.minutes == 525
    assert [w.code for w in summary.warnings] == ["DAILY_MAX"]
    assert "8 h 45" in summary.warnings[0].message.fr


def test_self_checkin_waits_for_a_trainer() -> None:
    summary = summarize(
        [period(3, "09:00", "12:00", method="self")],
        tz=PARIS,
        rounding_minutes=15,
        daily_max_hours=8,
        now=NOW,
    )
    assert summary.minutes == 0 and [w.code for w in summary.warnings] == ["UNCONFIRMED_CHECKIN"]


def test_overlaps() -> None:
    morning = period(3, "09:00", "12:30")
    assert overlapping(at(3, "12:00"), at(3, "13:00"), [morning], PARIS) is morning
    assert overlapping(at(3, "12:30"), at(3, "13:00"), [morning], PARIS) is None  # touching is fine
    assert overlapping(at(3, "08:00"), None, [morning], PARIS) is morning  # an open period runs on
    assert overlapping(at(3, "13:00"), at(3, "14:00"), [period(3, "10:00", None)], PARIS) is not None
    # ... to the end of its day only: a check-in left open (or typed in from a past day's sheet)
    # neither blocks nor counts as presence on the days after it
    assert overlapping(at(4, "09:00"), at(4, "12:00"), [period(3, "10:00", None)], PARIS) is None
    assert overlapping(at(2, "09:00"), None, [morning], PARIS) is None


def test_expected_end_at_the_current_pace() -> None:
    days = summarize(
        [period(d, "09:00", "16:00") for d in (3, 4, 5, 6, 7)],  # 7 h a day, Monday to Friday
        tz=PARIS,
        rounding_minutes=15,
        daily_max_hours=8,
        now=NOW,
    ).days
    assert expected_end(days, 35 * 60) == date(2025, 3, 7)  # done that Friday
    assert expected_end(days, 70 * 60) == date(2025, 3, 14)  # five more weekdays
    assert expected_end(days, 36 * 60) == date(2025, 3, 10)  # one more day: Monday, not Saturday
    assert expected_end([], 70 * 60) is None
