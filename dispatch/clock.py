"""Time in one place: UTC inside, China Standard Time for calendar days and ticket numbers."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
# The days anyone may ask about: outside these years a date is a typo or a probe, and near
# year 1 or 9999 a period's arithmetic (a span added, a change of time zone) would overflow.
MIN_DAY = dt.date(2000, 1, 1)
MAX_DAY = dt.date(2099, 12, 31)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def this_year(moment: dt.datetime, now: dt.datetime | None = None) -> bool:
    """Whether `moment` falls in `now`'s year, China time: a date shown without its year
    (a notice, a text) must be this year's."""
    return moment.astimezone(CHINA).year == (now or utcnow()).astimezone(CHINA).year


def local_day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which a China calendar day begins."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=CHINA).astimezone(dt.timezone.utc)


# The one way the JSON APIs under /api/v1 (but Open311, which follows its spec) and the units'
# webhooks write an instant: UTC to the second, with Z (RFC 3339), whether the moment came
# from the clock (with microseconds) or from a demo's history (without).
API_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def api_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:   # stored naive: UTC by this module's rule
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime(API_TIME_FORMAT)
