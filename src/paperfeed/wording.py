"""How dates and counts read, on pages and in mail: one style everywhere.

English names are spelled out here rather than taken from strftime, whose %A and %B follow the
process locale. Cards and lists show "20 Mar 2026" ("20 Mar" in the current year); headings
show "Friday, 20 March 2026".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: dt.date) -> str:
    """Format a day as "Friday, 20 March 2026"."""
    return f"{_WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: dt.date) -> str:
    """Format a day as "Fri 20 Mar" for the day navigation."""
    return f"{_WEEKDAYS[day.weekday()][:3]} {day.day} {MONTHS[day.month - 1][:3]}"


def human_date(moment: dt.date | dt.datetime | None, *, today: dt.date | None = None) -> str:
    """Format a day as every card and list shows it: "20 Mar 2026", or "20 Mar" in the
    current year (UTC). A datetime shows its day."""
    if moment is None:
        return ""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    this_year = (today or dt.datetime.now(dt.UTC).date()).year
    text = f"{day.day} {MONTHS[day.month - 1][:3]}"
    return text if day.year == this_year else f"{text} {day.year}"


def human_time(moment: dt.datetime) -> str:
    """Format a moment (naive UTC) as "20 Mar 2026, 14:05 UTC", the year as in human_date."""
    return f"{human_date(moment)}, {moment.strftime('%H:%M')} UTC"


def plural(count: int, word: str, many: str | None = None) -> str:
    """Count things in English: "1 upvote", "2 upvotes", "1,024 papers", "0 comments"."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def short_authors(authors: Sequence[str] | None, *, keep: int = 3, most: int = 5) -> str:
    """Join author names, shortening lists longer than `most` to "A, B, C … and N more"."""
    if not authors:
        return ""
    if len(authors) <= most:
        return ", ".join(authors)
    return f"{', '.join(authors[:keep])} … and {len(authors) - keep} more"
