"""The units table as the pages show it (names beside tickets, the lists to pick from),
kept between requests: a city has a few hundred units that change a few times a year,
and reading them as ORM rows on every page cost more than some pages' own work.

What the cache holds is at most TTL_SECONDS old. The process that changes a unit clears
its own at once and tells the others (web/config_changes.py "units"); a change made
elsewhere (the command line, which tells nobody) changes `stamp`, which every process
checks every few seconds (web/config_changes.py), and within TTL_SECONDS at worst. Never a
guard: whatever decides who may do what reads the table itself."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import CatalogueVersion, StaffActivity, Unit
from dispatch.staff_activity import ActivityKind

TTL_SECONDS = 30.0
# Every change of a unit writes one of these to the staff activity log (dispatch/unit_admin.py).
_UNIT_CHANGES = (ActivityKind.UNIT_ADDED.value, ActivityKind.UNIT_CHANGED.value, ActivityKind.UNITS_IMPORTED.value)
_STAMP = select(
    select(func.count()).select_from(StaffActivity).where(StaffActivity.kind.in_(_UNIT_CHANGES)).scalar_subquery(),
    select(func.count()).select_from(CatalogueVersion).scalar_subquery())


def stamp(session: Session) -> tuple[int, int]:
    """Where the units and the dispatch catalogue stand, whichever process changed them: the
    unit changes in the staff activity log and the catalogue's versions, counted. Both are
    append-only, so each commit that changes either raises a count, even one that commits
    after a newer row of another (a maximum id could miss it). Two indexed counts of a few
    hundred rows: cheap enough to ask every few seconds."""
    units, versions = session.execute(_STAMP).one()
    return int(units), int(versions)


@dataclass(frozen=True)
class UnitEntry:
    """A unit's row, detached from any session (read by templates like a Unit)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    active: bool
    duty_phone: str | None


@dataclass(frozen=True)
class _Read:
    active: list[UnitEntry]        # active units, by kind then name (as queries.active_units)
    names: dict[int, str]          # every unit's name, inactive ones too
    retired: frozenset[int]        # the inactive ones: pages that name them mark them
    at: float


class UnitCache:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._read: _Read | None = None
        self._generation = 0
        self._lock = threading.Lock()

    def active(self, session: Session) -> list[UnitEntry]:
        return self._current(session).active

    def names(self, session: Session) -> dict[int, str]:
        return self._current(session).names

    def retired(self, session: Session) -> frozenset[int]:
        return self._current(session).retired

    def clear(self) -> None:
        with self._lock:
            self._read = None
            self._generation += 1

    def _current(self, session: Session) -> _Read:
        read, now = self._read, self._clock()
        if read is not None and now - read.at < self._ttl:
            return read
        generation = self._generation
        rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.active,
                                      Unit.duty_phone).order_by(Unit.kind, Unit.name)).all()
        entries = [UnitEntry(*row) for row in rows]
        read = _Read([u for u in entries if u.active], {u.id: u.name for u in entries},
                     frozenset(u.id for u in entries if not u.active), now)
        with self._lock:
            # A clear() while we read: what we read may be older than the change; keep it
            # for this request only.
            if generation == self._generation:
                self._read = read
        return read
