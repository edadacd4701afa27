"""The period a figures page shows (?days=, or ?since= and ?until=, China dates), shared by
the public board and the supervisor's dashboard."""
from __future__ import annotations

import datetime as dt

from starlette.requests import Request

from dispatch.clock import MIN_DAY, local_date, utcnow
from dispatch.errors import Reason
from dispatch.reports import Period
from web.errors import BadRequest
from web.inputs import parse_day
from web.pages.labels import PERIOD_PRESETS_ZH

MAX_DAYS = 366
DEFAULT_DAYS = 30
PRESETS = PERIOD_PRESETS_ZH


def today_local(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def parse_period(request: Request, today: dt.date, *, default_days: int = DEFAULT_DAYS) -> Period:
    params = request.query_params
    days = params.get("days")
    if days:
        # isascii: "²" is a digit to str.isdigit() but not to int()
        if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= MAX_DAYS:
            raise BadRequest("days", Reason.OUT_OF_RANGE, low=1, high=MAX_DAYS)
        return Period(today - dt.timedelta(days=int(days) - 1), today)
    until = parse_day("until", params["until"]) if params.get("until") else today
    since = (parse_day("since", params["since"]) if params.get("since")
             else max(until - dt.timedelta(days=default_days - 1), MIN_DAY))
    if since > until:
        raise BadRequest("since", Reason.PERIOD_REVERSED)
    if (until - since).days + 1 > MAX_DAYS:
        raise BadRequest("since", Reason.PERIOD_TOO_LONG, limit=MAX_DAYS)
    return Period(since, until)


HOTSPOT_MAX_DAYS = 31


def hotspot_period(request: Request, today: dt.date) -> Period:
    """热点 look at days, not months: ?since=&until=, both today by default, at most 31 days."""
    params = request.query_params
    until = parse_day("until", params["until"]) if params.get("until") else today
    since = parse_day("since", params["since"]) if params.get("since") else until
    if since > until:
        raise BadRequest("since", Reason.PERIOD_REVERSED)
    if (until - since).days + 1 > HOTSPOT_MAX_DAYS:
        raise BadRequest("since", Reason.PERIOD_TOO_LONG, limit=HOTSPOT_MAX_DAYS)
    return Period(since, until)


def month_param(request: Request, today: dt.date, *, this_month: bool = False) -> str:
    """?month=YYYY-MM, the last full month by default, or `this_month` (checked by
    dispatch.assessment.parse_month)."""
    default = today if this_month else today.replace(day=1) - dt.timedelta(days=1)
    return request.query_params.get("month") or default.strftime("%Y-%m")
