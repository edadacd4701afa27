"""Figures per dispatch catalogue level (派单目录 level 1, 2 or 3): the tickets received in a
period grouped by the name at that level of the entry each ticket was dispatched under
(or proposed at intake, before it was transferred). The rates are DESIGN.md's, within the
group. Counted from the tickets themselves (no running totals): one indexed scan of the
period's tickets."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import CatalogueEntry, Ticket
from dispatch.reports import Period, rate
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import Rating

LEVELS = (1, 2, 3)
_OPEN = frozenset(s.value for s in State if s not in FINISHED_STATES)
_GOOD = frozenset({Rating.SATISFIED.value, Rating.PARTLY.value})


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
    rows = session.execute(
        select(Ticket.state, Ticket.transfer_count, Ticket.resolved_at, Ticket.resolved_on_time, Ticket.rating,
               Ticket.deadline, CatalogueEntry.level1, CatalogueEntry.level2, CatalogueEntry.level3)
        .outerjoin(CatalogueEntry, CatalogueEntry.id == Ticket.catalogue_entry_id)
        .where(Ticket.received_at >= period.start, Ticket.received_at < period.end))
    groups: dict[str, LevelFigures] = {}
    for state, transfers, resolved_at, on_time, rating, deadline, *levels in rows:
        name = " / ".join(levels[:level]) if levels[0] is not None else ""
        group = groups.get(name) or groups.setdefault(name, LevelFigures(name))
        group.received += 1
        group.transferred += bool(transfers)
        group.answered += state == State.ANSWERED.value
        group.resolved += resolved_at is not None
        group.resolved_on_time += bool(on_time)
        group.rated += rating is not None
        group.satisfied_or_partly += rating in _GOOD
        group.overdue += state in _OPEN and deadline is not None and deadline < now
    return sorted(groups.values(), key=lambda g: (-g.received, g.name))
