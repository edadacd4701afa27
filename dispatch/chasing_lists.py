"""The supervisor's chasing lists a page at a time, each with its length: overdue tickets,
tickets near their deadline, extension requests waiting for a decision, returned tickets
waiting to be dispatched again. A city has thousands of some of them; its dashboard shows
the first page of each and links to the others.

lengths() counts all four in one statement; a page given its list's length (`total`) runs
one statement for its rows, none for an empty list. The statements are built once, the time
as parameters, and read of a ticket only what the lists show (the rest, its text and its
routing JSON, would be most of what a page reads and decodes).

The ticket lists read the partial index of open tickets' deadlines in its order
(models.OPEN_DEADLINE, written out as the index has it so the planner matches the two).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, text
from sqlalchemy.orm import Session, load_only

from dispatch import reports
from dispatch.clock import utcnow
from dispatch.models import OPEN_DEADLINE, Dispute, ExtensionRequest, Ticket, Transfer, Unit
from dispatch.paging import Page
from dispatch.queries import NEAR_DUE, WAITING_EXTENSION, PendingExtension
from dispatch.states import State
from dispatch.vocabulary import DisputeStatus, TransferOutcome, TransferRole

PER_PAGE = 20


@dataclass(frozen=True)
class Lengths:
    overdue: int
    near_due: int
    extensions: int
    returned: int


@dataclass(frozen=True)
class ReturnedTicket:
    """退单: a ticket a unit sent back, with who returned it, why and when: its last lead
    transfer's return, or, when that transfer was accepted and then taken back by an upheld
    改派申请, the unit's dispute reason and the time of the supervisor's decision (none when
    it has no lead transfer)."""

    ticket: Ticket
    unit_name: str | None
    reason: str | None
    returned_at: dt.datetime | None


def _count(statement: Select[Any]) -> Any:
    return statement.with_only_columns(func.count()).order_by(None).scalar_subquery()


# What the lists show of a ticket (and its version, which the 督办 form carries); reading
# any other column of these tickets raises instead of loading it behind the caller's back.
_SHOWN = load_only(Ticket.number, Ticket.title, Ticket.state, Ticket.unit_id, Ticket.deadline, Ticket.received_at,
                   Ticket.version, raiseload=True)
_ORDER = (Ticket.deadline, Ticket.received_at, Ticket.id)
_WAITING_IDS = select(ExtensionRequest.id).join(Ticket, Ticket.id == ExtensionRequest.ticket_id).where(WAITING_EXTENSION)
_RETURNED = Ticket.state == State.RETURNED.value


@functools.cache
def _overdue() -> Select[Any]:
    return select(Ticket).options(_SHOWN).where(text(OPEN_DEADLINE), Ticket.deadline < bindparam("now")) \
        .order_by(*_ORDER)


@functools.cache
def _near_due() -> Select[Any]:
    return select(Ticket).options(_SHOWN).where(text(OPEN_DEADLINE), Ticket.deadline >= bindparam("now"),
                                                Ticket.deadline < bindparam("soon")).order_by(*_ORDER)


@functools.cache
def _extensions() -> Select[Any]:
    return (select(ExtensionRequest, Ticket, Unit.name).options(_SHOWN)
            .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
            .join(Unit, Unit.id == ExtensionRequest.unit_id)
            .where(WAITING_EXTENSION).order_by(ExtensionRequest.requested_at, ExtensionRequest.id))


@functools.cache
def _returned() -> Select[Any]:
    last = (select(func.max(Transfer.id))
            .where(Transfer.ticket_id == Ticket.id, Transfer.role == TransferRole.LEAD.value)
            .correlate(Ticket).scalar_subquery())
    upheld = (select(func.max(Dispute.id))
              .where(Dispute.ticket_id == Ticket.id, Dispute.status == DisputeStatus.UPHELD.value)
              .correlate(Ticket).scalar_subquery())
    # An upheld dispute leaves the transfer as it was (accepted, at the time it was accepted):
    # the transfer's figures (退单率, 响应率) count what the unit did, and a dispute is not a
    # 退单. The list reads the dispute instead, for the reason and the time it came back.
    disputed = Transfer.outcome == TransferOutcome.ACCEPTED.value
    reason = case((disputed, Dispute.reason), else_=Transfer.return_reason)
    returned_at = case((disputed, Dispute.decided_at), else_=Transfer.responded_at)
    return (select(Ticket, Unit.name, reason, returned_at).options(_SHOWN)
            .outerjoin(Transfer, Transfer.id == last)
            .outerjoin(Unit, Unit.id == Transfer.unit_id)
            .outerjoin(Dispute, Dispute.id == upheld)
            .where(_RETURNED)
            .order_by(func.coalesce(returned_at, Ticket.received_at), Ticket.id))


@functools.cache
def _lengths() -> Select[Any]:
    return select(reports.overdue_length().scalar_subquery(), _count(_near_due()),
                  _count(_WAITING_IDS), _count(select(Ticket.id).where(_RETURNED)))


def _params(now: dt.datetime | None, within: dt.timedelta = NEAR_DUE) -> dict[str, Any]:
    now = now or utcnow()
    return {**reports.overdue_params(now), "soon": now + within}


def lengths(session: Session, *, now: dt.datetime | None = None, within: dt.timedelta = NEAR_DUE) -> Lengths:
    """How long each list is now: one statement of four counts."""
    row = session.execute(_lengths(), _params(now, within)).one()
    return Lengths(*(int(n or 0) for n in row))


def _bounded(page: int, total: int, per_page: int) -> tuple[int, int]:
    pages = max(1, -(-total // per_page))
    return min(max(1, page), pages), pages


def _page(session: Session, statement: Select[Any], page: int, per_page: int, total: int | None,
          length: Select[Any], params: dict[str, Any]) -> Page[Any]:
    """One page of an ordered SELECT, its length counted here unless given."""
    if total is None:
        total = int(session.scalar(length, params) or 0)
    page, pages = _bounded(page, total, per_page)
    if total == 0:
        return Page([], page, pages, total)
    rows = session.execute(statement.offset((page - 1) * per_page).limit(per_page), params)
    return Page(list(rows), page, pages, total)


def overdue_page(session: Session, page: int = 1, *, now: dt.datetime | None = None,
                 per_page: int = PER_PAGE, total: int | None = None) -> Page[Ticket]:
    """超期: open past the deadline, the longest overdue first; counted from the running totals."""
    found = _page(session, _overdue(), page, per_page, total, reports.overdue_length(), _params(now))
    return Page([ticket for ticket, in found.items], found.page, found.pages, found.total)


def near_due_page(session: Session, page: int = 1, *, now: dt.datetime | None = None,
                  within: dt.timedelta = NEAR_DUE, per_page: int = PER_PAGE,
                  total: int | None = None) -> Page[Ticket]:
    """Open tickets whose deadline falls within `within` from now, soonest first."""
    found = _page(session, _near_due(), page, per_page, total, select(_count(_near_due())), _params(now, within))
    return Page([ticket for ticket, in found.items], found.page, found.pages, found.total)


def extensions_page(session: Session, page: int = 1, *, per_page: int = PER_PAGE,
                    total: int | None = None) -> Page[PendingExtension]:
    """Extension requests waiting for a supervisor, oldest first."""
    found = _page(session, _extensions(), page, per_page, total,
                  select(_count(_WAITING_IDS)), {})
    return Page([PendingExtension(request, ticket, name) for request, ticket, name in found.items],
                found.page, found.pages, found.total)


def returned_page(session: Session, page: int = 1, *, per_page: int = PER_PAGE,
                  total: int | None = None) -> Page[ReturnedTicket]:
    """退单 waiting to be dispatched again, the longest waiting first: by the time of the
    return (a ticket without one by its receipt). A city has tens to hundreds of them at a
    time (each goes out again within hours), so ordering them all costs little."""
    found = _page(session, _returned(), page, per_page, total, select(_count(select(Ticket.id).where(_RETURNED))), {})
    return Page([ReturnedTicket(ticket, name, reason, at) for ticket, name, reason, at in found.items],
                found.page, found.pages, found.total)
