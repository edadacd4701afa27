"""主办 / 协办: one transfer names a lead unit and any number of co-handling units. Each
co-handling unit accepts its part or returns it with a reason, then gives its part reply;
the lead resolves once every part is answered (lifecycle.resolve asks parts.py), or once a
supervisor has waived the rest. Also the part actions a forwarded sub-unit takes the same
way (accept, hand back, reply): a part is a part, whichever unit gave it.

Every step is an event in the ticket's log; the units concerned are told through notices.
Nothing here commits."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from dispatch import lifecycle, notices, parts
from dispatch.actors import SUPERVISING_ROLES, Actor, require_role, require_unit
from dispatch.clock import utcnow
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import Ticket, TicketEvent, Transfer, Unit
from dispatch.states import FINISHED_STATES, UNIT_STATES, State
from dispatch.vocabulary import (
    CO_HANDLING_ZH,
    OVERRIDE_AGREED_ZH,
    OVERRIDE_REFUSED_ZH,
    PART_NEWS_ZH,
    PART_REPLIED_ZH,
    PART_RETURNED_ZH,
    Role,
    TransferOutcome,
    TransferRole,
)


def check_co_units(lead: Unit, units: Sequence[Unit]) -> None:
    """Before anything changes: no unit twice, not the lead itself, none inactive."""
    seen: set[int] = set()
    for unit in units:
        if unit.id == lead.id:
            raise InvalidInput("co_units", Reason.CO_UNIT_IS_LEAD, unit=unit.name)
        if unit.id in seen:
            raise InvalidInput("co_units", Reason.CO_UNIT_REPEATED, unit=unit.name)
        if not unit.active:
            raise InvalidInput("co_units", Reason.INACTIVE_UNIT, unit=unit.name)
        seen.add(unit.id)


def add_co_units(session: Session, ticket: Ticket, units: Sequence[Unit], actor: Actor, *,
                 now: dt.datetime | None = None) -> list[Transfer]:
    """Give each unit a co-handling part of the ticket's lead transfer (just made by
    lifecycle.transfer) and tell it."""
    lead = parts.lead_transfer(session, ticket)
    if lead is None:
        raise NotFound(Reason.NO_TRANSFER, number=ticket.number)
    now = now or utcnow()
    added = []
    for unit in units:
        part = Transfer(ticket_id=ticket.id, unit_id=unit.id, received_day=lead.received_day, transferred_at=now,
                        outcome=TransferOutcome.PENDING.value, role=TransferRole.CO.value, lead_transfer_id=lead.id)
        session.add(part)
        session.flush()
        lifecycle.record(session, ticket, "co_transfer", actor, now=now, unit_id=unit.id,
                         data={"role": TransferRole.CO.value, "part": part.id})
        notices.tell(session, unit, notices.NoticeKind.CO_HANDLING, f"co_handling:part:{part.id}",
                     CO_HANDLING_ZH.format(number=ticket.number, title=ticket.title), ticket=ticket, now=now)
        added.append(part)
    return added


def own_part(session: Session, ticket: Ticket, actor: Actor) -> Transfer:
    """The actor's unit's open part, or PermissionDenied: a unit acts on its own part only."""
    part = parts.open_part(session, ticket, actor.unit_id) if actor.role is Role.UNIT_STAFF else None
    if part is None:
        raise PermissionDenied(Reason.NO_PART_OF_YOURS, number=ticket.number)
    if State(ticket.state) not in UNIT_STATES:
        raise IllegalTransition(ticket.state, "part", ticket.number)
    return part


def _tell_lead(session: Session, ticket: Ticket, part: Transfer, news: str, event: TicketEvent,
               now: dt.datetime) -> None:
    lead = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if lead is None:
        return
    name = session.scalar(select(Unit.name).where(Unit.id == part.unit_id))
    notices.tell(session, lead, notices.NoticeKind.PART, f"part:event:{event.id}",
                 PART_NEWS_ZH.format(number=ticket.number, unit=name, news=news), ticket=ticket, now=now)


def accept_part(session: Session, ticket: Ticket, actor: Actor, *, now: dt.datetime | None = None) -> TicketEvent:
    """签收 of a part: the co-handling unit (or the sub-unit) takes its part."""
    part = own_part(session, ticket, actor)
    if part.outcome != TransferOutcome.PENDING.value:
        raise IllegalTransition(part.outcome, "accept", ticket.number)
    now = now or utcnow()
    part.outcome, part.responded_at = TransferOutcome.ACCEPTED.value, now
    return lifecycle.record(session, ticket, "part_accept", actor, now=now, unit_id=part.unit_id,
                            data={"role": part.role, "part": part.id})


def return_part(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                now: dt.datetime | None = None) -> TicketEvent:
    """退回 of a part with a reason: a co-handling unit says the part is not theirs; a
    sub-unit hands the ticket back to its parent, which works it again itself."""
    part = own_part(session, ticket, actor)
    reason = lifecycle.required_text("reason", reason)
    now = now or utcnow()
    part.outcome, part.responded_at, part.return_reason = TransferOutcome.RETURNED.value, now, reason
    action = "hand_back" if part.role == TransferRole.FORWARD.value else "part_return"
    event = lifecycle.record(session, ticket, action, actor, now=now, note=reason, unit_id=part.unit_id,
                             data={"role": part.role, "part": part.id})
    _tell_lead(session, ticket, part, PART_RETURNED_ZH.format(reason=reason), event, now)
    return event


def reply_part(session: Session, ticket: Ticket, actor: Actor, reply: str, *,
               now: dt.datetime | None = None) -> TicketEvent:
    """The part reply (协办意见, or the sub-unit's answer to its parent). On time when given
    by the ticket's deadline, which parts share and forwarding never moves."""
    part = own_part(session, ticket, actor)
    reply = lifecycle.required_text("reply", reply)
    if part.outcome != TransferOutcome.ACCEPTED.value:
        raise Conflict(Reason.PART_NOT_ACCEPTED, number=ticket.number)
    now = now or utcnow()
    on_time = ticket.deadline is None or now <= ticket.deadline
    part.part_reply, part.resolved_at, part.resolved_on_time = reply, now, on_time
    event = lifecycle.record(session, ticket, "part_reply", actor, now=now, note=reply, unit_id=part.unit_id,
                             data={"role": part.role, "part": part.id, "on_time": on_time})
    _tell_lead(session, ticket, part, PART_REPLIED_ZH, event, now)
    return event


def override_parts(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                   now: dt.datetime | None = None) -> TicketEvent:
    """A supervisor lets the lead resolve without the parts still unanswered, saying why.
    The parts stay open (a late part reply is still recorded and counted)."""
    require_role(actor, SUPERVISING_ROLES, "override co-handling parts")
    reason = lifecycle.required_text("reason", reason)
    lifecycle.lock(ticket)  # an agreement and a refusal at once: the second finds the request decided
    if State(ticket.state) in FINISHED_STATES:
        raise IllegalTransition(ticket.state, "override_parts", ticket.number)
    waiting = parts.waiting_co_parts(session, ticket)
    if not waiting:
        raise Conflict(Reason.NO_PARTS_WAITING, number=ticket.number)
    request = open_override_request(session, ticket)  # before the waiver, which ends it
    now = now or utcnow()
    for part in waiting:
        part.waived_at = now
    codes = dict(session.execute(select(Unit.id, Unit.code).where(Unit.id.in_([p.unit_id for p in waiting]))).all())
    data: dict[str, object] = {"waived": [codes[p.unit_id] for p in waiting]}
    if request is not None:  # this agreement answers the lead's request too
        data["request"] = request.id
    event = lifecycle.record(session, ticket, "override_parts", actor, now=now, note=reason, unit_id=ticket.unit_id,
                             data=data)
    if request is not None:  # the unit that asked hears the answer, as it does a refusal
        _tell_decision(session, ticket, event, "agreed", OVERRIDE_AGREED_ZH, reason, now)
    return event


# 先行办结申请: the lead asks a supervisor for override_parts. No table of its own: the request is
# its event, and it is open until a later event ends it (agreed, refused, or the ticket moved on
# to another transfer), so the append-only log is the one record of it.
MAX_OVERRIDE_REASON_CHARS = 500
_ENDS_OVERRIDE_REQUEST = ("override_parts", "refuse_override", "transfer", "redispatch", "return", "resolve")
_OVERRIDE_EVENTS = ("request_override", *_ENDS_OVERRIDE_REQUEST)


def _open_requests() -> Select[tuple[TicketEvent, Ticket]]:
    """The request events still open: no later event of _OVERRIDE_EVENTS on the ticket (a later
    request supersedes), made by the unit that still holds the ticket, which is not finished.
    Read from the requests, which are few: asking for each ticket's last such event would read
    every transfer and resolve of the city on each /supervisor."""
    later = TicketEvent.__table__.alias("later")
    return (select(TicketEvent, Ticket).join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.action == "request_override", Ticket.unit_id == TicketEvent.unit_id,
                   Ticket.state.notin_([s.value for s in FINISHED_STATES]),
                   ~exists().where(later.c.ticket_id == TicketEvent.ticket_id, later.c.id > TicketEvent.id,
                                   later.c.action.in_(_OVERRIDE_EVENTS))))


