"""Hours from attendance: pure functions on plain periods (no database, no web).

The rule (a setting, documented in the README): each day's presence is the sum of its closed
periods, to the second; the day's total is rounded to the nearest `rounding_minutes` (15 by
default; a tie rounds up: 7 h 07 min 29 s -> 7 h, 7 h 07 min 30 s -> 7 h 15). A period still open
counts nothing and is reported: it is never closed silently. A day above the daily maximum is
counted as it is and reported. Hours come from people's attendance only, never from machine time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from fablabctl.i18n import Text

PHASES = ("information", "formation", "fabrication")


@dataclass(frozen=True, slots=True)
class Period:
    """The latest version of one attendance entry."""

    entry_uuid: str
    check_in: datetime
    check_out: datetime | None
    phase: str
    method: str = "staff"  # staff | self | confirmed


@dataclass(frozen=True, slots=True)
class HoursWarning:
    code: str  # DAILY_MAX | OPEN_CHECKIN | UNCONFIRMED_CHECKIN
    day: date
    message: Text


@dataclass(slots=True)
class Day:
    day: date
    periods: list[tuple[time, time | None]] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    exact_seconds: int = 0
    minutes: int = 0  # rounded
    open: bool = False

    @property
    def hours(self) -> float:
        return minutes_to_hours(self.minutes)


@dataclass(slots=True)
class Summary:
    days: list[Day]
    minutes: int
    warnings: list[HoursWarning]

    @property
    def hours(self) -> float:
        return minutes_to_hours(self.minutes)


def minutes_to_hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def format_hours(minutes: int) -> str:
    """7 h 15 style, as on the paper sheets."""
    return f"{minutes // 60} h {minutes % 60:02d}"


def round_seconds(seconds: int, rounding_minutes: int) -> int:
    """Round a day's seconds to whole minutes on the rounding grid (nearest, ties up)."""
    step = rounding_minutes * 60
    return ((seconds + step // 2) // step) * step // 60


def day_end(moment: datetime, tz: tzinfo) -> datetime:
    """Midnight after `moment`, in the site's time zone: where a period left open stops."""
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=tz)


def overlapping(
    check_in: datetime, check_out: datetime | None, others: list[Period], tz: tzinfo
) -> Period | None:
    """The first other period sharing time with [check_in, check_out). An open period runs to the
    end of its day: a check-in forgotten open, or typed in from a past day's paper sheet, must not
    block (or count as presence on) the days after it."""
    end = check_out or day_end(check_in, tz)
    for other in others:
        other_end = other.check_out or day_end(other.check_in, tz)
        if check_in < other_end and other.check_in < end:
            return other
    return None


def union_seconds(spans: list[tuple[datetime, datetime]]) -> int:
    """Seconds covered by the periods, time shared by two counted once (a van's entry overlapping one
    recorded at the central site, kept and flagged until a trainer resolves it: see sync/)."""
    total, end = 0, None
    for start, stop in sorted(spans):
        if end is not None and start < end:
            if stop > end:
                total += int((stop - end).total_seconds())
                end = stop
            continue
        total += int((stop - start).total_seconds())
        end = stop
    return total


def summarize(
    periods: list[Period],
    *,
    tz: tzinfo,
    rounding_minutes: int,
    daily_max_hours: float,
    now: datetime,
    day_ends: dict[date, time] | None = None,
) -> Summary:
    """Per-day rows, the rounded total, and what the trainer must look at."""
    by_day: dict[date, Day] = {}
    spans: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
    warnings: list[HoursWarning] = []
    today = now.astimezone(tz).date()
    for period in sorted(periods, key=lambda p: p.check_in):
        start = period.check_in.astimezone(tz)
        day = by_day.setdefault(start.date(), Day(start.date()))
        end = period.check_out.astimezone(tz) if period.check_out else None
        day.periods.append((start.time(), end.time() if end else None))
        if period.phase not in day.phases:
            day.phases.append(period.phase)
        if period.method == "self":
            warnings.append(
                HoursWarning(
                    "UNCONFIRMED_CHECKIN",
                    day.day,
                    Text(
                        f"Pointage du {day.day:%d/%m/%Y} fait par la personne elle-même : "
                        "à confirmer par un formateur (non compté d'ici là).",
                        f"Self check-in on {day.day:%Y-%m-%d}: a trainer must confirm it "
                        "(not counted until then).",
                    ),
                )
            )
            continue
        if end is None:
            day.open = True
            ends = (day_ends or {}).get(day.day)
            if day.day < today or (
                ends is not None and now.astimezone(tz).time() > ends and day.day == today
            ):
                warnings.append(
                    HoursWarning(
                        "OPEN_CHECKIN",
                        day.day,
                        Text(
                            f"Entrée à {start:%H:%M} le {day.day:%d/%m/%Y} sans sortie : indiquez l'heure "
                            "de sortie (attendance out ou correct). Rien n'est compté tant qu'elle manque.",
                            f"Check-in at {start:%H:%M} on {day.day:%Y-%m-%d} has no check-out: record it "
                            "(attendance out or correct). Nothing is counted until then.",
                        ),
                    )
                )
            continue
        spans[day.day].append((period.check_in, period.check_out))  # type: ignore[arg-type]
    total = 0
    for day in by_day.values():
        day.exact_seconds = union_seconds(spans[day.day])
        day.minutes = round_seconds(day.exact_seconds, rounding_minutes)
        total += day.minutes
        if day.minutes > daily_max_hours * 60:
            warnings.append(
                HoursWarning(
                    "DAILY_MAX",
                    day.day,
                    Text(
                        f"{format_hours(day.minutes)} le {day.day:%d/%m/%Y}, plus que le maximum de "
                        f"{daily_max_hours:g} h par jour : vérifiez les horaires.",
                        f"{format_hours(day.minutes)} on {day.day:%Y-%m-%d}, above the daily maximum of "
                        f"{daily_max_hours:g} h: check the times.",
                    ),
                )
            )
    days = sorted(by_day.values(), key=lambda d: d.day)
    warnings.sort(key=lambda w: (w.day, w.code))
    return Summary(days=days, minutes=total, warnings=warnings)


def expected_end(days: list[Day], minutes_due: int) -> date | None:
    """When the hours will be done at the current pace (average per day attended, Mon-Fri days).

    Done: the day the total reached the hours due. Nothing attended yet: unknown (None).
    """
    attended = [d for d in days if d.minutes > 0]
    if not attended:
        return None
    running = 0
    for day in attended:
        running += day.minutes
        if running >= minutes_due:
            return day.day
    pace = running / len(attended)
    remaining_days = math.ceil((minutes_due - running) / pace)
    current = attended[-1].day
    while remaining_days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining_days -= 1
    return current


def phase_minutes(periods: list[Period], *, tz: tzinfo, rounding_minutes: int) -> dict[str, int]:
    """Rounded minutes per phase (for the bilan and the skills practised)."""
    seconds: dict[str, int] = defaultdict(int)
    for p in periods:
        if p.check_out is not None and p.method != "self":
            seconds[p.phase] += int((p.check_out - p.check_in).total_seconds())
    return {phase: round_seconds(s, rounding_minutes) for phase, s in seconds.items()}
