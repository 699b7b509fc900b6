"""Rate limits on the actions a script could abuse: asking for sign-in mail, submitting,
commenting and replying, reporting comments, changing one's handle, writing collection notes.
Over the limit, the action raises `RateLimited` and changes nothing.

Counters live in the store (`rate_limits`), so all workers of a hub count together.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from paperfeed.db.engine import Database
from paperfeed.db.ratelimits import hit_rate_limit


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` hits per `window` for one key."""

    action: str
    limit: int
    window: dt.timedelta

    def describe(self) -> str:
        minutes = int(self.window.total_seconds() // 60)
        return f"{self.limit} per {minutes} minutes"


SIGN_IN_PER_CLIENT = Limit("sign-in:ip", 10, dt.timedelta(minutes=10))
SIGN_IN_PER_EMAIL = Limit("sign-in:email", 5, dt.timedelta(minutes=60))
SUBMIT_PER_USER = Limit("submit:user", 10, dt.timedelta(minutes=60))
COMMENT_PER_USER = Limit("comment:user", 10, dt.timedelta(minutes=10))  # replies count too
REPORT_PER_USER = Limit("report:user", 10, dt.timedelta(minutes=60))
# A handle is how others mention you: changing it often would make mentions miss.
HANDLE_PER_USER = Limit("handle:user", 5, dt.timedelta(days=1))
NOTE_PER_USER = Limit("note:user", 30, dt.timedelta(minutes=10))
LINKS_PER_USER = Limit("links:user", 20, dt.timedelta(minutes=60))
# Importing a library parses, matches and embeds up to 500 entries: a few a minute is plenty.
LIBRARY_PER_USER = Limit("library:user", 10, dt.timedelta(minutes=60))
# Claiming an author page puts it on the curators' queue: a few an hour is plenty.
CLAIM_PER_USER = Limit("claim:user", 5, dt.timedelta(minutes=60))

# Choosing categories and saving searches (For you's topics): clicks, but each saved search may
# cost a search when For you is next ranked.
TOPICS_PER_USER = Limit("topics:user", 60, dt.timedelta(minutes=10))


class RateLimited(Exception):
    """Over a limit: nothing was done; `retry_after` whole seconds until it is allowed."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(
            f"Too many requests ({limit.describe()}). Try again in {retry_after} seconds."
        )
        self.limit = limit
        self.retry_after = retry_after


def hit(*, db: Database, limit: Limit, who: str, now: dt.datetime | None = None) -> None:
    """Count one hit for `who` (in its own transaction); raise `RateLimited` when over."""
    with db.write() as conn:
        wait = hit_rate_limit(
            conn, f"{limit.action}:{who}"[:200], limit=limit.limit, window=limit.window, now=now
        )
    if wait > 0:
        raise RateLimited(limit, math.ceil(wait))
