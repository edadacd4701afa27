"""Figures shared by every request of a process (the stats API, the supervisor's figures):
computed once per change instead of once per request. An entry holds while its marker holds:
the database's change marker, which each request reads (queries.figures_marker: the last
ticket event and the last call, so any process's change shows at once, as before), and the
China minute: 超期 moves with the clock (a day's deadlines fall at 23:59:59, within a
second of a minute's turn), and what writes no ticket event (a call answered or ended after it was first recorded, a unit renamed) shows
within the minute. Each process keeps its own entries."""
from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from dispatch.clock import CHINA, utcnow
from web.pages.single_flight import SingleFlight

T = TypeVar("T")
ENTRIES = 256  # periods, units' inbox pages, lists asked for at once; the least recent go first


def minute(now: dt.datetime) -> tuple[int, ...]:
    """The China minute `now` falls in: an entry is made again at least this often."""
    local = now.astimezone(CHINA)
    return (local.year, local.month, local.day, local.hour, local.minute)


class FiguresCache:
    def __init__(self, entries: int = ENTRIES, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._size = entries
        self._clock = clock
        self._entries: collections.OrderedDict[Hashable, tuple[Hashable, Any]] = collections.OrderedDict()
        self._flights = SingleFlight()
        self.builds = 0   # how many times figures were computed (tests, the README's figures)

    def clear(self) -> None:
        self._entries.clear()

    async def get(self, key: Hashable, changes: Hashable, build: Callable[[dt.datetime], Awaitable[T]]) -> T:
        """The figures `key` names, as `build(now)` computes them, from the entry made at the
        same `changes` (the marker read by this request) and minute if there is one; one
        computation per key and marker at a time, the others wait for it."""
        now = self._clock()
        marker = (changes, minute(now))
        found = self._entries.get(key)
        if found is not None and found[0] == marker:
            self._entries.move_to_end(key)
            return found[1]  # type: ignore[no-any-return]
        return await self._flights.run((key, marker), lambda: self._build_kept(key, marker, now, build))

    async def _build_kept(self, key: Hashable, marker: Hashable, now: dt.datetime,
                          build: Callable[[dt.datetime], Awaitable[T]]) -> T:
        self.builds += 1
        # Read after the marker: never older than it (newer changes move the marker on).
        value = await build(now)
        self._entries[key] = (marker, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value
