"""承接单位: a unit being retired (merged into another, its duties moved) hands its open work
to a successor. Before it may be deactivated its open tickets and the 协办 / 二次派单 parts it
still owes must go somewhere: nobody can act on a ticket whose unit is retired.

The hand-over moves the rows themselves: the open lead transfer and each owed part now
name the successor (their figures move with them through the running totals' flush hook),
the ticket follows its lead transfer, and each ticket gets a "succession" event with the
reason in its append-only log. The catalogue entries whose default unit it was move in one
new catalogue version.

Its finished tickets (办结 awaiting 回访, closed) move too, as history: the ticket, not its
transfers, so the successor sees them, answers for them and gets them back when one is
reopened, while the transfers keep saying which unit received and handled them (the per-unit
transfer figures count transfers to a unit: those stay the retired unit's). Each gets a
"succession" event with `"history": true`; the successor is not told of each. A reopened one's
lead transfer follows the ticket then (lifecycle.reopen's _unresolve), as open work's does now.
All in the caller's transaction; nothing here commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import catalogue, lifecycle, notices, parts, staff_notices
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.models import CatalogueEntry, ExtensionRequest, Ticket, Transfer, Unit
from dispatch.states import UNIT_STATES
from dispatch.notices import NoticeKind
from dispatch.vocabulary import SUCCEEDED_ZH, ExtensionStatus, TransferRole

# The ticket event a hand-over writes (web/pages/labels.py names it).
SUCCESSION = "succession"
_OPEN_STATES = tuple(sorted(s.value for s in UNIT_STATES))


@dataclass(frozen=True)
class OpenWork:
    """What a unit still has to do, counted before it is retired."""

    tickets: int      # tickets it holds: transferred, in progress or reopened
    parts: int        # 协办 / 二次派单 parts it owes an answer to
    entries: int      # current catalogue entries that route to it by default

    @property
    def blocks_retiring(self) -> bool:
        return bool(self.tickets or self.parts)


@dataclass(frozen=True)
class Succession:
    tickets: list[str]      # numbers of the tickets the successor now holds
    # (history, below: numbers of the finished tickets it took over)
    parts: list[str]        # numbers of the tickets whose part it now owes
    withdrawn: list[str]    # parts the successor already led or owed: withdrawn, not doubled
    entries: list[str]      # catalogue codes that now route to the successor
    history: list[str] = field(default_factory=list)   # finished tickets the successor answers for now


def _open_tickets(unit_id: int):  # type: ignore[no-untyped-def]
    return select(Ticket).where(Ticket.unit_id == unit_id, Ticket.state.in_(_OPEN_STATES))


def _finished_tickets(unit_id: int):  # type: ignore[no-untyped-def]
    return select(Ticket).where(Ticket.unit_id == unit_id, Ticket.state.notin_(_OPEN_STATES))


def _owed_parts(unit_id: int):  # type: ignore[no-untyped-def]
    return select(Transfer).where(Transfer.unit_id == unit_id, Transfer.role.in_(parts.PART_ROLES),
                                  Transfer.outcome.in_(parts.OPEN_OUTCOMES), Transfer.part_reply.is_(None))


def _current_entries(unit_id: int):  # type: ignore[no-untyped-def]
    return select(CatalogueEntry).where(CatalogueEntry.unit_id == unit_id,
                                        CatalogueEntry.retired_version_id.is_(None))


def open_work(session: Session, unit_id: int) -> OpenWork:
    def count(statement) -> int:  # type: ignore[no-untyped-def]
        return session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    return OpenWork(count(_open_tickets(unit_id)), count(_owed_parts(unit_id)), count(_current_entries(unit_id)))


def check_successor(unit: Unit, successor: Unit | None) -> None:
    if successor is None:
        return
    if successor.id == unit.id:
        raise InvalidInput("successor", Reason.SUCCESSOR_IS_ITSELF, unit=unit.name)
    if not successor.active:
        raise InvalidInput("successor", Reason.SUCCESSOR_NOT_ACTIVE, code=successor.code)


def hand_over(session: Session, actor: Actor, unit: Unit, successor: Unit, reason: str, *,
              now: dt.datetime | None = None) -> Succession:
    """Move the unit's open tickets, owed parts and catalogue entries to the successor."""
    check_successor(unit, successor)
    reason = lifecycle.required_text("reason", reason)
    now = now or utcnow()
    moved = {"from": unit.code, "to": successor.code}
    tickets: list[str] = []
    for ticket in session.scalars(_open_tickets(unit.id).order_by(Ticket.id)).all():
        lifecycle.check_version(ticket, None)   # holds the row: nobody acts on it meanwhile
        lead = parts.lead_transfer(session, ticket)
        if lead is not None and lead.unit_id == unit.id:
            lead.unit_id = successor.id
        ticket.unit_id = successor.id
        withdrawn = []
        # The successor's own part in this ticket: it leads now, and answers the citizen itself.
        for part in parts.parts_of(session, lead):
            if part.unit_id == successor.id and parts.is_open(part):
                parts.withdraw(part, now)
                withdrawn.append(part.id)
        event = lifecycle.record(session, ticket, SUCCESSION, actor, now=now, note=reason, unit_id=successor.id,
                                 data={**moved, "role": TransferRole.LEAD.value,
                                       **({"withdrawn": withdrawn} if withdrawn else {})})
        _tell(session, unit, successor, ticket, event.id, now)
        # The retired unit's 延期申请 waits for nobody now (a decision would be refused as moot):
        # the supervisors' notice of it asks nothing more. A 改派申请 still waits: it is decided.
        for request in session.scalars(select(ExtensionRequest).where(
                ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.unit_id == unit.id,
                ExtensionRequest.status == ExtensionStatus.PENDING.value)):
            staff_notices.settle(session, staff_notices.extension_key(request), how=staff_notices.Settled.LAPSED,
                                 now=now)
        tickets.append(ticket.number)
    owed, doubled = [], []
    for part in session.scalars(_owed_parts(unit.id).order_by(Transfer.id)).all():
        ticket = session.get_one(Ticket, part.ticket_id)
        lifecycle.check_version(ticket, None)
        lead = session.get(Transfer, part.lead_transfer_id) if part.lead_transfer_id else None
        twice = ticket.unit_id == successor.id or (lead is not None and any(
            p.unit_id == successor.id and parts.is_open(p) for p in parts.parts_of(session, lead)))
        if twice:   # the successor leads the ticket or already owes a part of it
            parts.withdraw(part, now)
            doubled.append(ticket.number)
        else:
            part.unit_id = successor.id
            owed.append(ticket.number)
        event = lifecycle.record(session, ticket, SUCCESSION, actor, now=now, note=reason, unit_id=successor.id,
                                 data={**moved, "role": part.role, "part": part.id,
                                       **({"withdrawn": [part.id]} if twice else {})})
        if not twice:
            _tell(session, unit, successor, ticket, event.id, now)
    history = []
    for ticket in session.scalars(_finished_tickets(unit.id).order_by(Ticket.id)).all():
        lifecycle.check_version(ticket, None)
        ticket.unit_id = successor.id
        lifecycle.record(session, ticket, SUCCESSION, actor, now=now, note=reason, unit_id=successor.id,
                         data={**moved, "history": True})
        history.append(ticket.number)
    entries = catalogue.move_unit_entries(session, actor, unit, successor, reason, now=now)
    session.flush()
    return Succession(tickets, owed, doubled, entries, history)


def follow_holder(session: Session, ticket: Ticket, lead: Transfer) -> Unit | None:
    """A reopened ticket a retired unit had resolved, taken over since by its successor (the
    ticket's unit now): its lead transfer moves to the successor, which handles it anew (its
    figures move with it, as an open ticket's at the hand-over). The retired unit, or None
    when the transfer already is with the ticket's unit."""
    if ticket.unit_id is None or lead.unit_id == ticket.unit_id:
        return None
    retired = session.get_one(Unit, lead.unit_id)
    if retired.active:   # a forwarded or co-handled ticket's lead is the accountable unit: left as it is
        return None
    lead.unit_id = ticket.unit_id
    return retired


def _tell(session: Session, unit: Unit, successor: Unit, ticket: Ticket, event_id: int, now: dt.datetime) -> None:
    """The successor hears of each piece of work it now has, as of a new transfer."""
    notices.tell(session, successor, NoticeKind.TRANSFERRED, f"succession:event:{event_id}",
                 SUCCEEDED_ZH.format(unit=unit.name, number=ticket.number, title=ticket.title), ticket=ticket, now=now)
