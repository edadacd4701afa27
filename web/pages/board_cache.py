"""The public board's figures and its rendered pages, kept in memory: built once per change
(Site.changed and Site.watch clear the cache), and at least every CACHE_SECONDS, since 超期
grows as time passes without any change."""
from __future__ import annotations

import collections
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from dispatch import queries, reports
from dispatch.clock import utcnow
from dispatch.reports import Period
from web.pages import charts
from web.pages.compressed import CachedPage
from web.pages.periods import PRESETS
from web.pages.single_flight import SingleFlight
from web.services import Services

SMALL_VOLUME = 10       # units with fewer transfers are listed, but not ranked
CACHE_SECONDS = 30.0    # 超期 moves with the clock: recompute at least this often
CACHE_ENTRIES = 32

Render = Callable[[str, dict[str, Any]], str]


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
    page: CachedPage
    wall_page: CachedPage    # the same panel in the wall screen's frame (/board?wall=1)
    panel: CachedPage
    made: float


class BoardCache:
    def __init__(self, services: Services, render: Render, generation: Callable[[], int]) -> None:
        self._services = services
        self._render = render
        self._generation = generation
        self._entries: collections.OrderedDict[tuple[dt.date, dt.date, dt.date], Entry] = collections.OrderedDict()
        self._flights = SingleFlight()

    def clear(self) -> None:
        self._entries.clear()

    async def get(self, period: Period, today: dt.date) -> Entry:
        key = (period.since, period.until, today)
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.made < CACHE_SECONDS:
            return entry
        # One computation per key at a time; everyone else waits for it.
        return await self._flights.run(key, lambda: self._build_kept(key, period, today))

    async def _build_kept(self, key: tuple[dt.date, dt.date, dt.date], period: Period, today: dt.date) -> Entry:
        generation = self._generation()
        entry = await self._build(period, today)
        if generation == self._generation():
            self._entries[key] = entry
            while len(self._entries) > CACHE_ENTRIES:
                self._entries.popitem(last=False)
        return entry

    async def _build(self, period: Period, today: dt.date) -> Entry:
        figures = await self._services.run(lambda s: board_figures(s, period, today))
        figures["city"] = self._services.city.name
        figures["bars"] = charts.daily_bars(figures["daily"])
        figures["rates"] = charts.rate_line(figures["daily"])
        figures["bars_narrow"] = charts.daily_bars(figures["daily"], narrow=True)
        figures["rates_narrow"] = charts.rate_line(figures["daily"], narrow=True)
        figures["presets"] = PRESETS
        figures["today"] = today
        panel = self._render("_board_panel.html", figures)
        page = self._render("board.html", {**figures, "panel": Markup(panel), "wall": False})
        wall_page = self._render("board.html", {**figures, "panel": Markup(panel), "wall": True})
        return Entry(CachedPage.of(page), CachedPage.of(wall_page), CachedPage.of(panel), time.monotonic())
