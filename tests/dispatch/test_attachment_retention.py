"""图片保存期限 (dispatch.attachment_retention): the photos of a ticket finished longer ago than
the retention period are removed in batches, each removal a `detach` event by the system saying
why; open tickets, recent ones and a period of 0 keep theirs."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import attachment_retention, attachments, lifecycle
from dispatch.actors import Actor
from dispatch.attachments import AttachmentLimits, Upload
from dispatch.models import Attachment, Ticket, TicketEvent
from dispatch.units import City
from tests import images
from tests.dispatch.helpers import new_ticket

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)


def photographed(session: Session, operator: Actor, *, received: dt.datetime, photos: int = 1) -> Ticket:
    ticket = new_ticket(session, body="小区门口井盖破损，晚上很危险，请尽快处理。", now=received)
    attachments.add(session, ticket, operator, [Upload(f"井盖{i}.png", images.PNG) for i in range(photos)],
                    AttachmentLimits(), now=received)
    return ticket


def photos_of(session: Session, ticket: Ticket) -> int:
    return len(session.scalars(select(Attachment.id).where(Attachment.ticket_id == ticket.id)).all())


def test_photos_of_a_ticket_finished_past_the_period_are_removed_in_batches_with_a_reason(
        session: Session, units: City, operator: Actor) -> None:
    old = photographed(session, operator, received=NOW - dt.timedelta(days=100), photos=3)
    lifecycle.answer(session, old, operator, "已当场答复市民的咨询问题", now=NOW - dt.timedelta(days=99))
    recent = photographed(session, operator, received=NOW - dt.timedelta(days=20))
    lifecycle.answer(session, recent, operator, "已当场答复市民的咨询问题", now=NOW - dt.timedelta(days=10))
    still_open = photographed(session, operator, received=NOW - dt.timedelta(days=200))
    session.commit()

    assert attachment_retention.count_expired(session, 30, NOW) == 3
    first = attachment_retention.sweep(session, 30, now=NOW, batch=2)
    session.commit()
    assert (first.photos, first.tickets, first.more) == (2, [old.number], True)
    # The removals are no news about the case: the ticket's last photo follows in the next batch.
    second = attachment_retention.sweep(session, 30, now=NOW, batch=2)
    session.commit()
    assert (second.photos, second.more) == (1, False)
    assert attachment_retention.sweep(session, 30, now=NOW, batch=2).photos == 0
    assert (photos_of(session, old), photos_of(session, recent), photos_of(session, still_open)) == (0, 1, 1)

    removals = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == old.id,
                                                         TicketEvent.action == attachments.REMOVAL)).all()
    assert len(removals) == 3
    assert {e.actor for e in removals} == {"system:retention"}
    assert all("30" in (e.note or "") and e.data["retention_days"] == 30 and e.data["sha256"] for e in removals)


def test_a_period_of_zero_keeps_every_photo(session: Session, units: City, operator: Actor) -> None:
    old = photographed(session, operator, received=NOW - dt.timedelta(days=3000))
    lifecycle.answer(session, old, operator, "已当场答复市民的咨询问题", now=NOW - dt.timedelta(days=2999))
    session.commit()
    assert attachment_retention.sweep(session, 0, now=NOW).photos == 0
    assert attachment_retention.count_expired(session, 0, NOW) == 0
    assert photos_of(session, old) == 1


def test_a_duplicates_photos_go_with_its_main_tickets_not_before(session: Session, units: City,
                                                                 operator: Actor) -> None:
    main = photographed(session, operator, received=NOW - dt.timedelta(days=100))
    duplicate = photographed(session, operator, received=NOW - dt.timedelta(days=100))
    lifecycle.merge(session, duplicate, main, operator, now=NOW - dt.timedelta(days=99))
    session.commit()
    assert attachment_retention.sweep(session, 30, now=NOW).photos == 0   # the main ticket is still open
    lifecycle.answer(session, main, operator, "已当场答复市民的咨询问题", now=NOW - dt.timedelta(days=40))
    session.commit()
    swept = attachment_retention.sweep(session, 30, now=NOW)
    assert swept.photos == 2 and set(swept.tickets) == {main.number, duplicate.number}
