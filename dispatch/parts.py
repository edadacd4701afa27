"""The parts of a transfer: co-handling units (协办) beside the lead, and the sub-unit the
lead forwarded to (二次派单). A part is a Transfer row with a role other than lead, pointing
at the lead transfer it belongs to, so a part unit's own figures (accepted, returned,
resolved on time by its part reply) come from the same running totals as every transfer.

Queries and checks only: the actions that change parts live in co_handling.py and
forwarding.py, and the lifecycle asks here whether the lead may resolve.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, literal_column, select
from sqlalchemy.orm import Session

from dispatch.clock import api_time
from dispatch.errors import Conflict, Reason
from dispatch.models import Ticket, Transfer, Unit
from dispatch.vocabulary import TransferOutcome, TransferRole

# A part still owes its answer: taken or not yet, neither replied nor returned.
OPEN_OUTCOMES = (TransferOutcome.PENDING.value, TransferOutcome.ACCEPTED.value)
# Every role but the lead's, named: an IN list reads the (unit_id, role, outcome) index where
# "not lead" read every transfer the unit ever had.
PART_ROLES = tuple(sorted(r.value for r in TransferRole if r is not TransferRole.LEAD))


def owed(transfers: Any) -> Any:
    """As SQL, of a transfers table (or alias): a part whose unit still owes its answer."""
    return and_(transfers.c.role.in_([literal_column(f"'{r}'") for r in PART_ROLES]),
                transfers.c.outcome.in_([literal_column(f"'{o}'") for o in OPEN_OUTCOMES]),
                transfers.c.part_reply.is_(None))


def left_unit(tickets: Any, unit_id: Any) -> Any:
    """As SQL, of a tickets table (or alias) and a unit (a value or a column): the unit neither
    holds the ticket (transferred elsewhere, returned, taken back by 改派) nor owes a part of it
    (its 协办 or 二次派单 part answered, or withdrawn). The one definition of "left the unit": its
    notices are done with, and its staff see the ticket as it was when it left."""
    part = Transfer.__table__.alias("part")
    return and_(tickets.c.unit_id.is_distinct_from(unit_id),
                ~exists().where(part.c.unit_id == unit_id, part.c.ticket_id == tickets.c.id, owed(part)))


def answered_role(tickets: Any, unit_id: Any) -> Any:
    """As SQL, of a tickets table (or alias) and a unit: the role (co, forward) of the unit's
    latest part of the ticket that it answered, else NULL. Of a ticket that has left the unit,
    it says why: the unit did its part, rather than the ticket went elsewhere."""
    part = Transfer.__table__.alias("answered")
    return (select(part.c.role).where(part.c.unit_id == unit_id, part.c.ticket_id == tickets.c.id,
                                      part.c.part_reply.is_not(None))
            .order_by(part.c.id.desc()).limit(1).scalar_subquery())


def left_of(session: Session, unit_id: int, ticket_ids: list[int]) -> set[int]:
    """Which of the tickets have left the unit (left_unit); asked a thousand at a time (a
    download lists ten thousand, past what one statement may bind on older SQLite)."""
    tickets, found = Ticket.__table__, set()
    for at in range(0, len(ticket_ids), 1000):
        found.update(session.scalars(select(tickets.c.id).where(tickets.c.id.in_(ticket_ids[at:at + 1000]),
                                                                left_unit(tickets, unit_id))))
    return found


def lead_transfer(session: Session, ticket: Ticket) -> Transfer | None:
    """The ticket's latest transfer to a lead unit (the one its parts belong to)."""
    return session.scalar(select(Transfer).where(Transfer.ticket_id == ticket.id,
                                                 Transfer.role == TransferRole.LEAD.value)
                          .order_by(Transfer.id.desc()).limit(1))


def parts_of(session: Session, lead: Transfer | None, role: TransferRole | None = None) -> list[Transfer]:
    if lead is None or lead.id is None:
        return []
    statement = select(Transfer).where(Transfer.lead_transfer_id == lead.id)
    if role is not None:
        statement = statement.where(Transfer.role == role.value)
    return list(session.scalars(statement.order_by(Transfer.id)))


def is_open(part: Transfer) -> bool:
    return part.outcome in OPEN_OUTCOMES and part.part_reply is None


def open_part(session: Session, ticket: Ticket, unit_id: int | None) -> Transfer | None:
    """The unit's part in the ticket that still owes an answer, if any."""
    if unit_id is None:
        return None
    return next((p for p in parts_of(session, lead_transfer(session, ticket))
                 if p.unit_id == unit_id and is_open(p)), None)


