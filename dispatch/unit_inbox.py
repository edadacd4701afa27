"""The unit inbox a page at a time, soonest deadline first: the unit's own open tickets and
those it owes a part of (协办, 二次派单), with counts that stop at COUNT_LIMIT: a bureau of a big
city has tens of thousands of open tickets, and sorting or counting all of them on every
visit cost more than the rest of the page.

Each open state is read from the (unit_id, state, deadline, received_at, id) index in
order, at most a page deep, and the parts the same way; the few rows are merged: the same
order as one sort of them all, on PostgreSQL and SQLite alike. A page is one statement, its
counts another, each built once with the unit, the time and the page as parameters (built
anew they cost more than the database's work), and read as plain rows, not ORM tickets."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, cast, exists, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from dispatch import parts
from dispatch.masking import mask_text
from dispatch.models import Ticket, TicketEvent, Transfer
from dispatch.paging import COUNT_LIMIT, Bounded
from dispatch.states import UNIT_STATES, State
from dispatch.vocabulary import TransferOutcome, TransferRole

PAGE_SIZE = 50
# Sorted: the statements' text, and so their plans, are the same in every process.
STATES = tuple(sorted(s.value for s in UNIT_STATES))
NEAR_DUE = dt.timedelta(hours=24)
RECENT_SHOWN = 20


def soonest_first() -> tuple[Any, ...]:
    # Tickets without a deadline go last: nothing is at stake for them.
    return Ticket.deadline.asc().nulls_last(), Ticket.received_at, Ticket.id


def open_tickets(session: Session, unit_id: int, *, limit: int, offset: int = 0) -> list[Ticket]:
    """The unit's open tickets (transferred, in progress, reopened), soonest deadline first."""
    ids = union_all(*[select(select(Ticket.id).where(Ticket.unit_id == unit_id, Ticket.state == state)
                             .order_by(*soonest_first()).limit(offset + limit).subquery().c.id)
                      for state in STATES]).subquery()
    return list(session.scalars(select(Ticket).where(Ticket.id.in_(select(ids.c.id)))
                                .order_by(*soonest_first()).offset(offset).limit(limit)))


def _literals(values: tuple[str, ...]) -> list[Any]:
    # Written out: a list parameter is expanded by a regular expression at every execution.
    return [literal_column(f"'{v}'") for v in values]


def _in_unit_states(tickets: Any) -> Any:
    return tickets.c.state.in_(_literals(STATES))


# ---- 超期 and 临期, the one definition (the inbox's counts and lines, the staff search) ----------
DUE = ("near", "overdue")


def held(tickets: Any) -> Any:
    """As SQL, of a tickets table (or alias): a unit holds the ticket (UNIT_STATES), the only
    tickets, or parts of them, that can be 超期 or 临期 in an inbox."""
    return _in_unit_states(tickets)


def due(which: str, tickets: Any, now: Any = None, soon: Any = None) -> list[Any]:
    """As SQL, of a tickets table (or alias): the deadline conditions of 临期 ("near": due
    within NEAR_DUE, not yet past) or 超期 ("overdue": past its deadline), at `now` and
    `soon` (now + NEAR_DUE), values or bind parameters (by default :now and :soon)."""
    now = bindparam("now") if now is None else now
    soon = bindparam("soon") if soon is None else soon
    if which == "near":
        return [tickets.c.deadline >= now, tickets.c.deadline < soon]
    if which == "overdue":
        return [tickets.c.deadline < now]
    raise ValueError(which)


