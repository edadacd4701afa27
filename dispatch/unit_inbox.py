"""The unit inbox a page at a time, soonest deadline first, with counts that stop at
COUNT_LIMIT: a bureau of a big city has tens of thousands of open tickets, and sorting or
counting all of them on every visit cost more than the rest of the page.

Each open state is read from the (unit_id, state, deadline, received_at, id) index in
order, at most one page deep, and the few rows merged: the same order as one sort of them
all, on PostgreSQL and SQLite alike."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from dispatch.models import Ticket
from dispatch.paging import COUNT_LIMIT, Bounded
from dispatch.states import UNIT_STATES, State

PAGE_SIZE = 50
# Sorted: the statements' text, and so their plans, are the same in every process.
STATES = tuple(sorted(s.value for s in UNIT_STATES))
NEAR_DUE = dt.timedelta(hours=24)


def soonest_first() -> tuple[Any, ...]:
    # Tickets without a deadline go last: nothing is at stake for them.
    return Ticket.deadline.asc().nulls_last(), Ticket.received_at, Ticket.id


def sort_key(ticket: Ticket) -> tuple[Any, ...]:
    """soonest_first() in Python, to merge the unit's own tickets with its parts."""
    return ticket.deadline is None, ticket.deadline or dt.datetime.min, ticket.received_at, ticket.id


def open_tickets(session: Session, unit_id: int, *, limit: int, offset: int = 0) -> list[Ticket]:
    """The unit's open tickets (transferred, in progress, reopened), soonest deadline first."""
    ids = union_all(*[select(select(Ticket.id).where(Ticket.unit_id == unit_id, Ticket.state == state)
                             .order_by(*soonest_first()).limit(offset + limit).subquery().c.id)
                      for state in STATES]).subquery()
    return list(session.scalars(select(Ticket).where(Ticket.id.in_(select(ids.c.id)))
                                .order_by(*soonest_first()).offset(offset).limit(limit)))


@dataclass(frozen=True)
class InboxCounts:
    total: Bounded
    new: Bounded        # transferred, not yet accepted
    near: Bounded       # deadline within NEAR_DUE
    overdue: Bounded


def counts(session: Session, unit_id: int, now: dt.datetime, *, limit: int = COUNT_LIMIT) -> InboxCounts:
    """The unit's open tickets counted up to `limit` each, in one statement."""
    mine = (Ticket.unit_id == unit_id, Ticket.state.in_(STATES))

    def upto(*where: Any) -> Any:
        found = select(literal(1)).where(*where).limit(limit + 1).subquery()
        return select(func.count()).select_from(found).scalar_subquery()

    row = session.execute(select(
        upto(*mine), upto(Ticket.unit_id == unit_id, Ticket.state == State.TRANSFERRED.value),
        upto(*mine, Ticket.deadline >= now, Ticket.deadline < now + NEAR_DUE),
        upto(*mine, Ticket.deadline < now))).one()
    return InboxCounts(*(Bounded.of(int(n), limit) for n in row))
