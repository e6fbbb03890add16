"""Report periods: one local day or one ISO week (Monday first), and the UTC instants that bound them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A report period: `kind` 'daily' or 'weekly', its label, and its first and last local days (included)."""

    kind: str
    label: str
    first_day: date
    last_day: date

    @property
    def days(self) -> list[date]:
        """Return every local day of the period, in order."""
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    def previous(self) -> Period:
        """Return the period of the same kind just before this one."""
        if self.kind == "daily":
            return daily_period(self.first_day - timedelta(days=1))
        return weekly_period_of(self.first_day - timedelta(days=7))

    def utc_bounds(self, tz: str) -> tuple[datetime, datetime]:
        """Return [start, end) in UTC: local midnight of the first day to local midnight after the last."""
        zone = ZoneInfo(tz)
        start = datetime.combine(self.first_day, time(), zone).astimezone(timezone.utc)
        end = datetime.combine(self.last_day + timedelta(days=1), time(), zone).astimezone(timezone.utc)
        return start, end


def daily_period(day: date) -> Period:
    """Return the daily period of one local day."""
    return Period("daily", day.isoformat(), day, day)


def weekly_period_of(day: date) -> Period:
    """Return the ISO week (Monday to Sunday) that holds `day`."""
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    return Period("weekly", f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def parse_week(label: str) -> Period:
    """Return the ISO week named 'YYYY-Www'; raise ValueError for anything else."""
    match = WEEK_PATTERN.match(label)
    if not match:
        raise ValueError(f"not a week in YYYY-Www form: {label!r}")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"no such ISO week: {label!r}") from None
    return weekly_period_of(monday)


def local_today(tz: str, now: datetime | None = None) -> date:
    """Return today's date in the time zone `tz`."""
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


def default_daily(today: date) -> Period:
    """Return yesterday's daily period."""
    return daily_period(today - timedelta(days=1))


def default_weekly(today: date) -> Period:
    """Return the last full ISO week before `today`'s week."""
    return weekly_period_of(today - timedelta(days=today.isoweekday()))


def choose_daily_period(report_date: str | None, tz: str) -> Period:
    """Return the day asked for (YYYY-MM-DD), else yesterday in `tz`."""
    if report_date:
        return daily_period(date.fromisoformat(report_date))
    return default_daily(local_today(tz))


def choose_weekly_period(week: str | None, tz: str) -> Period:
    """Return the week asked for (YYYY-Www), else the last full ISO week in `tz`."""
    return parse_week(week) if week else default_weekly(local_today(tz))