def open_override_request(session: Session, ticket: Ticket) -> TicketEvent | None:
    """The ticket's open request; none once every co-handling part has answered (nothing left to agree to)."""
    row = session.execute(_open_requests().where(TicketEvent.ticket_id == ticket.id)).first()
    return None if row is None or not parts.waiting_co_parts(session, ticket) else row[0]


def override_request_news(session: Session, ticket: Ticket) -> tuple[str, TicketEvent] | None:
    """What the ticket page says of the lead's last request: ("open", the request) or
    ("refused", the refusal); None when there is none, or it was agreed or has lapsed."""
    last = session.scalar(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.action.in_(("request_override", "override_parts", "refuse_override")))
        .order_by(TicketEvent.id.desc()).limit(1))
    if last is None:
        return None
    if last.action == "refuse_override":
        return "refused", last
    if last.action == "request_override" and open_override_request(session, ticket) is not None:
        return "open", last
    return None


def request_override(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                     now: dt.datetime | None = None) -> TicketEvent:
    """The lead unit, having accepted the ticket, asks a supervisor to let it resolve without
    the co-handling parts still unanswered. One open request per ticket."""
    # Like a 延期申请 or a 改派申请: the lead unit's staff, or an admin acting for the unit.
    require_unit(actor, ticket.unit_id, "ask to resolve before co-handling units answer")
    lifecycle.lock(ticket)  # two requests at once: the second waits, then finds the first open
    reason = lifecycle.required_text("reason", reason)
    if len(reason) > MAX_OVERRIDE_REASON_CHARS:
        raise InvalidInput("reason", Reason.TOO_LONG, limit=MAX_OVERRIDE_REASON_CHARS)
    if State(ticket.state) is not State.IN_PROGRESS:
        raise IllegalTransition(ticket.state, "request_override", ticket.number)
    if not parts.waiting_co_parts(session, ticket):
        raise Conflict(Reason.NO_PARTS_WAITING, number=ticket.number)
    if open_override_request(session, ticket) is not None:
        raise Conflict(Reason.OVERRIDE_REQUEST_WAITING, number=ticket.number)
    return lifecycle.record(session, ticket, "request_override", actor, now=now or utcnow(), note=reason,
                            unit_id=ticket.unit_id)


