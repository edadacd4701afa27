"""交接班: an operator going off shift hands over to the next one.

What is listed for the outgoing operator (`shift_summary`):
- the tickets they filed (受理, the ticket's `receive` event is theirs) during their shift that
  still wait for an operator: received, not yet answered, transferred or closed, or returned
  by a unit (CORRECTABLE_STATES, the states dispatch acts on);
- the missed calls on the callback list (回拨) still open: first those this operator tried
  without reaching anyone (无人接听, 忙线…: their own, which they know best), then those
  others tried, then the rest; the list is every operator's, not one person's.

Their shift is since their last 交班, and at most the last SHIFT_LONGEST: an operator who never
handed over is not shown a week of tickets, and one who did sees only what came after.

`hand_over` stores their note with the counts listed at that moment; it waits for another
operator's 接班 (`acknowledge`), once, for HANDOVER_EXPIRES_AFTER at most: then it is no longer
pending (the supervisors' history marks it 未接班（已过期）). Both are in the staff activity log.
Nothing here commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from dispatch import callback_dialing, staff_activity
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import api_time, utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import Callback, CallbackAttempt, ShiftHandover, StaffUser, Ticket, TicketEvent
from dispatch.paging import Page, page_of
from dispatch.phone import national_form
from dispatch.states import CORRECTABLE_STATES
from dispatch.telephony import CALLBACK_PENDING

# The longest a shift runs (two shifts cover a 24-hour hotline): the list looks no further back.
SHIFT_LONGEST = dt.timedelta(hours=12)
MAX_NOTE_CHARS = 1_000
LISTED = 100          # rows of each list shown (and kept with a handover); the counts are whole
PENDING_SHOWN = 20
HISTORY_PAGE = 50
# A note nobody took over within a day is older than the shift after next (two 12-hour
# shifts): what it says has been dealt with or is stale, and a console that kept showing it
# would bury the live notes under it. It stays in the history, marked.
HANDOVER_EXPIRES_AFTER = dt.timedelta(hours=24)
WAITING_STATES = tuple(sorted(s.value for s in CORRECTABLE_STATES))


@dataclass(frozen=True)
class WaitingTicket:
    number: str
    title: str
    state: str
    received_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "state": self.state,
                "received_at": api_time(self.received_at)}


@dataclass(frozen=True)
class OpenCallback:
    id: int
    caller: str | None        # as people read it (national form)
    created_at: dt.datetime
    attempts: int
    last_attempt_at: dt.datetime | None
    result: str | None        # the last attempt's DialResult value (dial_no_answer, dial_busy…)
    last_by: str | None = None   # who placed the last attempt (None before that was recorded)
    own: bool = False            # the operator asking tried it themselves, without reaching anyone

    @property
    def unreached(self) -> bool:
        return self.attempts > 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "caller": self.caller, "created_at": api_time(self.created_at),
                "attempts": self.attempts, "result": self.result,
                "last_attempt_at": api_time(self.last_attempt_at) if self.last_attempt_at else None,
                "last_attempt_by": self.last_by, "own": self.own}


@dataclass(frozen=True)
class ShiftSummary:
    since: dt.datetime
    tickets: list[WaitingTicket]
    ticket_count: int
    callbacks: list[OpenCallback]
    callback_count: int
    unreached_count: int
    own_count: int = 0        # of the unreached, those the operator tried themselves

    def as_dict(self) -> dict[str, Any]:
        return {"since": api_time(self.since), "waiting_tickets": self.ticket_count,
                "open_callbacks": self.callback_count, "unreached_callbacks": self.unreached_count,
                "own_unreached_callbacks": self.own_count,
                "tickets": [t.as_dict() for t in self.tickets], "callbacks": [c.as_dict() for c in self.callbacks]}


@dataclass(frozen=True)
class HandoverView:
    id: int
    staff_id: int
    by: str
    created_at: dt.datetime
    shift_start: dt.datetime
    note: str
    waiting_tickets: int
    open_callbacks: int
    unreached_callbacks: int
    listed: dict[str, Any]
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    expired: bool = False     # nobody took it over within HANDOVER_EXPIRES_AFTER

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "by": self.by, "created_at": api_time(self.created_at),
                "shift_start": api_time(self.shift_start), "note": self.note,
                "waiting_tickets": self.waiting_tickets, "open_callbacks": self.open_callbacks,
                "unreached_callbacks": self.unreached_callbacks,
                "tickets": list(self.listed.get("tickets", [])), "callbacks": list(self.listed.get("callbacks", [])),
                "acknowledged_at": api_time(self.acknowledged_at) if self.acknowledged_at else None,
                "acknowledged_by": self.acknowledged_by, "expired": self.expired}


@dataclass(frozen=True)
class Pending:
    handovers: list[HandoverView]   # the newest PENDING_SHOWN
    count: int


def operator_id(actor: Actor, what: str) -> int:
    """The staff id of an operator (supervisors and admins work the console too); anyone
    else is refused, units among them."""
    require_role(actor, DISPATCH_ROLES, what)
    if actor.user_id is None:   # the system or the command line keeps no shift
        raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label, role="system", what=what)
    return actor.user_id


def shift_start(session: Session, staff_id: int, now: dt.datetime | None = None) -> dt.datetime:
    """Since when the operator's shift runs: their last 交班, at most SHIFT_LONGEST ago."""
    now = now or utcnow()
    last = session.scalar(select(func.max(ShiftHandover.created_at)).where(ShiftHandover.staff_id == staff_id))
    earliest = now - SHIFT_LONGEST
    if last is not None and last.tzinfo is None:   # max() reads past the column's type on SQLite
        last = last.replace(tzinfo=dt.timezone.utc)
    return max(last, earliest) if last is not None else earliest


