"""即时转: a caller who needs the police, the fire brigade, an ambulance or the traffic police
is handed over at once; the hand-over is the ticket's outcome and closes it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import DISPATCH_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.models import Ticket, TicketEvent
from dispatch.states import Action, State
from dispatch.telephony import live_call_of_ticket
from dispatch.vocabulary import LABELS_ZH, DialResult, EmergencyService


def parse_service(value: object) -> EmergencyService:
    try:
        return EmergencyService(str(value))
    except ValueError:
        raise InvalidInput("to", Reason.BAD_HANDOVER_NUMBER, value=str(value)) from None


def handover(session: Session, ticket: Ticket, actor: Actor, to: EmergencyService, *,
             note: str | None = None, now: dt.datetime | None = None,
             expected_version: int | None = None) -> TicketEvent:
    """Record to whom, when and by whom the caller was handed over, and close the ticket."""
    require_role(actor, DISPATCH_ROLES, "hand callers over to emergency services")
    lifecycle.check_version(ticket, expected_version)
    lifecycle.require_state_allows(ticket, Action.HANDOVER)
    now = now or utcnow()
    ticket.handover_to = to.value
    ticket.closed_at = now
    ticket.unit_id = None
    return lifecycle.transition(session, ticket, Action.HANDOVER, actor, now=now,
                                note=(note or "").strip() or None, data={"to": to.value})


def live_call_to_transfer(session: Session, ticket: Ticket) -> str | None:
    """The linkedid of the caller still on the line for a handed-over ticket, if any: the
    call centre sends that caller on to the emergency number."""
    if State(ticket.state) is not State.HANDED_OVER:
        return None
    call = live_call_of_ticket(session, ticket.id)
    return call.linkedid if call is not None else None


def record_call_transfer(session: Session, ticket: Ticket, actor: Actor, result: DialResult, *,
                         number: str, linkedid: str, now: dt.datetime | None = None) -> TicketEvent:
    """Log what became of transferring the live call (the hand-over itself is already recorded)."""
    require_role(actor, DISPATCH_ROLES, "hand callers over to emergency services")
    return lifecycle.record(session, ticket, "handover_call", actor, now=now,
                            note=f"{LABELS_ZH[result.value]}（{number}）",
                            data={"result": result.value, "number": number, "linkedid": linkedid})
