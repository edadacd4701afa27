"""The counts an operations dashboard reads at scrape time (web/metrics.py), each from one
indexed query. The figures themselves keep their one definition in reports.py."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch import outbox
from dispatch.clock import local_date, utcnow
from dispatch.models import OutboxMessage, Ticket, TicketRollup
from dispatch.reports import CallFigures, Period, call_figures
from dispatch.states import FINISHED_STATES, State

OPEN_STATES = tuple(s.value for s in State if s not in FINISHED_STATES)
# Outbox statuses worth watching; "submitted" (the bulk of the table) is left out so the
# (status, next_attempt_at) index answers without reading every message ever sent.
OUTBOX_WATCHED = (outbox.PENDING, outbox.SENDING, outbox.FAILED, outbox.OPTED_OUT)


@dataclass(frozen=True)
class Snapshot:
    tickets_received: int  # ever, from the running totals (never decreases)
    tickets_received_today: int  # China calendar day
    open_by_state: dict[str, int]  # every open state, zeros included
    overdue_by_state: dict[str, int]  # open past the deadline now (超期)
    outbox_by_status: dict[str, int]  # OUTBOX_WATCHED, zeros included
    outbox_retrying: int  # pending again after a failed attempt
    outbox_oldest_waiting_seconds: float  # 0 when nothing waits
    calls_today: CallFigures


def snapshot(session: Session, now: dt.datetime | None = None) -> Snapshot:
    now = now or utcnow()
    today = local_date(now)
    received, received_today = session.execute(select(
        func.coalesce(func.sum(TicketRollup.received), 0),
        func.coalesce(func.sum(case((TicketRollup.day == today, TicketRollup.received), else_=0)), 0))).one()

    open_by_state = dict.fromkeys(OPEN_STATES, 0)
    overdue_by_state = dict.fromkeys(OPEN_STATES, 0)
    for state, count, overdue in session.execute(
            select(Ticket.state, func.count(), func.coalesce(func.sum(case((Ticket.deadline < now, 1), else_=0)), 0))
            .where(Ticket.state.in_(OPEN_STATES)).group_by(Ticket.state)):
        open_by_state[state], overdue_by_state[state] = int(count), int(overdue)

    by_status = dict.fromkeys(OUTBOX_WATCHED, 0)
    retrying, oldest = 0, None
    waiting = (outbox.PENDING, outbox.SENDING)
    for status, count, retried, first in session.execute(
            select(OutboxMessage.status, func.count(),
                   func.coalesce(func.sum(case((OutboxMessage.attempts > 0, 1), else_=0)), 0),
                   func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(OUTBOX_WATCHED)).group_by(OutboxMessage.status)):
        by_status[status] = int(count)
        if status == outbox.PENDING:
            retrying = int(retried)
        if status in waiting and first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=dt.timezone.utc)
            oldest = first if oldest is None else min(oldest, first)

    return Snapshot(tickets_received=int(received), tickets_received_today=int(received_today),
                    open_by_state=open_by_state, overdue_by_state=overdue_by_state,
                    outbox_by_status=by_status, outbox_retrying=retrying,
                    outbox_oldest_waiting_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                    calls_today=call_figures(session, Period(today, today)))
