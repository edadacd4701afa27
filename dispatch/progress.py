"""办理进展: a unit holding a ticket, or owing a part of it (协办, 二次派单), says how far it got
without changing anything else: the answer to a 督办 that asks for a plan, short of
resolving. An event in the ticket's log (staff see it; the citizen only when the unit made
it public), marked as answering the last 督办 when none answered it yet. Nothing here commits."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import lifecycle, parts
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import IllegalTransition, InvalidInput, PermissionDenied, Reason
from dispatch.models import Ticket, TicketEvent
from dispatch.states import EXTENDABLE_STATES, UNIT_STATES, State
from dispatch.vocabulary import Role, TransferOutcome

ACTION = "progress"
# A note between steps, not a report: long enough for a plan and its dates.
MAX_PROGRESS_CHARS = 1000


def may_report(session: Session, actor: Actor, ticket: Ticket) -> bool:
    """The unit handles the ticket (accepted, not finished), or has accepted a part it still owes."""
    if actor.role is not Role.UNIT_STAFF or actor.unit_id is None:
        return False
    state = State(ticket.state)
    if ticket.unit_id == actor.unit_id:
        return state in EXTENDABLE_STATES
    part = parts.open_part(session, ticket, actor.unit_id) if state in UNIT_STATES else None
    return part is not None and part.outcome == TransferOutcome.ACCEPTED.value


def report_progress(session: Session, ticket: Ticket, actor: Actor, text: str, *, public: bool = False,
                    now: dt.datetime | None = None) -> TicketEvent:
    """Record the unit's progress note; `public`: the citizen's status page shows it too."""
    if actor.role is not Role.UNIT_STAFF or actor.unit_id is None:
        raise PermissionDenied(Reason.NOT_YOUR_UNIT, actor=actor.label, what="report progress")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("progress", Reason.REQUIRED)
    if len(text) > MAX_PROGRESS_CHARS:
        raise InvalidInput("progress", Reason.TOO_LONG, limit=MAX_PROGRESS_CHARS)
    if not may_report(session, actor, ticket):
        if ticket.unit_id != actor.unit_id and parts.open_part(session, ticket, actor.unit_id) is None:
            raise PermissionDenied(Reason.NOT_YOUR_UNIT, actor=actor.label, what="report progress")
        raise IllegalTransition(ticket.state, ACTION, ticket.number)
    data: dict[str, object] = {"public": public}
    part = parts.open_part(session, ticket, actor.unit_id) if ticket.unit_id != actor.unit_id else None
    if part is not None:
        data["role"] = part.role
    escalation = unanswered_escalation(session, ticket)
    if escalation is not None:
        data["answers_escalation"] = escalation
    return lifecycle.record(session, ticket, ACTION, actor, now=now or utcnow(), note=text,
                            unit_id=actor.unit_id, data=data)


def unanswered_escalation(session: Session, ticket: Ticket) -> int | None:
    """The id of the last 督办 if no progress note came after it."""
    last = session.execute(select(TicketEvent.id, TicketEvent.action)
                           .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(("escalate", ACTION)))
                           .order_by(TicketEvent.id.desc()).limit(1)).first()
    return last.id if last is not None and last.action == "escalate" else None
