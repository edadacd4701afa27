"""Notices to supervisors, in the notices table beside the units' (dispatch/notices.py): what
concerns them, told once each, shown on /supervisor/notices until read.

Addressed as a unit's notices are, to whoever must act or wanted to know:
- the supervisor who escalated (staff_id): the unit answered their 督办 with a progress note
  (督办已反馈), and a ticket they escalated was resolved (each who escalated it);
- every supervisor (role): a 延期申请, 改派申请 or 先行办结申请 waits for a decision. Read by one,
  read for all, as a unit's notice is for all its staff; the decision settles it.

The scheduler's 督办 (no staff member behind it) tells nobody here. Nothing here commits.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging

from sqlalchemy import ColumnElement, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.actors import SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.errors import PermissionDenied, Reason
from dispatch.masking import mask_text
from dispatch.models import Dispute, ExtensionRequest, Notice, StaffUser, Ticket, TicketEvent, Unit
from dispatch.notices import ADDITION_QUOTED_CHARS, Addressees, Latest, NoticeKind, NoticeView
from dispatch.paging import COUNT_LIMIT, Bounded, Keyset, Page, keyset_page, page_of
from dispatch.vocabulary import (
    DISPUTE_REQUEST_NOTICE_ZH,
    ESCALATED_RESOLVED_NOTICE_ZH,
    ESCALATION_ANSWERED_NOTICE_ZH,
    EXTENSION_REQUEST_NOTICE_ZH,
    OVERRIDE_REQUEST_NOTICE_ZH,
    Role,
)

log = logging.getLogger(__name__)

# The role a waiting request is addressed to: supervisors decide them (admins may too, and
# read these as supervisors do).
DECIDERS = Role.SUPERVISOR
KINDS = frozenset({NoticeKind.ESCALATION_ANSWERED, NoticeKind.ESCALATED_RESOLVED, NoticeKind.EXTENSION_REQUEST,
                   NoticeKind.DISPUTE_REQUEST, NoticeKind.OVERRIDE_REQUEST})


def tell(session: Session, kind: NoticeKind, key: str, text: str, *, staff_id: int | None = None,
         role: Role | None = None, ticket: Ticket | None = None, now: dt.datetime | None = None) -> Notice | None:
    """Tell one staff member (staff_id) or a role once: the new notice, or None when one with
    this key was already told to them (the unique (staff, key) or (role, key) decides a race)."""
    if (staff_id is None) == (role is None):
        raise ValueError("a notice to supervisors is addressed to one staff member or one role")
    now = now or utcnow()
    if ticket is not None and ticket.confidential:
        text = mask_text(text, [ticket.name] if ticket.name else [])
    addressee = Notice.staff_id == staff_id if staff_id is not None else Notice.role == role.value  # type: ignore[union-attr]
    if session.scalar(select(Notice.id).where(addressee, Notice.key == key)) is not None:
        return None
    notice = Notice(staff_id=staff_id, role=role.value if role else None, ticket_id=ticket.id if ticket else None,
                    kind=kind.value, key=key, text=text, created_at=now)
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:
        return None
    log.info("supervisor told", extra={"event": f"notice_{kind.value}", "staff": staff_id,
                                       "role": role.value if role else None,
                                       "ticket": ticket.number if ticket else None})
    return notice


def _quoted(note: str | None) -> str:
    note = " ".join((note or "").split())
    return note if len(note) <= ADDITION_QUOTED_CHARS else note[:ADDITION_QUOTED_CHARS - 1] + "…"


def _unit_name(session: Session, unit_id: int | None) -> str:
    unit = session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit is not None else ""


# ---- (a), (c): to the supervisor who escalated ----------------------------------------------

def tell_escalation_answered(session: Session, ticket: Ticket, note: TicketEvent, *,
                             now: dt.datetime | None = None) -> Notice | None:
    """督办已反馈: the progress note answered a supervisor's 督办 (progress.report_progress marks
    the first note after it): that supervisor hears the unit's words. A scheduler's 督办: nobody."""
    answered = (note.data or {}).get("answers_escalation")
    chased = session.get(TicketEvent, answered) if answered else None
    if chased is None or chased.actor_id is None:
        return None
    text = ESCALATION_ANSWERED_NOTICE_ZH.format(number=ticket.number, title=ticket.title,
                                                unit=_unit_name(session, note.unit_id), note=_quoted(note.note))
    return tell(session, NoticeKind.ESCALATION_ANSWERED, f"escalation_answered:event:{note.id}", text,
                staff_id=chased.actor_id, ticket=ticket, now=now)


def escalated_by(session: Session, ticket: Ticket) -> list[int]:
    """The staff members who escalated the ticket (the scheduler's 督办 has none), by id."""
    return list(session.scalars(select(TicketEvent.actor_id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "escalate", TicketEvent.actor_id.is_not(None))
        .distinct().order_by(TicketEvent.actor_id)))


def tell_escalated_resolved(session: Session, ticket: Ticket, resolved: TicketEvent, *,
                            now: dt.datetime | None = None) -> list[Notice]:
    """A ticket escalated by supervisors was resolved: each of them hears it, once per 办结."""
    text = ESCALATED_RESOLVED_NOTICE_ZH.format(number=ticket.number, title=ticket.title,
                                               unit=_unit_name(session, resolved.unit_id or ticket.unit_id))
    told = [tell(session, NoticeKind.ESCALATED_RESOLVED, f"escalated_resolved:event:{resolved.id}", text,
                 staff_id=staff_id, ticket=ticket, now=now) for staff_id in escalated_by(session, ticket)]
    return [notice for notice in told if notice is not None]


# ---- (b): to every supervisor, a request waiting for a decision -----------------------------

def extension_key(request: ExtensionRequest) -> str:
    return f"{NoticeKind.EXTENSION_REQUEST.value}:request:{request.id}"


def dispute_key(dispute: Dispute) -> str:
    return f"{NoticeKind.DISPUTE_REQUEST.value}:dispute:{dispute.id}"


def override_key(request_event_id: int) -> str:
    return f"{NoticeKind.OVERRIDE_REQUEST.value}:event:{request_event_id}"


def tell_extension_requested(session: Session, ticket: Ticket, request: ExtensionRequest, *,
                             now: dt.datetime | None = None) -> Notice | None:
    text = EXTENSION_REQUEST_NOTICE_ZH.format(unit=_unit_name(session, request.unit_id), number=ticket.number,
                                              title=ticket.title, days=request.working_days,
                                              note=_quoted(request.reason))
    return tell(session, NoticeKind.EXTENSION_REQUEST, extension_key(request), text, role=DECIDERS, ticket=ticket,
                now=now)


def tell_dispute_raised(session: Session, ticket: Ticket, dispute: Dispute, *,
                        now: dt.datetime | None = None) -> Notice | None:
    text = DISPUTE_REQUEST_NOTICE_ZH.format(unit=_unit_name(session, dispute.unit_id), number=ticket.number,
                                            title=ticket.title, note=_quoted(dispute.reason))
    return tell(session, NoticeKind.DISPUTE_REQUEST, dispute_key(dispute), text, role=DECIDERS, ticket=ticket, now=now)


def tell_override_requested(session: Session, ticket: Ticket, request: TicketEvent, *,
                            now: dt.datetime | None = None) -> Notice | None:
    text = OVERRIDE_REQUEST_NOTICE_ZH.format(unit=_unit_name(session, request.unit_id), number=ticket.number,
                                             title=ticket.title, note=_quoted(request.note))
    return tell(session, NoticeKind.OVERRIDE_REQUEST, override_key(request.id), text, role=DECIDERS, ticket=ticket,
                now=now)


def _read_now(now: dt.datetime | None) -> ColumnElement[dt.datetime]:
    """As SQL: when the notice was read, else now (a settled notice keeps the moment it was read)."""
    return func.coalesce(Notice.read_at, literal(now or utcnow(), Notice.read_at.type))


class Settled(str, enum.Enum):
    """How a request's notice was done with (Notice.settled)."""

    DECIDED = "decided"   # a supervisor (or admin) decided the request: Notice.settled_by
    LAPSED = "lapsed"     # the ticket left the unit's hands first: nothing left to decide


def settle(session: Session, key: str, *, by: int | None = None, how: Settled = Settled.DECIDED,
           now: dt.datetime | None = None) -> int:
    """A request decided (by: the staff id of who decided; None, the system) or, how=LAPSED,
    waiting for nobody now: its notice to every supervisor is marked read, if it was not, and
    says how it was done with. Returns how many notices were settled."""
    result = session.execute(update(Notice).where(Notice.role == DECIDERS.value, Notice.key == key,
                                                  Notice.settled.is_(None))
                             .values(read_at=_read_now(now), settled=how.value,
                                     settled_by=by if how is Settled.DECIDED else None)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


REQUEST_KINDS = (NoticeKind.EXTENSION_REQUEST.value, NoticeKind.DISPUTE_REQUEST.value,
                 NoticeKind.OVERRIDE_REQUEST.value)


def settle_requests_of(session: Session, ticket: Ticket, *, now: dt.datetime | None = None) -> int:
    """The ticket left its unit's hands (resolved, taken back by an upheld 改派申请, returned,
    sent to another unit, or merged): a request of the
    unit still waiting lapsed with it, and its notice asks nothing more of anyone."""
    result = session.execute(update(Notice).where(Notice.role == DECIDERS.value, Notice.ticket_id == ticket.id,
                                                  Notice.kind.in_(REQUEST_KINDS), Notice.settled.is_(None))
                             .values(read_at=_read_now(now),
                                     settled=Settled.LAPSED.value)
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def settled_on(session: Session, numbers: frozenset[str] | None, *, most: int = 500) -> Addressees | None:
    """Whom to tell that notices on these changed tickets may have been settled: a request is
    decided or lapses only with a change of its ticket (an event), so the watcher asks here
    for the tickets it saw change, and the supervisors' open lists and header counts fetch
    theirs again (已处理, one unread fewer) rather than wait for their next page. None: no
    settled notice on them; numbers None (too many to say): every supervisor."""
    if numbers is None:
        return Addressees(frozenset(), frozenset(), None, None)
    if not numbers:
        return None
    rows = session.execute(select(Notice.id, Notice.staff_id, Notice.role)
                           .join(Ticket, Ticket.id == Notice.ticket_id)
                           .where(Ticket.number.in_(sorted(numbers)), Notice.unit_id.is_(None),
                                  Notice.settled.is_not(None)).limit(most + 1)).all()
    if not rows:
        return None
    ids = frozenset(row[0] for row in rows)
    if len(rows) > most:
        return Addressees(ids, frozenset(), None, None)
    return Addressees(ids, frozenset(), frozenset(r[1] for r in rows if r[1] is not None),
                      frozenset(r[2] for r in rows if r[2]))


# ---- reading --------------------------------------------------------------------------------

def addressed_to(actor: Actor) -> ColumnElement[bool]:
    """As SQL: the notices this supervisor (or admin) may read: their own and their role's.
    Anyone else (unit staff, operators) is refused: a unit reads its own through notices."""
    require_role(actor, SUPERVISING_ROLES, "read supervisors' notices")
    if actor.user_id is None:   # the system: nobody's notices
        raise PermissionDenied(Reason.ROLE_NOT_ALLOWED, actor=actor.label, role="system",
                               what="read supervisors' notices")
    return or_(Notice.staff_id == actor.user_id, Notice.role == DECIDERS.value)


def unread(session: Session, actor: Actor, *, count_limit: int = COUNT_LIMIT) -> Bounded:
    """How many of the actor's notices are unread, up to count_limit ("1000+")."""
    found = select(Notice.id).where(addressed_to(actor), Notice.read_at.is_(None)).limit(count_limit + 1).subquery()
    return Bounded.of(int(session.scalar(select(func.count()).select_from(found)) or 0), count_limit)


def latest(session: Session, actor: Actor, *, shown: int = 20, count_limit: int = COUNT_LIMIT) -> Latest:
    """The actor's newest `shown` notices and how many are unread."""
    rows = session.execute(select(Notice, Ticket.number).outerjoin(Ticket, Ticket.id == Notice.ticket_id)
                           .where(addressed_to(actor)).order_by(Notice.id.desc()).limit(shown)).all()
    deciders = _deciders(session, [n for n, _ in rows])
    views = [_view(n, number, deciders) for n, number in rows]
    return Latest(views, unread(session, actor, count_limit=count_limit))


def _deciders(session: Session, found: list[Notice]) -> dict[int, str]:
    """The display names of who decided the requests these notices are about, by staff id."""
    ids = {n.settled_by for n in found if n.settled_by is not None}
    return dict(session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))).all()) \
        if ids else {}


