"""Notices to units: a row in the unit's inbox and, for the kinds worth a text, an SMS to
the unit's duty phone through the outbox (same caps as every notification).

Each notice has a key (what it is about: the ticket, the kind, the deadline or step) and
the unique (unit, key) makes it once only: a job run twice, or by two processes at once,
tells a unit once. tell() inserts in a savepoint so that a lost race costs nothing but
the notice that was already there.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, exists, func, literal_column, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import outbox, parts
from dispatch.actors import SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import CHINA, api_time, this_year, utcnow
from dispatch.masking import mask_text
from dispatch.models import Notice, Ticket, TicketEvent, Transfer, Unit
from dispatch.paging import COUNT_LIMIT, Bounded, Keyset, Page, cursor_of, keyset_page, page_of
from dispatch.states import FINISHED_STATES, UNIT_STATES, State
from dispatch.vocabulary import (
    ADDITION_ZH,
    CORRECTED_ZH,
    CORRECTION_FIELDS_ZH,
    DECISION_NOTE_ZH,
    DISPUTE_REFUSED_ZH,
    DISPUTE_UPHELD_ZH,
    ESCALATED_ZH,
    EXTENSION_APPROVED_ZH,
    EXTENSION_REFUSED_ZH,
    FORWARD_WITHDRAWN_ZH,
    NEW_DEADLINE_ZH,
    NOTICE_TIME_FORMAT_ZH,
    NOTICE_YEAR_TIME_FORMAT_ZH,
    REOPENED_BY_DISPATCH_ZH,
    REOPENED_ZH,
    TRANSFERRED_ZH,
    UNIT_SIGNATURE_ZH,
    Role,
)

log = logging.getLogger(__name__)


class NoticeKind(enum.StrEnum):
    NEAR_DUE = "near_due"       # 临期预警
    OVERDUE = "overdue"         # 超期
    ESCALATION = "escalation"   # 督办, by a supervisor or the scheduler
    DIGEST = "digest"           # the day's list of what is near due
    CO_HANDLING = "co_handling"  # 协办: a part of a transfer for this unit
    FORWARDED = "forwarded"     # 二次派单: the parent unit forwarded a ticket here
    PART = "part"               # to the lead: a part was replied to or returned
    KB_REVIEW = "kb_review"     # a knowledge base article past its review-by date
    EXTENSION = "extension"     # 延期: a supervisor approved or refused the unit's request
    DISPUTE = "dispute"         # 改派申请: a supervisor upheld or refused the unit's request
    OVERRIDE = "override"       # 先行办结申请: a supervisor agreed to or refused the lead's request
    ADDITION = "addition"       # 市民补充: the citizen added to the ticket
    CORRECTED = "corrected"     # 修改受理信息: a supervisor corrected the ticket the unit holds
    TRANSFERRED = "transferred"  # 转办: a new ticket for the unit to accept
    REOPENED = "reopened"       # 重办: the unit's resolved ticket came back (unsatisfied, or dispatch)
    # To supervisors (dispatch/staff_notices.py), not to a unit:
    ESCALATION_ANSWERED = "escalation_answered"  # 督办已反馈: to the one who escalated
    ESCALATED_RESOLVED = "escalated_resolved"    # 督办件已办结: to each who escalated it
    EXTENSION_REQUEST = "extension_request"      # 延期申请 waiting for a decision: to every supervisor
    DISPUTE_REQUEST = "dispute_request"          # 改派申请 waiting for a decision: to every supervisor
    OVERRIDE_REQUEST = "override_request"        # 先行办结申请 waiting for a decision: to every supervisor


# Texted to the duty phone too. A near-due ticket is texted in the day's digest instead of
# one text per ticket, so a busy unit's phone is not flooded (and stays under the caps).
TEXTED = frozenset({NoticeKind.OVERDUE, NoticeKind.ESCALATION, NoticeKind.DIGEST})


def tell(session: Session, unit: Unit, kind: NoticeKind, key: str, text: str, *,
         ticket: Ticket | None = None, now: dt.datetime | None = None) -> Notice | None:
    """Tell the unit once: the new notice, or None when one with this key was already told."""
    now = now or utcnow()
    if ticket is not None and ticket.confidential:
        # 保密: the unit's pages mask the citizen's name and numbers, and so does every notice
        # (the title and a quoted addition may hold them).
        text = mask_text(text, [ticket.name] if ticket.name else [])
    notice = Notice(unit_id=unit.id, ticket_id=ticket.id if ticket else None, kind=kind.value, key=key,
                    text=text, created_at=now)
    # Cheap check first; the unique key still decides when two processes race.
    if session.scalar(select(Notice.id).where(Notice.unit_id == unit.id, Notice.key == key)) is not None:
        return None
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:
        return None
    if kind in TEXTED and unit.duty_phone:
        outbox.enqueue_unit_text(session, unit.duty_phone, f"unit_{kind.value}", _sms_text(text),
                                 ticket_id=ticket.id if ticket else None, number=ticket.number if ticket else "",
                                 now=now)
    log.info("unit told", extra={"event": f"notice_{kind.value}", "unit": unit.code,
                                 "ticket": ticket.number if ticket else None})
    return notice


# Keys asked for at once by already_told (well under SQLite's bound parameters).
KEYS_A_STATEMENT = 500


def already_told(session: Session, wanted: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (unit id, key) notices exist: one statement per KEYS_A_STATEMENT keys, where tell()'s
    own check is one per notice (the scheduler's pass asks about every near-due ticket, nearly
    all told before)."""
    found: set[tuple[int, str]] = set()
    units, keys = sorted({unit for unit, _ in wanted}), sorted({key for _, key in wanted})
    for start in range(0, len(keys), KEYS_A_STATEMENT):
        # Both columns of the unique (unit, key) index, so that it is read, not the table.
        found.update((unit, key) for unit, key in session.execute(select(Notice.unit_id, Notice.key).where(
            Notice.unit_id.in_(units), Notice.key.in_(keys[start:start + KEYS_A_STATEMENT]))))
    return found & set(wanted)


