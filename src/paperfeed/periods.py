"""Feed periods: one day, one ISO week or one calendar month, parsed from `?date=`, `?week=`,
`?month=`. Pure values; the store is asked about a period through its `start` and `end`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["day", "week", "month"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# The query parameter each kind is read from, as Hugging Face's /api/daily_papers names them.
PARAMS: dict[PeriodKind, str] = {"day": "date", "week": "week", "month": "month"}


class BadPeriod(ValueError):
    """A period parameter that cannot be read; the message says what to give instead."""


@dataclass(frozen=True, slots=True)
class Period:
    """The days `start` (included) to `end` (excluded) of one day, ISO week or month."""

    kind: PeriodKind
    start: dt.date

    @property
    def end(self) -> dt.date:
        # The last period of year 9999 ends at date.max rather than overflowing.
        if self.kind == "month":
            year, month = divmod(self.start.month, 12)
            if self.start.year + year > dt.MAXYEAR:
                return dt.date.max
            return dt.date(self.start.year + year, month + 1, 1)
        days = 1 if self.kind == "day" else 7
        try:
            return self.start + dt.timedelta(days=days)
        except OverflowError:
            return dt.date.max

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def value(self) -> str:
        """The period as its query parameter spells it: 2026-03-20, 2026-W12, 2026-03."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def param(self) -> str:
        return PARAMS[self.kind]

    def query(self) -> str:
        """The query string that selects this period, e.g. `week=2026-W12`."""
        return f"{self.param}={self.value}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def of_kind(self, kind: PeriodKind) -> Period:
        """The day, week or month that holds this period's first day."""
        return period_of(kind, self.start)


def period_of(kind: PeriodKind, day: dt.date) -> Period:
    """The day, ISO week (starting Monday) or month that holds `day`."""
    if kind == "day":
        return Period("day", day)
    if kind == "week":
        return Period("week", day - dt.timedelta(days=day.weekday()))
    return Period("month", day.replace(day=1))


def parse_day(text: str) -> dt.date:
    """Read YYYY-MM-DD only (`date.fromisoformat` also takes 20260320 and week dates)."""
    try:
        if _DAY.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise BadPeriod(
        f"{_quoted(text)} is not a date. Give one as YYYY-MM-DD, for example 2026-03-20."
    )


def parse_week(text: str) -> Period:
    """Read an ISO week, YYYY-Www (2026-W12: the Monday-to-Sunday week 12 of ISO year 2026)."""
    match = _WEEK.match(text)
    if match:
        try:
            return Period("week", dt.date.fromisocalendar(int(match[1]), int(match[2]), 1))
        except ValueError:
            pass
    raise BadPeriod(
        f"{_quoted(text)} is not an ISO week. Give one as YYYY-Www, for example 2026-W12."
    )


def parse_month(text: str) -> Period:
    """Read a month, YYYY-MM."""
    match = _MONTH.match(text)
    if match:
        try:
            return Period("month", dt.date(int(match[1]), int(match[2]), 1))
        except ValueError:
            pass
    raise BadPeriod(f"{_quoted(text)} is not a month. Give one as YYYY-MM, for example 2026-03.")


def parse_period(
    *, date: str | None = None, week: str | None = None, month: str | None = None
) -> Period | None:
    """Read the one period given, or None when none is; two at once is an error."""
    given = {name: value for name, value in (("date", date), ("week", week), ("month", month))}
    present = {name: value for name, value in given.items() if value is not None}
    if len(present) > 1:
        raise BadPeriod(f"Give one of date, week or month, not {' and '.join(present)} together.")
    if date is not None:
        return Period("day", parse_day(date))
    if week is not None:
        return parse_week(week)
    if month is None:
        return None
    return parse_month(month)


def _quoted(text: str, *, limit: int = 80) -> str:
    # User input goes back into pages (autoescaped), cut short so a long URL stays readable.
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"