def refuse_override(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                    now: dt.datetime | None = None) -> TicketEvent:
    """A supervisor refuses the lead's open request, saying why; the lead unit is told."""
    require_role(actor, SUPERVISING_ROLES, "decide requests to resolve first")
    reason = lifecycle.required_text("reason", reason)
    lifecycle.lock(ticket)  # a refusal and an agreement at once: the second finds the request decided
    request = open_override_request(session, ticket)
    if request is None:
        raise Conflict(Reason.NO_OVERRIDE_REQUEST, number=ticket.number)
    now = now or utcnow()
    event = lifecycle.record(session, ticket, "refuse_override", actor, now=now, note=reason, unit_id=ticket.unit_id,
                             data={"request": request.id})
    _tell_decision(session, ticket, event, "refused", OVERRIDE_REFUSED_ZH, reason, now)
    return event


def _tell_decision(session: Session, ticket: Ticket, event: TicketEvent, decision: str, words: str, reason: str,
                   now: dt.datetime) -> None:
    """The lead unit that asked is told the supervisor's decision and its reason."""
    lead = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if lead is not None:
        notices.tell(session, lead, notices.NoticeKind.OVERRIDE, f"override:{decision}:{event.id}",
                     words.format(number=ticket.number, note=reason), ticket=ticket, now=now)


def pending_override_requests(session: Session) -> list[tuple[TicketEvent, Ticket, Unit]]:
    """Open requests for a supervisor, oldest first."""
    rows = session.execute(_open_requests().add_columns(Unit).join(Unit, Unit.id == TicketEvent.unit_id)
                           .order_by(TicketEvent.id))
    return [(event, ticket, unit) for event, ticket, unit in rows if parts.waiting_co_parts(session, ticket)]