def told_at(session: Session, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], dt.datetime]:
    """When each (unit id, key) notice of `wanted` that exists was told, asked as already_told."""
    found: dict[tuple[int, str], dt.datetime] = {}
    units, keys = sorted({unit for unit, _ in wanted}), sorted({key for _, key in wanted})
    for start in range(0, len(keys), KEYS_A_STATEMENT):
        found.update(((unit, key), at) for unit, key, at in session.execute(
            select(Notice.unit_id, Notice.key, Notice.created_at).where(
                Notice.unit_id.in_(units), Notice.key.in_(keys[start:start + KEYS_A_STATEMENT]))))
    asked = set(wanted)
    return {pair: at for pair, at in found.items() if pair in asked}


def _sms_text(text: str) -> str:
    return UNIT_SIGNATURE_ZH + text


def local_time(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """A notice's time, China time; the year written when it is not `now`'s year."""
    return moment.astimezone(CHINA).strftime(NOTICE_TIME_FORMAT_ZH if this_year(moment, now)
                                             else NOTICE_YEAR_TIME_FORMAT_ZH)


def tell_escalation(session: Session, ticket: Ticket, event: TicketEvent, *, now: dt.datetime | None = None) -> Notice | None:
    """A supervisor's 督办: the unit holding the ticket hears of it like any other notice."""
    unit = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if unit is None:
        return None
    text = ESCALATED_ZH.format(number=ticket.number, note=event.note or "").rstrip("：")
    return tell(session, unit, NoticeKind.ESCALATION, f"escalation:event:{event.id}", text, ticket=ticket, now=now)


# How much of a citizen's addition the notice quotes: the whole is on the ticket's timeline.
ADDITION_QUOTED_CHARS = 60


def tell_corrected(session: Session, ticket: Ticket, event: TicketEvent, *,
                   now: dt.datetime | None = None) -> Notice | None:
    """The unit holding the ticket hears that what it was sent changed (修改受理信息 by a
    supervisor after the transfer): it may be working from the old place or words."""
    unit = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    changes = (event.data or {}).get("changes") or {}
    if unit is None or not changes or State(ticket.state) not in UNIT_STATES:
        return None
    fields = "、".join(CORRECTION_FIELDS_ZH.get(name, name) for name in changes)
    text = CORRECTED_ZH.format(number=ticket.number, fields=fields, title=ticket.title)
    return tell(session, unit, NoticeKind.CORRECTED, f"corrected:event:{event.id}", text, ticket=ticket, now=now)


def tell_addition(session: Session, ticket: Ticket, event: TicketEvent, *,
                  now: dt.datetime | None = None) -> Notice | None:
    """The citizen added to their ticket (市民补充): the unit holding it hears of it, with the
    start of the words. A ticket with no unit yet is in the operators' queue, where they see it."""
    unit = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if unit is None:
        return None
    note = " ".join((event.note or "").split())
    if len(note) > ADDITION_QUOTED_CHARS:
        note = note[:ADDITION_QUOTED_CHARS - 1] + "…"
    text = ADDITION_ZH.format(number=ticket.number, note=note)
    return tell(session, unit, NoticeKind.ADDITION, f"addition:event:{event.id}", text, ticket=ticket, now=now)


def tell_new_work(session: Session, ticket: Ticket, event: TicketEvent, *,
                  now: dt.datetime | None = None) -> Notice | None:
    """New work in the unit's inbox, told like every other notice: a transfer to the unit,
    or a 重办 (the citizen unsatisfied, or dispatch) of its ticket. Other events: nothing."""
    unit = session.get(Unit, event.unit_id) if event.unit_id else None
    if unit is None or event.action not in ("transfer", "reopen"):
        return None
    if event.action == "transfer":
        kind, text = NoticeKind.TRANSFERRED, TRANSFERRED_ZH
    else:
        kind = NoticeKind.REOPENED
        text = REOPENED_ZH if (event.data or {}).get("rating") else REOPENED_BY_DISPATCH_ZH
    return tell(session, unit, kind, f"{kind.value}:event:{event.id}",
                text.format(number=ticket.number, title=ticket.title), ticket=ticket, now=now)


def tell_extension_decided(session: Session, ticket: Ticket, event: TicketEvent, *,
                           now: dt.datetime | None = None) -> Notice | None:
    """The unit that asked for more time hears the decision, and the new deadline."""
    deadline = local_time(ticket.deadline, now) if ticket.deadline else ""
    if (event.data or {}).get("approved"):
        until = NEW_DEADLINE_ZH.format(deadline=deadline) if deadline else ""
        text = EXTENSION_APPROVED_ZH.format(number=ticket.number, until=until)
    else:
        text = EXTENSION_REFUSED_ZH.format(number=ticket.number, deadline=deadline)
    return _tell_decision(session, ticket, event, NoticeKind.EXTENSION, text, now)


def tell_dispute_decided(session: Session, ticket: Ticket, event: TicketEvent, *,
                         now: dt.datetime | None = None) -> Notice | None:
    """The unit that asked for re-dispatch (改派申请) hears the decision and why."""
    upheld = (event.data or {}).get("approved")
    text = (DISPUTE_UPHELD_ZH if upheld else DISPUTE_REFUSED_ZH).format(number=ticket.number)
    return _tell_decision(session, ticket, event, NoticeKind.DISPUTE, text, now)


def tell_forward_withdrawn(session: Session, ticket: Ticket, part_id: int, *,
                           now: dt.datetime | None = None) -> Notice | None:
    """The parent resolved while its sub-unit's part was open (lifecycle's withdraw_forward):
    the notice that gave the part is settled, and the sub-unit hears it need not go on."""
    part = session.get(Transfer, part_id)
    unit = session.get(Unit, part.unit_id) if part is not None else None
    parent = session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    if unit is None or parent is None:
        return None
    settle(session, unit.id, f"forwarded:part:{part_id}", now=now)
    return tell(session, unit, NoticeKind.FORWARDED, f"forward_withdrawn:part:{part_id}",
                FORWARD_WITHDRAWN_ZH.format(parent=parent.name, number=ticket.number), ticket=ticket, now=now)


def _tell_decision(session: Session, ticket: Ticket, event: TicketEvent, kind: NoticeKind, text: str,
                   now: dt.datetime | None) -> Notice | None:
    """A supervisor's decision on what a unit asked for, told to the unit of the decision's
    event with the supervisor's words, once per event."""
    unit = session.get(Unit, event.unit_id) if event.unit_id else None
    if unit is None:
        return None
    if event.note:
        text += DECISION_NOTE_ZH.format(note=event.note)
    return tell(session, unit, kind, f"{kind.value}:event:{event.id}", text, ticket=ticket, now=now)


# ---- reading ----------------------------------------------------------------------------

def visible_unit(actor: Actor) -> int | None:
    """Whose notices the actor may read: unit staff their own unit's, supervisors and admins
    every unit's (None); operators none."""
    if actor.role is Role.UNIT_STAFF and actor.unit_id is not None:
        return actor.unit_id
    require_role(actor, SUPERVISING_ROLES, "read notices")
    return None


@dataclass(frozen=True)
class NoticeView:
    id: int
    unit_id: int | None         # None: a supervisor's notice (dispatch/staff_notices.py)
    ticket_number: str | None
    kind: str
    text: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    # About a ticket finished since (resolved, closed ...), or one that has left the unit
    # (transferred elsewhere, returned, taken back by 改派, its part answered or withdrawn):
    # nothing left to act on, so the unit's page shows it as done and leaves it out of the
    # unread count (see latest()).
    ticket_finished: bool = False
    ticket_left_unit: bool = False
    # Of a ticket that has left the unit: the role (co, forward) of the part the unit answered,
    # when that is why it left (its part done, not the ticket taken elsewhere); else None.
    part_answered: str | None = None
    # A supervisors' notice of a request (dispatch/staff_notices.py): "decided" or "lapsed"
    # once done with, and the display name of who decided it.
    settled: str | None = None
    settled_by: str | None = None

    @property
    def done(self) -> bool:
        return self.ticket_finished or self.ticket_left_unit

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "unit_id": self.unit_id, "ticket": self.ticket_number, "kind": self.kind,
                "text": self.text, "created_at": api_time(self.created_at),
                "read_at": api_time(self.read_at) if self.read_at else None,
                "ticket_finished": self.ticket_finished, "ticket_left_unit": self.ticket_left_unit,
                "part_answered": self.part_answered}