def _filed_waiting(staff_id: int, since: dt.datetime) -> Any:
    return (select(Ticket.id).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(TicketEvent.action == "receive", TicketEvent.at >= since, TicketEvent.actor_id == staff_id,
                   Ticket.state.in_(WAITING_STATES)))


def shift_summary(session: Session, actor: Actor, *, now: dt.datetime | None = None) -> ShiftSummary:
    """What the operator leaves behind now: their filed tickets still waiting, and the open callbacks."""
    staff_id = operator_id(actor, "hand over a shift")
    since = shift_start(session, staff_id, now)
    filed = _filed_waiting(staff_id, since).subquery()
    tickets = [WaitingTicket(*row) for row in session.execute(
        select(Ticket.number, Ticket.title, Ticket.state, Ticket.received_at).where(Ticket.id.in_(select(filed.c.id)))
        .order_by(Ticket.received_at, Ticket.id).limit(LISTED))]
    ticket_count = int(session.scalar(select(func.count()).select_from(filed)) or 0)
    tried = Callback.attempts > 0
    # Still open after one of their tries: none of their tries reached anyone (one that did closes it).
    own = (select(CallbackAttempt.id).where(CallbackAttempt.callback_id == Callback.id,
                                            CallbackAttempt.staff_id == staff_id).exists())
    rows = session.execute(
        select(Callback, own, func.coalesce(func.nullif(StaffUser.display_name, ""), StaffUser.username))
        .outerjoin(StaffUser, StaffUser.id == Callback.last_attempt_by)
        .where(Callback.status == CALLBACK_PENDING)
        .order_by(case((own, 0), (tried, 1), else_=2), Callback.created_at.desc(), Callback.id.desc())
        .limit(LISTED))
    callbacks = [OpenCallback(c.id, national_form(c.caller) if c.caller else None, c.created_at, c.attempts,
                              c.last_attempt_at, callback_dialing.last_result(c), by, bool(mine))
                 for c, mine, by in rows]
    open_count, unreached, own_count = session.execute(
        select(func.count(), func.coalesce(func.sum(case((tried, 1), else_=0)), 0),
               func.coalesce(func.sum(case((own, 1), else_=0)), 0))
        .where(Callback.status == CALLBACK_PENDING)).one()
    return ShiftSummary(since, tickets, ticket_count, callbacks, int(open_count), int(unreached), int(own_count))


def parse_note(value: object) -> str:
    """The note as typed, trimmed; refused when empty (写「无」 when there is nothing) or too long."""
    if value is not None and not isinstance(value, str):
        raise InvalidInput("handover_note", Reason.NOT_TEXT)
    note = (value or "").strip()
    if not note:
        raise InvalidInput("handover_note", Reason.REQUIRED)
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput("handover_note", Reason.TOO_LONG, limit=MAX_NOTE_CHARS)
    return note


