"""Time in one place: UTC inside, China Standard Time for calendar days and ticket numbers."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def local_day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which a China calendar day begins."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=CHINA).astimezone(dt.timezone.utc)