def listed(session: Session, *, unit_id: int | None, unread_only: bool = False, page: int = 1,
           page_size: int = 50, count_limit: int | None = None, past_count: bool = False,
           after: Keyset | None = None) -> Page[NoticeView]:
    """Newest first. unit_id None: every unit's (supervisors). `count_limit`, `past_count`: see
    page_of. `after`: the page after that notice (a cursor, next_cursor()), by id alone."""
    statement = select(Notice).order_by(Notice.id.desc())
    if unit_id is not None:
        statement = statement.where(Notice.unit_id == unit_id)
    else:   # units' notices only: supervisors' own are read through staff_notices
        statement = statement.where(Notice.unit_id.is_not(None))
    if unread_only:   # as the unit's page counts them: not those about a ticket done with
        if unit_id is None:
            about = Ticket.__table__.alias("about")
            done = exists().where(about.c.id == Notice.ticket_id, _done(about, Notice.unit_id))
            statement = statement.where(Notice.read_at.is_(None), ~done)
        else:
            statement = statement.where(Notice.id.in_(_unread_statement().params(unit=unit_id)))
    if after is not None:
        found = keyset_page(session, statement.where(Notice.id < after.id), page_size)
    else:
        found = page_of(session, statement, page, page_size, count_limit=count_limit, past_count=past_count)
    ids = [n.id for n in found.items if n.ticket_id is not None]
    about = Ticket.__table__.alias("about")
    tickets = {notice_id: (number, bool(finished), bool(left), answered)
               for notice_id, number, finished, left, answered in session.execute(
                   select(Notice.id, about.c.number, about.c.state.in_(_FINISHED), parts.left_unit(about, Notice.unit_id),
                          parts.answered_role(about, Notice.unit_id))
                   .join(about, about.c.id == Notice.ticket_id).where(Notice.id.in_(ids)))} if ids else {}
    views = []
    for n in found.items:
        number, finished, left, answered = tickets.get(n.id, (None, False, False, None))
        views.append(NoticeView(n.id, n.unit_id, number, n.kind, n.text, n.created_at, n.read_at,
                                ticket_finished=finished, ticket_left_unit=left,
                                part_answered=answered if left else None))
    return Page(views, found.page, found.pages, found.total, found.more, following=found.following,
                keyset=found.keyset)


