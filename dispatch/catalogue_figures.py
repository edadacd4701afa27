"""Figures per dispatch catalogue level (派单目录 level 1, 2 or 3): the tickets received in a
period grouped by the name at that level of the entry each ticket was dispatched under
(or proposed at intake, before it was transferred). The rates are DESIGN.md's, within the
group. Added up from the running totals per (day received, entry, deadline day while open)
(rollup.CATALOGUE), a few hundred rows a day whatever the tickets: the public /api/v1/stats
asks for any span, and reading every ticket of decades took seconds a request."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import rollup
from dispatch.clock import local_date, local_day_start, utcnow
from dispatch.models import CatalogueEntry, CatalogueRollup, Ticket
from dispatch.reports import OPEN_STATES, Period, rate

LEVELS = (1, 2, 3)
# The totals LevelFigures adds up (their open_with_deadline gives the overdue ones).
_COUNTS = tuple(c for c in rollup.CATALOGUE_COUNTS if c != "open_with_deadline")


@dataclass
class LevelFigures:
    name: str                  # "城乡建设", "城乡建设 / 住房保障与房地产", ...; "" for tickets without an entry
    received: int = 0
    transferred: int = 0
    answered: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rated: int = 0
    satisfied_or_partly: int = 0
    overdue: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "transfer_rate": rate(self.transferred, self.received),
                "resolution_rate": rate(self.resolved + self.answered, self.received),
                "on_time_rate": rate(self.resolved_on_time, self.resolved),
                "satisfaction_rate": rate(self.satisfied_or_partly, self.rated)}


def figures_by_level(session: Session, period: Period, level: int, *,
                     now: dt.datetime | None = None) -> list[LevelFigures]:
    """One row per name at `level`, most tickets first."""
    if level not in LEVELS:
        raise ValueError(f"level {level}")
    now = now or utcnow()
    by_entry = {entry_id: values for entry_id, *values in rollup.totals(
        session, CatalogueRollup, period.since, period.until, ("catalogue_entry_id",), _COUNTS)}
    overdue = _overdue(session, period, now)
    names = {entry_id: " / ".join(levels[:level]) for entry_id, *levels in session.execute(
        select(CatalogueEntry.id, CatalogueEntry.level1, CatalogueEntry.level2, CatalogueEntry.level3)
        .where(CatalogueEntry.id.in_([e for e in by_entry if e])))}
    groups: dict[str, LevelFigures] = {}
    for entry_id, values in by_entry.items():
        if not values[0]:   # its tickets have all moved to other entries
            continue
        name = names.get(entry_id, "")
        group = groups.get(name) or groups.setdefault(name, LevelFigures(name))
        for count, n in zip(_COUNTS, values):
            setattr(group, count, getattr(group, count) + int(n))
        group.overdue += overdue.get(entry_id, 0)
    return sorted(groups.values(), key=lambda g: (-g.received, g.name))


def _overdue(session: Session, period: Period, now: dt.datetime) -> dict[int, int]:
    """Open tickets past their deadline now, per entry (0 for none), as reports._overdue counts
    them: those of a deadline day before today from the totals, today's already past from the
    tickets (few: deadlines fall at the end of a working day)."""
    today = local_date(now)
    t = CatalogueRollup
    counts = {entry_id: int(n) for entry_id, n in session.execute(
        select(t.catalogue_entry_id, func.sum(t.open_with_deadline))
        .where(t.day >= period.since, t.day <= period.until, t.deadline_day < today)
        .group_by(t.catalogue_entry_id)) if n}
    for entry_id, in session.execute(
            select(Ticket.catalogue_entry_id)
            .where(Ticket.state.in_(OPEN_STATES), Ticket.deadline >= local_day_start(today), Ticket.deadline < now,
                   Ticket.received_at >= period.start, Ticket.received_at < period.end)):
        counts[entry_id or 0] = counts.get(entry_id or 0, 0) + 1
    return counts
