"""The public board (the "big screen"): 受理 / 待办 / 在办 / 办结 today and for a period,
each unit's rates, trend charts and recently resolved cases, updated live.

Its pages are rendered once per change and served from memory: a change anyone makes
clears the cache (Site.changed, Site.watch), and a short time-to-live keeps 超期, which
grows as time passes without any change, current."""
from __future__ import annotations

import asyncio
import collections
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch import queries, reports
from dispatch.clock import utcnow
from dispatch.errors import Reason
from dispatch.reports import Period
from web.errors import BadRequest
from web.inputs import MIN_DAY, parse_day
from web.pages import charts
from web.pages.site import BOARD_TOPIC, Site, event_stream, sse, today_local

SMALL_VOLUME = 10       # units with fewer transfers are listed, but not ranked
MAX_DAYS = 366
DEFAULT_DAYS = 30
CACHE_SECONDS = 30.0    # 超期 moves with the clock: recompute at least this often
CACHE_ENTRIES = 32
PRESETS = (("今日", 1), ("近7天", 7), ("近30天", 30), ("近90天", 90))


def parse_period(request: Request, today: dt.date) -> Period:
    params = request.query_params
    days = params.get("days")
    if days:
        # isascii: "²" is a digit to str.isdigit() but not to int()
        if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= MAX_DAYS:
            raise BadRequest("days", Reason.OUT_OF_RANGE, low=1, high=MAX_DAYS)
        return Period(today - dt.timedelta(days=int(days) - 1), today)
    until = parse_day("until", params["until"]) if params.get("until") else today
    since = (parse_day("since", params["since"]) if params.get("since")
             else max(until - dt.timedelta(days=DEFAULT_DAYS - 1), MIN_DAY))
    if since > until:
        raise BadRequest("since", Reason.PERIOD_REVERSED)
    if (until - since).days + 1 > MAX_DAYS:
        raise BadRequest("since", Reason.PERIOD_TOO_LONG, limit=MAX_DAYS)
    return Period(since, until)


@dataclass(frozen=True)
class UnitRow:
    rank: int | None
    figures: dict[str, Any]
    small: bool


def rank_units(units: list[reports.UnitFigures]) -> list[UnitRow]:
    """Units with enough cases ranked by resolution then on-time rate; the small ones after,
    unranked, so two cases are never set beside two thousand."""
    rows = [u.as_dict() for u in units]
    big = [r for r in rows if r["received"] >= SMALL_VOLUME]
    small = [r for r in rows if r["received"] < SMALL_VOLUME]
    big.sort(key=lambda r: (-(r["resolution_rate"] or 0), -(r["on_time_rate"] or 0), -r["received"]))
    small.sort(key=lambda r: (-r["received"], r["unit_code"]))
    return [UnitRow(i + 1, r, False) for i, r in enumerate(big)] + [UnitRow(None, r, True) for r in small]


def board_figures(session: Session, period: Period, today: dt.date) -> dict[str, Any]:
    now = utcnow()
    return {
        "period": period,
        "today_counts": reports.board_counts(session, Period(today, today)),
        "counts": reports.board_counts(session, period),
        "figures": reports.ticket_figures(session, period, now=now).as_dict(),
        "units": rank_units(reports.unit_figures(session, period, now=now)),
        "daily": queries.daily_series(session, period),
        "recent": queries.recently_resolved(session),
        "city": None,
    }


@dataclass(frozen=True)
class Entry:
    page: bytes
    panel: bytes
    made: float


class BoardCache:
    def __init__(self, site: Site) -> None:
        self._site = site
        self._entries: collections.OrderedDict[tuple[dt.date, dt.date, dt.date], Entry] = collections.OrderedDict()
        self._building: dict[tuple[dt.date, dt.date, dt.date], asyncio.Future[Entry]] = {}

    def clear(self) -> None:
        self._entries.clear()

    async def get(self, period: Period, today: dt.date) -> Entry:
        key = (period.since, period.until, today)
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.made < CACHE_SECONDS:
            return entry
        # One computation per key at a time; everyone else waits for it.
        building = self._building.get(key)
        if building is not None:
            return await asyncio.shield(building)
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            generation = self._site.generation
            entry = await self._build(period, today)
            if generation == self._site.generation:
                self._entries[key] = entry
                while len(self._entries) > CACHE_ENTRIES:
                    self._entries.popitem(last=False)
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._building[key]

    async def _build(self, period: Period, today: dt.date) -> Entry:
        site = self._site
        figures = await site.services.run(lambda s: board_figures(s, period, today))
        figures["city"] = site.services.city.name
        figures["bars"] = charts.daily_bars(figures["daily"])
        figures["rates"] = charts.rate_line(figures["daily"])
        figures["presets"] = PRESETS
        figures["today"] = today
        panel = site.render_text("_board_panel.html", figures)
        page = site.render_text("board.html", {**figures, "panel": Markup(panel)})
        return Entry(page.encode(), panel.encode(), time.monotonic())


def _site(request: Request) -> Site:
    return request.app.state.site  # type: ignore[no-any-return]


async def board(request: Request) -> Response:
    today = today_local()
    entry = await _site(request).board.get(parse_period(request, today), today)
    return Response(entry.page, media_type="text/html; charset=utf-8")


async def board_panel(request: Request) -> Response:
    today = today_local()
    entry = await _site(request).board.get(parse_period(request, today), today)
    return Response(entry.panel, media_type="text/html; charset=utf-8")


async def board_events(request: Request) -> Response:
    site = _site(request)
    return event_stream(site.hub, [BOARD_TOPIC], lambda _topic, message: sse("board", message),
                        hello=sse("hello", {"generation": site.generation}))


routes = [
    Route("/board", board, methods=["GET"]),
    Route("/board/panel", board_panel, methods=["GET"]),
    Route("/board/events", board_events, methods=["GET"]),
]