def due_times(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """`now` and `soon` for due(): 临期 is due before `soon`."""
    return now, now + NEAR_DUE


def _owed(transfers: Any, tickets: Any) -> Any:
    """The unit's parts still owing an answer, of tickets still with a unit."""
    return and_(transfers.c.unit_id == bindparam("unit"), parts.owed(transfers), _in_unit_states(tickets))


def _soonest(tickets: Any) -> list[Any]:
    return [tickets.c.deadline.asc().nulls_last(), tickets.c.received_at, tickets.c.id]


@dataclass(frozen=True)
class InboxCounts:
    total: Bounded
    new: Bounded        # transferred or reopened, not yet accepted (a part: not yet taken)
    near: Bounded       # deadline within NEAR_DUE
    overdue: Bounded


@functools.cache
def _counts_statement() -> Any:
    # Short aliases: psycopg converts a statement of over 4,096 characters anew each time.
    def upto(own: list[Any], part: list[Any], n: int) -> Any:
        t, pt, p = Ticket.__table__.alias(f"t{n}"), Ticket.__table__.alias(f"u{n}"), Transfer.__table__.alias(f"p{n}")
        found = union_all(
            select(literal_column("1")).select_from(t).where(t.c.unit_id == bindparam("unit"), *own(t)),
            select(literal_column("1")).select_from(p.join(pt, pt.c.id == p.c.ticket_id))
            .where(_owed(p, pt), *part(p, pt))).limit(bindparam("upto", type_=Integer)).subquery()
        return select(func.count()).select_from(found).scalar_subquery()

    def near(t: Any) -> list[Any]:
        return due("near", t)

    pending = literal_column(f"'{TransferOutcome.PENDING.value}'")
    return select(
        upto(lambda t: [_in_unit_states(t)], lambda p, t: [], 0),
        # A reopened ticket (重办) waits to be accepted again, as a transferred one does.
        upto(lambda t: [t.c.state.in_([literal_column(f"'{State.TRANSFERRED.value}'"),
                                       literal_column(f"'{State.REOPENED.value}'")])],
             lambda p, t: [p.c.outcome == pending], 1),
        upto(lambda t: [_in_unit_states(t), *near(t)], lambda p, t: near(t), 2),
        upto(lambda t: [_in_unit_states(t), *due("overdue", t)], lambda p, t: due("overdue", t), 3))


def counts(session: Session, unit_id: int, now: dt.datetime, *, limit: int = COUNT_LIMIT) -> InboxCounts:
    """The inbox's lines (own tickets and owed parts) counted up to `limit` each, in one statement."""
    now, soon = due_times(now)
    row = session.execute(_counts_statement(), {"unit": unit_id, "now": now, "soon": soon, "upto": limit + 1}).one()
    return InboxCounts(*(Bounded.of(int(n), limit) for n in row))


@dataclass(frozen=True)
class Line:
    """One row of the inbox: a ticket of the unit's own, or one it owes a part of."""

    number: str
    title: str                  # masked when the ticket is confidential (保密)
    state: str
    request_type: str
    urgency: str
    deadline: dt.datetime | None
    received_at: dt.datetime
    deadline_class: str | None
    confidential: bool
    part: str | None            # the unit's part (co, forward); None: its own ticket
    part_pending: bool          # the part not yet taken (待签收)
    lead_unit_id: int | None    # a part's: the unit whose ticket it is
    escalations: int            # 督办 so far (own tickets)
    forward: tuple[int, str] | None   # own tickets: the latest forward's (sub-unit id, status)
    overdue: bool
    near: bool


# The inbox shown in part, as its counts name them: what waits to be taken (待签收), near
# due (临期) or overdue (超期). None: all of it.
SHOWN = ("new", "near", "overdue")
# Own tickets waiting to be taken: transferred, or reopened (重办) and not yet taken again.
NEW_STATES = tuple(sorted((State.TRANSFERRED.value, State.REOPENED.value)))


def _shown(show: str | None, tickets: Any, transfers: Any | None) -> list[Any]:
    """The conditions of one part of the inbox, on an own ticket (`transfers` None) or a part."""
    if show == "new":
        if transfers is None:
            return [tickets.c.state.in_(_literals(NEW_STATES))]
        return [transfers.c.outcome == literal_column(f"'{TransferOutcome.PENDING.value}'")]
    if show in DUE:
        return due(show, tickets)
    return []


@functools.cache
def _page_statement(show: str | None = None) -> Any:
    t, p = Ticket.__table__.alias("t"), Transfer.__table__.alias("p")
    nothing, reach = literal_column("NULL"), bindparam("reach", type_=Integer)
    # Each source at most `reach` (offset + page) deep in the page's order: the page's lines
    # are among them. A part's id orders the lines of one ticket (NULL: the unit's own).
    states = NEW_STATES if show == "new" else STATES
    own = [select(t.c.id, cast(nothing, Integer).label("part_id"), nothing.label("role"), nothing.label("outcome"))
           .where(t.c.unit_id == bindparam("unit"), t.c.state == literal_column(f"'{state}'"),
                  *_shown(show if show != "new" else None, t, None)) for state in states]
    owed = select(t.c.id, p.c.id.label("part_id"), p.c.role, p.c.outcome).select_from(
        p.join(t, t.c.id == p.c.ticket_id)).where(_owed(p, t), *_shown(show, t, p))
    sources = [select(source.order_by(*_soonest(t)).limit(reach).subquery()) for source in (*own, owed)]
    lines = union_all(*sources).subquery("l")
    s = Ticket.__table__.alias("s")
    # Ties (a ticket the unit owes two parts of, or both holds and owes): its own line
    # first, then the parts in the order they were given.
    order = [*_soonest(s), lines.c.part_id.asc().nulls_first()]
    paged = (select(s.c.id, s.c.number, s.c.title, s.c.name, s.c.confidential, s.c.state, s.c.request_type,
                    s.c.urgency, s.c.deadline, s.c.received_at, s.c.deadline_class, s.c.unit_id,
                    lines.c.part_id, lines.c.role, lines.c.outcome)
             .select_from(lines.join(s, s.c.id == lines.c.id)).order_by(*order)
             .offset(bindparam("skip", type_=Integer)).limit(bindparam("size", type_=Integer)).subquery("g"))
    e, f, later = TicketEvent.__table__.alias("e"), Transfer.__table__.alias("f"), Transfer.__table__.alias("n")
    forward = literal_column(f"'{TransferRole.FORWARD.value}'")
    chased = (select(func.count()).select_from(e)
              .where(e.c.ticket_id == paged.c.id, e.c.action == literal_column("'escalate'")).scalar_subquery())
    # The latest forward of each own ticket on the page (none newer), whatever its outcome.
    latest = and_(paged.c.role.is_(None), f.c.ticket_id == paged.c.id, f.c.role == forward,
                  ~exists().where(later.c.ticket_id == f.c.ticket_id, later.c.role == forward, later.c.id > f.c.id))
    return (select(paged.c.number, paged.c.title, paged.c.name, paged.c.confidential, paged.c.state,
                   paged.c.request_type, paged.c.urgency, paged.c.deadline, paged.c.received_at,
                   paged.c.deadline_class, paged.c.unit_id, paged.c.role, paged.c.outcome,
                   case((paged.c.role.is_(None), chased), else_=literal_column("0")),
                   f.c.unit_id, f.c.outcome, f.c.part_reply.is_not(None), f.c.waived_at.is_not(None))
            .select_from(paged.outerjoin(f, latest))
            .order_by(paged.c.deadline.asc().nulls_last(), paged.c.received_at, paged.c.id,
                      paged.c.part_id.asc().nulls_first()))


def page(session: Session, unit_id: int, now: dt.datetime, *, offset: int, size: int = 0,
         show: str | None = None) -> list[Line]:
    """`size` lines of the inbox (PAGE_SIZE by default) from `offset`, in one statement;
    `show` (one of SHOWN): only that part of it, the lines its count counts."""
    size = size or PAGE_SIZE
    show = show if show in SHOWN else None
    params: dict[str, Any] = {"unit": unit_id, "reach": offset + size, "skip": offset, "size": size}
    if show in DUE:
        params.update(zip(("now", "soon"), due_times(now)))
    rows = session.execute(_page_statement(show), params)
    lines = []
    for (number, title, name, confidential, state, request_type, urgency, deadline, received_at, deadline_class,
         holder, role, outcome, escalations, sub_unit, sub_outcome, replied, waived) in rows:
        overdue = deadline is not None and now > deadline
        lines.append(Line(
            number, _title(title, name, confidential), state, request_type, urgency, deadline, received_at,
            deadline_class, bool(confidential), role, outcome == TransferOutcome.PENDING.value,
            holder if role is not None else None, int(escalations or 0),
            (sub_unit, parts.part_status(sub_outcome, bool(replied), bool(waived))) if sub_unit is not None else None,
            overdue, deadline is not None and not overdue and deadline - now < NEAR_DUE))
    return lines


def _title(title: str, name: str | None, confidential: bool) -> str:
    # A confidential ticket's title may name the citizen: masked for the unit too.
    return mask_text(title, [name] if name else []) if confidential else title


@dataclass(frozen=True)
class Resolved:
    number: str
    title: str
    resolved_at: dt.datetime


_RECENT = (select(Ticket.number, Ticket.title, Ticket.name, Ticket.confidential, Ticket.resolved_at)
           # resolved_at IS NOT NULL: the (unit_id, resolved_at) index read backwards begins
           # with its NULLs, the unit's open tickets (tens of thousands in a big city).
           .where(Ticket.unit_id == bindparam("unit"), Ticket.resolved_at.is_not(None),
                  Ticket.state.in_(_literals((State.CLOSED.value, State.RESOLVED.value))))
           .order_by(Ticket.resolved_at.desc()).limit(bindparam("shown", type_=Integer)))


def recent(session: Session, unit_id: int, *, limit: int = RECENT_SHOWN) -> list[Resolved]:
    """What the unit finished lately (resolved or closed while with it), the latest first."""
    return [Resolved(number, _title(title, name, confidential), resolved_at)
            for number, title, name, confidential, resolved_at
            in session.execute(_RECENT, {"unit": unit_id, "shown": limit})]


@dataclass(frozen=True)
class Answered:
    number: str
    title: str                  # masked as the unit's staff see the ticket (staff_view)
    part: str                   # the part's role: co (协办) or forward (二次派单)
    answered_at: dt.datetime


# The unit's answered parts from their partial index (unit, reply time), the latest first.
_ANSWERED = (select(Ticket.number, Ticket.title, Ticket.name, Ticket.confidential, Transfer.role,
                    Transfer.resolved_at, parts.left_unit(Ticket.__table__, bindparam("unit")))
             .join(Ticket, Ticket.id == Transfer.ticket_id)
             .where(Transfer.unit_id == bindparam("unit"), Transfer.part_reply.is_not(None))
             .order_by(Transfer.resolved_at.desc(), Transfer.id.desc()).limit(bindparam("shown", type_=Integer)))


def answered(session: Session, unit_id: int, *, limit: int = RECENT_SHOWN) -> list[Answered]:
    """The parts (协办, 二次派单) the unit answered lately, the latest first: once answered,
    a part leaves the inbox's lines, and this is where the unit finds it again. A ticket that
    has left the unit reads as on its page: the citizen masked, as on a 保密 ticket."""
    return [Answered(number, _title(title, name, bool(confidential) or bool(left)), role, answered_at)
            for number, title, name, confidential, role, answered_at, left
            in session.execute(_ANSWERED, {"unit": unit_id, "shown": limit})]