def hand_over(session: Session, actor: Actor, note: object, *, now: dt.datetime | None = None) -> ShiftHandover:
    """交班: the note and what is listed now, kept for the next operator; the next shift of
    this operator starts here."""
    staff_id = operator_id(actor, "hand over a shift")
    text = parse_note(note)
    now = now or utcnow()
    summary = shift_summary(session, actor, now=now)
    name = session.scalar(select(StaffUser.display_name).where(StaffUser.id == staff_id)) or actor.label
    handover = ShiftHandover(
        staff_id=staff_id, staff_label=name, created_at=now, shift_start=summary.since, note=text,
        waiting_tickets=summary.ticket_count, open_callbacks=summary.callback_count,
        unreached_callbacks=summary.unreached_count,
        listed={"tickets": [t.number for t in summary.tickets], "callbacks": [c.id for c in summary.callbacks]})
    session.add(handover)
    session.flush()
    staff_activity.record(session, staff_activity.ActivityKind.SHIFT_HANDED_OVER, actor,
                          target=f"shift_handover:{handover.id}", now=now,
                          detail={"waiting_tickets": summary.ticket_count, "open_callbacks": summary.callback_count,
                                  "unreached_callbacks": summary.unreached_count,
                                  "shift_start": api_time(summary.since)})
    return handover


def expired(row: ShiftHandover, now: dt.datetime | None = None) -> bool:
    """Nobody took it over (接班) within HANDOVER_EXPIRES_AFTER."""
    return row.acknowledged_at is None and row.created_at <= (now or utcnow()) - HANDOVER_EXPIRES_AFTER


def view(row: ShiftHandover, now: dt.datetime | None = None) -> HandoverView:
    return HandoverView(row.id, row.staff_id, row.staff_label, row.created_at, row.shift_start, row.note,
                        row.waiting_tickets, row.open_callbacks, row.unreached_callbacks, dict(row.listed or {}),
                        row.acknowledged_at, row.acknowledged_label, expired(row, now))


def pending(session: Session, actor: Actor, *, shown: int = PENDING_SHOWN, others_only: bool = False,
            now: dt.datetime | None = None) -> Pending:
    """The handovers nobody has taken over yet and not expired, newest first: the operator's own
    among them (they read it, the next operator acknowledges it), or, `others_only`, those they may take over."""
    staff_id = operator_id(actor, "read shift handovers")
    waiting = (ShiftHandover.acknowledged_at.is_(None)
               & (ShiftHandover.created_at > (now or utcnow()) - HANDOVER_EXPIRES_AFTER))
    if others_only:
        waiting = waiting & (ShiftHandover.staff_id != staff_id)
    rows = session.scalars(select(ShiftHandover).where(waiting).order_by(ShiftHandover.id.desc()).limit(shown))
    count = session.scalar(select(func.count()).select_from(ShiftHandover).where(waiting)) or 0
    return Pending([view(r) for r in rows], int(count))


def acknowledge(session: Session, actor: Actor, handover_id: int, *, now: dt.datetime | None = None) -> ShiftHandover:
    """接班: another operator has read it and takes over. Once: of two at the same moment, the
    second is told who was first."""
    staff_id = operator_id(actor, "take over a shift")
    handover = session.get(ShiftHandover, handover_id)
    if handover is None:
        raise NotFound(Reason.HANDOVER_NOT_FOUND, handover_id=handover_id)
    if handover.staff_id == staff_id:
        raise PermissionDenied(Reason.OWN_HANDOVER)
    now = now or utcnow()
    if expired(handover, now):   # a page left open since: no longer anyone's to take over
        raise Conflict(Reason.HANDOVER_EXPIRED, hours=int(HANDOVER_EXPIRES_AFTER.total_seconds() // 3600))
    name = session.scalar(select(StaffUser.display_name).where(StaffUser.id == staff_id)) or actor.label
    # One statement that checks and marks, so two clicks at once take it over once.
    taken = session.execute(update(ShiftHandover)
                            .where(ShiftHandover.id == handover_id, ShiftHandover.acknowledged_at.is_(None))
                            .values(acknowledged_at=now, acknowledged_by=staff_id, acknowledged_label=name)
                            .execution_options(synchronize_session=False)).rowcount
    session.refresh(handover)
    if not taken:
        raise Conflict(Reason.HANDOVER_TAKEN, by=handover.acknowledged_label or "")
    staff_activity.record(session, staff_activity.ActivityKind.SHIFT_TAKEN_OVER, actor,
                          target=f"shift_handover:{handover.id}", now=now,
                          detail={"handed_over_by": handover.staff_label})
    return handover


def history(session: Session, actor: Actor, page: int = 1, *, per_page: int = HISTORY_PAGE) -> Page[HandoverView]:
    """Every handover, newest first, for supervisors (and admins)."""
    require_role(actor, SUPERVISING_ROLES, "read the shift handovers")
    found = page_of(session, select(ShiftHandover).order_by(ShiftHandover.id.desc()), page, per_page)
    now = utcnow()
    return Page([view(r, now) for r in found.items], found.page, found.pages, found.total, found.more,
                following=found.following)
