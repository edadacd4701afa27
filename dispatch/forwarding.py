"""二次派单: the lead unit forwards a ticket to one of its own sub-units (住建局 -> 燃气公司,
街道 -> 社区). The ticket stays with the parent (its unit, its figures, its deadline); the
sub-unit gets a part it accepts, replies to, or hands back (co_handling.py's part actions),
and the parent sees the part's progress and answers the citizen."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import lifecycle, notices, parts
from dispatch.actors import Actor, require_unit
from dispatch.clock import utcnow
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, Reason
from dispatch.models import Ticket, Transfer, Unit
from dispatch.states import State
from dispatch.vocabulary import FORWARDED_ZH, TransferOutcome, TransferRole


def sub_units(session: Session, unit_id: int | None) -> list[Unit]:
    """The active units directly under this one: where it may forward."""
    if unit_id is None:
        return []
    return list(session.scalars(select(Unit).where(Unit.parent_id == unit_id, Unit.active.is_(True))
                                .order_by(Unit.name)))


def forward(session: Session, ticket: Ticket, actor: Actor, sub_unit: Unit, *, note: str | None = None,
            now: dt.datetime | None = None) -> Transfer:
    """Forward the ticket, once the parent has accepted it, to one of the parent's sub-units."""
    require_unit(actor, ticket.unit_id, "forward this ticket")
    if State(ticket.state) is not State.IN_PROGRESS:
        raise IllegalTransition(ticket.state, "forward", ticket.number)
    parent = session.get_one(Unit, ticket.unit_id)
    if sub_unit.parent_id != parent.id:
        raise InvalidInput("unit", Reason.NOT_A_SUB_UNIT, unit=sub_unit.name, parent=parent.name)
    if not sub_unit.active:
        raise InvalidInput("unit", Reason.INACTIVE_UNIT, unit=sub_unit.name)
    current = parts.open_forward(session, ticket)
    if current is not None:
        name = session.scalar(select(Unit.name).where(Unit.id == current.unit_id))
        raise Conflict(Reason.FORWARD_OPEN, number=ticket.number, unit=name)
    lead = parts.lead_transfer(session, ticket)
    if lead is None:
        raise NotFound(Reason.NO_TRANSFER, number=ticket.number)
    now = now or utcnow()
    part = Transfer(ticket_id=ticket.id, unit_id=sub_unit.id, received_day=lead.received_day, transferred_at=now,
                    outcome=TransferOutcome.PENDING.value, role=TransferRole.FORWARD.value, lead_transfer_id=lead.id)
    session.add(part)
    session.flush()
    lifecycle.record(session, ticket, "forward", actor, now=now, note=note, unit_id=sub_unit.id,
                     data={"role": TransferRole.FORWARD.value, "part": part.id, "from": parent.code,
                           "to": sub_unit.code})
    text = FORWARDED_ZH.format(parent=parent.name, number=ticket.number, title=ticket.title)
    notices.tell(session, sub_unit, notices.NoticeKind.FORWARDED, f"forwarded:part:{part.id}", text, ticket=ticket,
                 now=now)
    return part
