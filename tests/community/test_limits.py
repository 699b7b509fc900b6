"""community/limits.py: fixed-window counters in the store."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.community.limits import Limit, RateLimited, hit
from paperfeed.db import Database

LIMIT = Limit("test", 2, dt.timedelta(minutes=10))
NOW = dt.datetime(2026, 3, 20, 12, 0)


def test_a_limit_refuses_the_hit_past_it_until_the_window_ends(db: Database) -> None:
    hit(db=db, limit=LIMIT, who="a", now=NOW)
    hit(db=db, limit=LIMIT, who="a", now=NOW)
    with pytest.raises(RateLimited) as refused:
        hit(db=db, limit=LIMIT, who="a", now=NOW + dt.timedelta(minutes=1))
    assert refused.value.retry_after == 540
    assert "2 per 10 minutes" in str(refused.value)
    hit(db=db, limit=LIMIT, who="b", now=NOW)  # each key counts alone
    hit(db=db, limit=LIMIT, who="a", now=NOW + dt.timedelta(minutes=10))  # a new window