NOTICES_CURSOR = "n"   # the kind a notices list's cursor names (paging.cursor_of)


def next_cursor(found: Page[NoticeView]) -> str | None:
    """After the page's last notice, while notices follow it."""
    return cursor_of(NOTICES_CURSOR, found.items[-1].id) if found.following and found.items else None


@dataclass(frozen=True)
class Latest:
    notices: list[NoticeView]   # newest first
    unread: Bounded


# A notice asks the unit to act on its ticket; once the ticket is finished, or has left the
# unit, there is nothing left for the unit to do, whether or not someone read it, so it is
# not counted as unread: the count matches the open work. It stays in the list, shown as
# done; read_at is left as it was (a ticket that comes back makes it count again).
_FINISHED = [literal_column(f"'{state.value}'") for state in sorted(FINISHED_STATES)]


def _done(tickets: Any, unit_id: Any) -> Any:
    """As SQL: nothing left for the unit to do on the ticket (finished, or left the unit)."""
    return or_(tickets.c.state.in_(_FINISHED), parts.left_unit(tickets, unit_id))


def _unread_statement() -> Any:
    """The unit's unread notices that still ask something of it, as three parts: about a ticket
    it holds, about one whose part it owes, about no ticket. Each starts from the unit's open
    work (its unfinished tickets, its owed parts), so the cost follows the unit's own tickets
    and notices; one OR over all tickets let PostgreSQL hash every ticket of the city."""
    unit = bindparam("unit")
    about = Ticket.__table__.alias("about")
    part = Transfer.__table__.alias("part")
    unread = and_(Notice.unit_id == unit, Notice.read_at.is_(None))
    unfinished = about.c.state.not_in(_FINISHED)
    held = select(Notice.id).join(about, about.c.id == Notice.ticket_id) \
        .where(unread, about.c.unit_id == unit, unfinished)
    owed = select(Notice.id).join(about, about.c.id == Notice.ticket_id) \
        .where(unread, about.c.unit_id.is_distinct_from(unit), unfinished,
               exists().where(part.c.unit_id == unit, part.c.ticket_id == about.c.id, parts.owed(part)))
    loose = select(Notice.id).where(unread, Notice.ticket_id.is_(None))
    return union_all(held, owed, loose)


