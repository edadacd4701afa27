"""A moment asked for in a query string (Open311's start_date and end_date, the staff API's
updated_since): ISO 8601, read the same way wherever it is asked for."""
from __future__ import annotations

import datetime as dt
import re

from dispatch.clock import CHINA, MAX_DAY, MIN_DAY, local_day_start
from dispatch.errors import InvalidInput, Reason

# "2026-12-07T08:00:00+08:00" sent unencoded arrives as "2026-12-07T08:00:00 08:00": a query
# string reads "+" as a space.
_PLUS_AS_SPACE = re.compile(r"T[0-9:.]+ [0-9]{2}(?::?[0-9]{2})?$")


def parse_moment(name: str, raw: str, *, day_end: bool = False) -> dt.datetime:
    """A w3 / ISO 8601 datetime; one without an offset is taken as China time, a date alone as
    the start of that China day, or with `day_end` (the end of a range) as its last instant, so
    that the range takes the whole day in. Its day must lie between MIN_DAY and MAX_DAY, as
    every date asked for elsewhere."""
    text = raw.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        reason = Reason.PLUS_AS_SPACE if _PLUS_AS_SPACE.search(text) else Reason.BAD_DATETIME
        raise InvalidInput(name, reason, value=raw[:40]) from None
    if not MIN_DAY <= moment.date() <= MAX_DAY:
        raise InvalidInput(name, Reason.DATE_OUT_OF_RANGE, low=MIN_DAY.isoformat(), high=MAX_DAY.isoformat())
    if day_end and _date_only(text):
        return local_day_start(moment.date() + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment


def _date_only(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
