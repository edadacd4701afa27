"""图片保存期限: photos are personal data (a face, a house, a car plate), so a city may keep them
only as long as the case needs them. With HOTLINE_ATTACHMENT_RETENTION_DAYS set, the photos of a
ticket finished longer ago than that are removed: the bytes deleted, a `detach` event in the
ticket's log naming the file, its SHA-256, who removed it (the system's retention actor) and why,
as a staff member's removal does (dispatch/attachments.py).

A ticket counts as finished when it is closed (rated, not rated, unreachable), answered at intake,
closed as invalid or handed over (即时转), and "finished since" is its newest event: a ticket
that was reopened, or rated late, starts the period again. A duplicate merged into another
keeps its photos while its main ticket does: they show with the main ticket's.

Work goes in batches so one run never holds a long transaction: the caller commits each."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.attachments import REMOVAL
from dispatch.clock import utcnow
from dispatch.models import Attachment, Ticket, TicketEvent
from dispatch.states import State
from dispatch.vocabulary import PHOTO_EXPIRED_ZH

RETENTION_ACTOR = Actor.system("system:retention")
BATCH = 200
# Finished for good: a resolved ticket still waits for its rating, and may be reopened.
DONE_STATES = tuple(sorted(s.value for s in (State.CLOSED, State.ANSWERED, State.INVALID, State.HANDED_OVER)))


@dataclass(frozen=True)
class Swept:
    photos: int          # photos removed
    tickets: list[str]   # the numbers of the tickets they were on
    more: bool           # a full batch: there may be more to remove


def _last_event():  # type: ignore[no-untyped-def]
    # A removal is not news about the case: the ticket's other photos follow in the next batch.
    return select(TicketEvent.ticket_id, func.max(TicketEvent.at).label("at")) \
        .where(TicketEvent.action != REMOVAL).group_by(TicketEvent.ticket_id).subquery()


def _expired(days: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    cutoff = now - dt.timedelta(days=days)
    last, main_last = _last_event(), _last_event()
    main = aliased(Ticket)
    done = and_(Ticket.state.in_(DONE_STATES), last.c.at < cutoff)
    merged_done = and_(Ticket.state == State.MERGED.value, main.state.in_(DONE_STATES), main_last.c.at < cutoff)
    query = (select(Attachment.id).join(Ticket, Ticket.id == Attachment.ticket_id)
             .join(last, last.c.ticket_id == Ticket.id)
             .outerjoin(main, main.id == Ticket.merged_into_id)
             .outerjoin(main_last, main_last.c.ticket_id == main.id)
             .where(or_(done, merged_done)))
    return query


def expired(session: Session, days: int, now: dt.datetime, *, limit: int = BATCH) -> list[int]:
    """Ids of photos past the period, oldest first: those of tickets finished `days` ago or
    more, and of duplicates merged into such a ticket."""
    return list(session.scalars(_expired(days, now).order_by(Attachment.id).limit(limit)))


def count_expired(session: Session, days: int, now: dt.datetime | None = None) -> int:
    """How many photos are past the period now (a run's progress: so many left)."""
    if days <= 0:
        return 0
    return session.scalar(select(func.count()).select_from(_expired(days, now or utcnow()).subquery())) or 0


def sweep(session: Session, days: int, *, now: dt.datetime | None = None, batch: int = BATCH) -> Swept:
    """Remove one batch of expired photos, each with its `detach` event. 0 days: keep forever."""
    if days <= 0:
        return Swept(0, [], False)
    now = now or utcnow()
    ids = expired(session, days, now, limit=batch)
    numbers: list[str] = []
    for photo in session.scalars(select(Attachment).where(Attachment.id.in_(ids)).order_by(Attachment.id)).all():
        ticket = session.get_one(Ticket, photo.ticket_id)
        lifecycle.lock(ticket)
        data = {"attachment": photo.id, "name": photo.file_name, "sha256": photo.sha256, "size": photo.size,
                "added_by": photo.added_by, "retention_days": days}
        session.delete(photo)
        session.flush()
        lifecycle.record(session, ticket, REMOVAL, RETENTION_ACTOR, now=now, note=PHOTO_EXPIRED_ZH.format(days=days),
                         data=data)
        if ticket.number not in numbers:
            numbers.append(ticket.number)
    return Swept(len(ids), numbers, len(ids) >= batch)