def _latest_statement() -> Select[Any]:
    # Unread ones counted up to COUNT_LIMIT ("1000+"): a unit that never marks them read
    # gathers one a ticket, hundreds of thousands in a big city.
    unread = _unread_statement().limit(bindparam("upto", type_=Integer)).subquery()
    return (select(Notice.id, Notice.unit_id, Ticket.number, Notice.kind, Notice.text, Notice.created_at,
                   Notice.read_at, func.coalesce(Ticket.state.in_(_FINISHED), False),
                   and_(Ticket.id.is_not(None), parts.left_unit(Ticket.__table__, Notice.unit_id)),
                   parts.answered_role(Ticket.__table__, Notice.unit_id),
                   select(func.count()).select_from(unread).scalar_subquery())
            .outerjoin(Ticket, Ticket.id == Notice.ticket_id).where(Notice.unit_id == bindparam("unit"))
            .order_by(Notice.id.desc()).limit(bindparam("shown", type_=Integer)))


_LATEST = _latest_statement()


def latest(session: Session, unit_id: int, *, shown: int = 20, count_limit: int = COUNT_LIMIT) -> Latest:
    """The unit's newest `shown` notices and how many of all its notices are unread, in one
    statement (no notice: none unread)."""
    rows = session.execute(_LATEST, {"unit": unit_id, "upto": count_limit + 1, "shown": shown}).all()
    unread = int(rows[0][-1]) if rows else 0
    return Latest([NoticeView(*row[:-4], ticket_finished=bool(row[-4]), ticket_left_unit=bool(row[-3]),
                              part_answered=row[-2] if row[-3] else None)
                   for row in rows],
                  Bounded.of(unread, count_limit))


