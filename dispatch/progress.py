"""办理进展: a unit holding a ticket, or owing a part of it (协办, 二次派单), says how far it got
without changing anything else: the answer to a 督办 that asks for a plan, short of
resolving. An event in the ticket's log (staff see it; the citizen only when the unit made
it public), marked as answering the last 督办 when none answered it yet. Nothing here commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dispatch import lifecycle, parts
from dispatch.actors import Actor, by_system
from dispatch.clock import utcnow
from dispatch.errors import IllegalTransition, InvalidInput, PermissionDenied, Reason
from dispatch.models import StaffUser, Ticket, TicketEvent
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


# ---- what supervisors hear of it ------------------------------------------------------------
# A supervisor's 督办 that a unit answered is listed on /supervisor (督办已反馈) for
# ANSWERED_WITHIN after the answer, each 督办 once, by the one note that answered it
# (report_progress marks only the first note after a 督办); the one who escalated is also
# told in their notices (staff_notices.tell_escalation_answered).
ANSWERED_WITHIN = dt.timedelta(days=7)
ANSWERED_SHOWN = 20


@dataclass(frozen=True)
class AnsweredEscalation:
    number: str
    title: str
    unit_id: int | None          # the unit that answered (the lead, or a unit owing a part)
    escalated_by: str            # the supervisor, by the name colleagues know them by
    escalation: str | None       # the 督办's words
    escalated_at: dt.datetime
    answer: str | None           # the progress note
    answered_at: dt.datetime


def answered_escalations(session: Session, now: dt.datetime, *, within: dt.timedelta = ANSWERED_WITHIN,
                         limit: int = ANSWERED_SHOWN) -> list[AnsweredEscalation]:
    """Supervisors' 督办 (not the scheduler's) answered by a progress note within `within`
    of `now`, the latest answer first: the notes are read through the (action, at) index."""
    note, chased = aliased(TicketEvent, name="answer"), aliased(TicketEvent, name="chased")
    rows = session.execute(
        select(Ticket.number, Ticket.title, note.unit_id,
               StaffUser.display_name, StaffUser.username, chased.actor, chased.note, chased.at, note.note, note.at)
        .select_from(note)
        .join(chased, chased.id == note.data["answers_escalation"].as_integer())
        .outerjoin(StaffUser, StaffUser.id == chased.actor_id)
        .join(Ticket, Ticket.id == note.ticket_id)
        .where(note.action == ACTION, note.at >= now - within, chased.action == "escalate",
               ~by_system(chased.actor))
        .order_by(note.at.desc(), note.id.desc()).limit(limit))
    return [AnsweredEscalation(number, title, unit_id, name or login or label, said, said_at, answer, answered_at)
            for number, title, unit_id, name, login, label, said, said_at, answer, answered_at in rows]