def _view(notice: Notice, number: str | None, deciders: dict[int, str]) -> NoticeView:
    return NoticeView(notice.id, notice.unit_id, number, notice.kind, notice.text, notice.created_at, notice.read_at,
                      settled=notice.settled,
                      settled_by=deciders.get(notice.settled_by) if notice.settled_by is not None else None)


def listed(session: Session, actor: Actor, *, unread_only: bool = False, page: int = 1, page_size: int = 50,
           count_limit: int | None = None, past_count: bool = False, after: Keyset | None = None) -> Page[NoticeView]:
    """The actor's notices (their own and their role's), newest first, paged as the units'
    list is (notices.listed): a page number, or `after` a cursor (notices.next_cursor)."""
    statement = select(Notice).where(addressed_to(actor)).order_by(Notice.id.desc())
    if unread_only:
        statement = statement.where(Notice.read_at.is_(None))
    if after is not None:
        found = keyset_page(session, statement.where(Notice.id < after.id), page_size)
    else:
        found = page_of(session, statement, page, page_size, count_limit=count_limit, past_count=past_count)
    ids = {n.ticket_id for n in found.items if n.ticket_id is not None}
    numbers = dict(session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all()) if ids else {}
    deciders = _deciders(session, list(found.items))
    views = [_view(n, numbers.get(n.ticket_id) if n.ticket_id is not None else None, deciders) for n in found.items]
    return Page(views, found.page, found.pages, found.total, found.more, following=found.following,
                keyset=found.keyset)


def mark_read(session: Session, actor: Actor, notice_ids: list[int] | None = None, *,
              now: dt.datetime | None = None) -> int:
    """Mark the actor's notices read (all unread ones when no ids are given); a unit's or
    another supervisor's own ids are left alone. Returns how many changed."""
    statement = update(Notice).where(addressed_to(actor), Notice.read_at.is_(None))
    if notice_ids is not None:
        statement = statement.where(Notice.id.in_(notice_ids))
    result = session.execute(statement.values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
