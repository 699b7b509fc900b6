"""The daily loop's schedule: when arXiv announces (fetch, then embed and feature that day) and
when digests go out, as cron expressions in time zones (croniter + zoneinfo, DST included).

Pure: every function takes `now`, so the whole schedule runs on a fake clock in tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter

from paperfeed.settings import Settings

FETCH, EMBED, FEATURE, DIGEST = "fetch", "embed", "feature", "digest"
JOBS = (FETCH, EMBED, FEATURE, DIGEST)
STARS = "stars"  # once a UTC day when repositories are due (loop/jobs.py: refresh_stars)
HF_MIRROR = "hf_mirror"  # once a UTC day when PAPERFEED_HF_MIRROR is on (jobs: mirror_hf_daily)
# Notification mail: once per slot of PAPERFEED_NOTIFY_MAIL_EVERY_MINUTES, when mail waits.
NOTIFY = "notify"
ALL_JOBS = (*JOBS, STARS, HF_MIRROR, NOTIFY)
_MINUTE = dt.timedelta(minutes=1)


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("the schedule works on aware times (e.g. datetime.now(UTC))")
    return now


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A cron expression read in one time zone: `0 20 * * 0-4` in America/New_York."""

    cron: str
    zone: str

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron):
            raise ValueError(f"not a cron expression: {self.cron!r}")
        ZoneInfo(self.zone)

    def previous(self, now: dt.datetime) -> dt.datetime:
        """The latest fire time at or before `now` (aware, in the zone)."""
        local = _aware(now).astimezone(ZoneInfo(self.zone))
        minute = local.replace(second=0, microsecond=0)
        candidate: dt.datetime = croniter(self.cron, minute - _MINUTE).get_next(dt.datetime)
        if candidate <= local:
            return candidate
        earlier: dt.datetime = croniter(self.cron, minute).get_prev(dt.datetime)
        return earlier

    def next(self, now: dt.datetime) -> dt.datetime:
        """The first fire time after `now` (aware, in the zone)."""
        local = _aware(now).astimezone(ZoneInfo(self.zone))
        found: dt.datetime = croniter(self.cron, local).get_next(dt.datetime)
        return found


def notify_slot(now: dt.datetime, minutes: float) -> dt.datetime:
    """The start of the notification-mail slot `now` falls in (naive UTC, whole minutes), the
    period its job run is recorded under."""
    utc = _aware(now).astimezone(dt.UTC).replace(tzinfo=None)
    width = max(1, round(minutes))
    minute = (utc.hour * 60 + utc.minute) // width * width
    return utc.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(minutes=minute)


def announcement_day(fire: dt.datetime) -> dt.date:
    """The listing day of an announcement: the UTC day it falls in (Sunday 20:00 New York time
    is Monday's listing), which is how arXiv dates its listings and feeds."""
    return fire.astimezone(dt.UTC).date()


@dataclass(frozen=True, slots=True)
class Schedule:
    """When each job is due. Embed and feature follow fetch (same period: the listing day)."""

    announce: Recurrence
    digest: Recurrence
    fetch_retry: dt.timedelta
    fetch_give_up: dt.timedelta
    grace: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        """The schedule the settings describe."""
        hour, minute = settings.digest_time.split(":")
        return cls(
            announce=Recurrence(settings.announce_cron, settings.announce_timezone),
            digest=Recurrence(f"{int(minute)} {int(hour)} * * *", settings.digest_timezone),
            fetch_retry=dt.timedelta(minutes=settings.fetch_retry_minutes),
            fetch_give_up=dt.timedelta(hours=settings.fetch_give_up_hours),
            grace=dt.timedelta(minutes=settings.schedule_grace_minutes),
        )

    def fetch_period(self, now: dt.datetime) -> tuple[dt.date, dt.datetime]:
        """The latest announcement at or before `now`: its listing day and fire time."""
        fire = self.announce.previous(now)
        return announcement_day(fire), fire

    def digest_period(self, now: dt.datetime) -> tuple[dt.date, dt.datetime]:
        """The latest digest time at or before `now`: its day (in the digest's zone) and time."""
        fire = self.digest.previous(now)
        return fire.date(), fire

    def still_looking(self, fire: dt.datetime, now: dt.datetime) -> bool:
        """Whether a listing announced at `fire` is still worth looking for at `now`."""
        return _aware(now) < fire + self.fetch_give_up

    def next_fires(self, now: dt.datetime) -> dict[str, dt.datetime]:
        """The next scheduled time of each job (embed and feature run right after fetch)."""
        announce = self.announce.next(now)
        return {FETCH: announce, EMBED: announce, FEATURE: announce, DIGEST: self.digest.next(now)}