def open_forward(session: Session, ticket: Ticket) -> Transfer | None:
    return next((p for p in parts_of(session, lead_transfer(session, ticket), TransferRole.FORWARD)
                 if is_open(p)), None)


def waiting_co_parts(session: Session, ticket: Ticket) -> list[Transfer]:
    """Co-handling parts the lead must wait for: not returned, not replied, not waived."""
    return [p for p in parts_of(session, lead_transfer(session, ticket), TransferRole.CO)
            if is_open(p) and p.waived_at is None]


def require_parts_answered(session: Session, ticket: Ticket) -> None:
    """The lead resolves once every co-handling unit has replied (or returned its part), or
    a supervisor waived the rest."""
    waiting = waiting_co_parts(session, ticket)
    if waiting:
        names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_([p.unit_id for p in waiting]))).all())
        raise Conflict(Reason.PARTS_WAITING, number=ticket.number,
                       units="、".join(names.get(p.unit_id, str(p.unit_id)) for p in waiting))


def withdraw(part: Transfer, now: dt.datetime) -> None:
    """The part no longer owes an answer (已收回); when it had answered stays as it was."""
    part.outcome = TransferOutcome.WITHDRAWN.value
    part.responded_at = part.responded_at or now


def withdraw_open(session: Session, ticket: Ticket, now: dt.datetime) -> list[Transfer]:
    """The lead gave the ticket back (returned, or a dispute upheld): parts still owing an
    answer are withdrawn with it. Their units keep what they already did."""
    withdrawn = []
    for part in parts_of(session, lead_transfer(session, ticket)):
        if is_open(part):
            withdraw(part, now)
            withdrawn.append(part)
    return withdrawn


# ---- what people see ------------------------------------------------------------------------

@dataclass(frozen=True)
class PartView:
    unit_code: str
    unit_name: str
    role: str                  # co or forward
    status: str                # pending, accepted, returned, replied, waived, withdrawn
    reply: str | None
    return_reason: str | None
    transferred_at: dt.datetime
    replied_at: dt.datetime | None
    on_time: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {"unit_code": self.unit_code, "unit": self.unit_name, "role": self.role, "status": self.status,
                "reply": self.reply, "return_reason": self.return_reason,
                "transferred_at": api_time(self.transferred_at),
                "replied_at": api_time(self.replied_at) if self.replied_at else None, "on_time": self.on_time}


def status_of(part: Transfer) -> str:
    return part_status(part.outcome, part.part_reply is not None, part.waived_at is not None)


def part_status(outcome: str, replied: bool, waived: bool) -> str:
    """What a part's unit has done with it: replied, waived (by a supervisor), or its outcome."""
    if replied:
        return "replied"
    if waived and outcome in OPEN_OUTCOMES:
        return "waived"
    return outcome


def part_view(session: Session, part: Transfer) -> PartView:
    """One part as part_views shows it (the staff API answers a part's step with it)."""
    unit = session.get_one(Unit, part.unit_id)
    return PartView(unit.code, unit.name, part.role, status_of(part), part.part_reply, part.return_reason,
                    part.transferred_at, part.resolved_at, part.resolved_on_time)


def part_views(session: Session, ticket: Ticket, role: TransferRole | None = None) -> list[PartView]:
    """The parts of the ticket's current lead transfer, in the order they were given."""
    parts = parts_of(session, lead_transfer(session, ticket), role)
    if not parts:
        return []
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_({p.unit_id for p in parts})))}
    return [PartView(units[p.unit_id].code, units[p.unit_id].name, p.role, status_of(p), p.part_reply,
                     p.return_reason, p.transferred_at, p.resolved_at, p.resolved_on_time) for p in parts]


# One statement, built once (the status lookup runs it for every ticket with a reply): the
# replied parts of the latest lead transfer, with their units' names.
_LATEST_LEAD = (select(Transfer.id).where(Transfer.ticket_id == bindparam("ticket_id"),
                                          Transfer.role == TransferRole.LEAD.value)
                .order_by(Transfer.id.desc()).limit(1).scalar_subquery())
_CO_REPLIES = (select(Unit.name, Transfer.part_reply).join(Unit, Unit.id == Transfer.unit_id)
               .where(Transfer.lead_transfer_id == _LATEST_LEAD, Transfer.role == TransferRole.CO.value,
                      Transfer.part_reply.is_not(None))
               .order_by(Transfer.id))


def co_replies(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    """For the citizen: (unit name, part reply) of each co-handling unit that replied. The
    lead's own reply is the answer; these are listed beneath it."""
    return [(name, reply) for name, reply in session.execute(_CO_REPLIES, {"ticket_id": ticket.id})]