# The notices that are news about a ticket already in the unit's inbox, marked on its row.
NEWS_KINDS = (NoticeKind.ADDITION, NoticeKind.ESCALATION, NoticeKind.REOPENED)


def unread_news(session: Session, unit_id: int, numbers: list[str]) -> dict[str, list[str]]:
    """The kinds of the unit's unread news notices (NEWS_KINDS) about each of these tickets, by
    ticket number, in NEWS_KINDS' order: one statement for a page of the inbox."""
    found: dict[str, set[str]] = {}
    for number, kind in session.execute(
            select(Ticket.number, Notice.kind).join(Ticket, Ticket.id == Notice.ticket_id)
            .where(Notice.unit_id == unit_id, Notice.read_at.is_(None),
                   Notice.kind.in_([k.value for k in NEWS_KINDS]), Ticket.number.in_(numbers)).distinct()):
        found.setdefault(number, set()).add(kind)
    return {number: [k.value for k in NEWS_KINDS if k.value in kinds] for number, kinds in found.items()}


def mark_read(session: Session, unit_id: int, notice_ids: list[int] | None = None, *,
              now: dt.datetime | None = None) -> int:
    """Mark the unit's notices read (all unread ones when no ids are given); another unit's
    ids are left alone. Returns how many changed."""
    statement = update(Notice).where(Notice.unit_id == unit_id, Notice.read_at.is_(None))
    if notice_ids is not None:
        statement = statement.where(Notice.id.in_(notice_ids))
    result = session.execute(statement.values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def settle(session: Session, unit_id: int, key: str, *, now: dt.datetime | None = None) -> int:
    """Mark the unit's notice with this key read: what it asked for is no longer owed."""
    result = session.execute(update(Notice).where(Notice.unit_id == unit_id, Notice.key == key,
                                                  Notice.read_at.is_(None))
                             .values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Addressees:
    """Whom the notices of a stretch of ids are for; None (each): too many to say."""

    notices: frozenset[int]             # the ids read
    units: frozenset[int] | None
    staff: frozenset[int] | None
    roles: frozenset[str] | None

    def for_unit(self, unit_id: int | None) -> bool:
        return self.units is None or unit_id in self.units

    def for_staff(self, staff_id: int | None) -> bool:
        """A supervisor's or admin's list: theirs, or a role's (supervisors and admins read those)."""
        return self.staff is None or staff_id in self.staff or bool(self.roles)


def addressees(session: Session, after: int, upto: int, late: Collection[int] = (), most: int = 500) -> Addressees:
    """The notices with ids in (after, upto] and those of `late` (ids under `after` not yet
    committed when it was read), by whom they are for."""
    window = and_(Notice.id > after, Notice.id <= upto)
    rows = session.execute(select(Notice.id, Notice.unit_id, Notice.staff_id, Notice.role)
                           .where(or_(window, Notice.id.in_(list(late))) if late else window)
                           .limit(most + 1)).all()
    ids = frozenset(row[0] for row in rows)
    if len(rows) > most:
        return Addressees(ids, None, None, None)
    return Addressees(ids, frozenset(r[1] for r in rows if r[1] is not None),
                      frozenset(r[2] for r in rows if r[2] is not None), frozenset(r[3] for r in rows if r[3]))


def latest_id(session: Session) -> int:
    """The newest notice's id: the live pages' cue to fetch the list again."""
    return session.scalar(select(func.max(Notice.id))) or 0
