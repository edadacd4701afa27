"""The supervisor's chasing lists a page at a time, each with its length: overdue tickets,
tickets near their deadline, extension requests waiting for a decision. A city has
thousands of each; its dashboard shows the first page and links to the others.

The ticket lists read the partial index of open tickets' deadlines in its order
(models.OPEN_DEADLINE, written out as the index has it so the planner matches the two).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch import reports
from dispatch.clock import utcnow
from dispatch.models import OPEN_DEADLINE, ExtensionRequest, Ticket, Unit
from dispatch.paging import Page
from dispatch.queries import NEAR_DUE, PendingExtension
from dispatch.vocabulary import ExtensionStatus

PER_PAGE = 20


def _bounded(page: int, total: int, per_page: int) -> tuple[int, int]:
    pages = max(1, -(-total // per_page))
    return min(max(1, page), pages), pages


def overdue_page(session: Session, page: int = 1, *, now: dt.datetime | None = None,
                 per_page: int = PER_PAGE) -> Page[Ticket]:
    """超期: open past the deadline, the longest overdue first; counted from the running totals."""
    now = now or utcnow()
    total = reports.overdue_count(session, now)
    page, pages = _bounded(page, total, per_page)
    items = list(session.scalars(
        select(Ticket).where(text(OPEN_DEADLINE), Ticket.deadline < now)
        .order_by(Ticket.deadline, Ticket.received_at, Ticket.id).offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, pages, total)


def near_due_page(session: Session, page: int = 1, *, now: dt.datetime | None = None,
                  within: dt.timedelta = NEAR_DUE, per_page: int = PER_PAGE) -> Page[Ticket]:
    """Open tickets whose deadline falls within `within` from now, soonest first."""
    now = now or utcnow()
    due = (text(OPEN_DEADLINE), Ticket.deadline >= now, Ticket.deadline < now + within)
    total = int(session.scalar(select(func.count()).select_from(Ticket).where(*due)) or 0)
    page, pages = _bounded(page, total, per_page)
    items = list(session.scalars(select(Ticket).where(*due).order_by(Ticket.deadline, Ticket.received_at, Ticket.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    return Page(items, page, pages, total)


def extensions_page(session: Session, page: int = 1, *, per_page: int = PER_PAGE) -> Page[PendingExtension]:
    """Extension requests waiting for a supervisor, oldest first."""
    pending = ExtensionRequest.status == ExtensionStatus.PENDING.value
    total = int(session.scalar(select(func.count()).select_from(ExtensionRequest).where(pending)) or 0)
    page, pages = _bounded(page, total, per_page)
    rows = session.execute(select(ExtensionRequest, Ticket, Unit.name)
                           .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                           .join(Unit, Unit.id == ExtensionRequest.unit_id)
                           .where(pending).order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
                           .offset((page - 1) * per_page).limit(per_page))
    return Page([PendingExtension(request, ticket, name) for request, ticket, name in rows], page, pages, total)
