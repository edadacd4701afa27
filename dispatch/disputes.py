"""改派申请 / 派单异议: a unit that finds, after accepting, that a ticket is not theirs asks for
it to be dispatched again; a supervisor upholds the request (the ticket goes back to
dispatch, as a return does) or refuses it (the ticket stays, with the supervisor's reason)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch import lifecycle, parts
from dispatch.actors import SUPERVISING_ROLES, Actor, require_role, require_unit
from dispatch.clock import utcnow
from dispatch.errors import Conflict, IllegalTransition, Reason
from dispatch.models import Dispute, Ticket, TicketEvent, Unit
from dispatch.states import Action, State
from dispatch.vocabulary import DisputeStatus

DISPUTABLE_STATES = frozenset({State.IN_PROGRESS, State.REOPENED})


def raise_dispute(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                  now: dt.datetime | None = None, expected_version: int | None = None) -> Dispute:
    require_unit(actor, ticket.unit_id, "dispute this ticket's dispatch")
    reason = lifecycle.required_text("reason", reason)
    lifecycle.check_version(ticket, expected_version)
    if State(ticket.state) not in DISPUTABLE_STATES:
        raise IllegalTransition(ticket.state, "dispute", ticket.number)
    if ticket.open_dispute_id is not None:
        raise Conflict(Reason.DISPUTE_WAITING, number=ticket.number)
    now = now or utcnow()
    dispute = Dispute(ticket_id=ticket.id, unit_id=ticket.unit_id, raised_by=actor.user_id, raised_at=now,
                      reason=reason, status=DisputeStatus.PENDING.value)
    session.add(dispute)
    session.flush()
    # Written on the ticket row: of two requests at once, the version check stops the second.
    ticket.open_dispute_id = dispute.id
    lifecycle.record(session, ticket, "dispute", actor, now=now, note=reason, unit_id=ticket.unit_id,
                     data={"dispute_id": dispute.id})
    return dispute


def open_dispute(session: Session, ticket: Ticket) -> Dispute | None:
    return None if ticket.open_dispute_id is None else session.get(Dispute, ticket.open_dispute_id)


def decide_dispute(session: Session, ticket: Ticket, actor: Actor, *, approve: bool, reason: str,
                   now: dt.datetime | None = None, expected_version: int | None = None) -> TicketEvent:
    require_role(actor, SUPERVISING_ROLES, "decide disputes")
    reason = lifecycle.required_text("reason", reason)
    lifecycle.check_version(ticket, expected_version)
    lifecycle.require_state_allows(ticket, Action.REDISPATCH)  # disputes wait only in those states
    dispute = open_dispute(session, ticket)
    if dispute is None or dispute.status != DisputeStatus.PENDING.value:
        raise Conflict(Reason.NO_PENDING_DISPUTE, number=ticket.number)
    now = now or utcnow()
    dispute.status = (DisputeStatus.UPHELD if approve else DisputeStatus.REFUSED).value
    dispute.decided_by, dispute.decided_at, dispute.decision_note = actor.user_id, now, reason
    ticket.open_dispute_id = None
    data = {"dispute_id": dispute.id, "approved": approve}
    if not approve:
        return lifecycle.record(session, ticket, "refuse_dispute", actor, now=now, note=reason,
                                unit_id=ticket.unit_id, data=data)
    unit_id = ticket.unit_id
    parts.withdraw_open(session, ticket, now)
    ticket.unit_id = None
    return lifecycle.transition(session, ticket, Action.REDISPATCH, actor, now=now, note=reason,
                                unit_id=unit_id, data=data)


def pending(session: Session) -> list[tuple[Dispute, Ticket, Unit]]:
    """Disputes waiting for a supervisor, oldest first."""
    rows = session.execute(select(Dispute, Ticket, Unit).join(Ticket, Ticket.id == Dispute.ticket_id)
                           .join(Unit, Unit.id == Dispute.unit_id)
                           .where(Dispute.status == DisputeStatus.PENDING.value).order_by(Dispute.raised_at))
    return [tuple(row) for row in rows]  # type: ignore[misc]


@dataclass(frozen=True)
class DisputeFigures:
    unit_code: str
    unit_name: str
    raised: int
    upheld: int
    refused: int

    def as_dict(self) -> dict[str, object]:
        return {"unit_code": self.unit_code, "unit_name": self.unit_name, "raised": self.raised,
                "upheld": self.upheld, "refused": self.refused}


def figures(session: Session, start: dt.datetime, end: dt.datetime) -> list[DisputeFigures]:
    """Disputes raised in [start, end), per unit, with how they were decided so far."""
    def count(status: DisputeStatus) -> Any:
        return func.coalesce(func.sum(case((Dispute.status == status.value, 1), else_=0)), 0)

    rows = session.execute(
        select(Unit.code, Unit.name, func.count(Dispute.id), count(DisputeStatus.UPHELD), count(DisputeStatus.REFUSED))
        .join(Unit, Unit.id == Dispute.unit_id)
        .where(Dispute.raised_at >= start, Dispute.raised_at < end)
        .group_by(Unit.code, Unit.name).order_by(Unit.code))
    return [DisputeFigures(code, name, int(n), int(up), int(down)) for code, name, n, up, down in rows]
