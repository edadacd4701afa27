"""Read-only lists the consoles and the public board show: a unit's inbox, tickets waiting
for dispatch, overdue and near-due tickets, search, daily series. No state changes here."""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, replace
from collections.abc import Collection
from typing import Any, NamedTuple

from sqlalchemy import (DateTime, Integer, Select, String, and_, bindparam, case, func, literal_column, or_, select,
                        type_coerce, union, union_all)
from sqlalchemy.orm import Session, defer

from dispatch import parts, rollup, text_search
from dispatch.unit_inbox import due_times, held, open_tickets
from dispatch.unit_inbox import due as due_by_deadline
from dispatch.clock import local_date, utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.kb_text import shown_reply
from dispatch.masking import mask_text
from dispatch.paging import COUNT_LIMIT, Bounded, Keyset, cursor_of
from dispatch.models import (AgentStatus, Call, ExtensionRequest, Ticket, TicketChannelRollup, TicketEvent, TicketRollup,
                             Transfer, Unit)
from dispatch.phone import as_ascii, bare_digits, normalise_phone
from dispatch.reports import Period
from dispatch.states import EXTENDABLE_STATES, FINISHED_STATES, State
from dispatch.vocabulary import Channel, ExtensionStatus

OPEN_STATES = tuple(s.value for s in State if s not in FINISHED_STATES)
NEAR_DUE = dt.timedelta(hours=24)


def _soonest_first(statement: Select[Any]) -> Select[Any]:
    # Tickets without a deadline go last: nothing is at stake for them.
    return statement.order_by(Ticket.deadline.is_(None), Ticket.deadline, Ticket.received_at)


def unit_inbox(session: Session, unit_id: int, *, limit: int = 200) -> list[Ticket]:
    """The tickets a unit has to act on (transferred to it, in progress, reopened), soonest deadline first."""
    return open_tickets(session, unit_id, limit=limit)


_AWAITING = (State.RECEIVED.value, State.RETURNED.value)


@dataclass(frozen=True)
class QueuedTicket:
    """A ticket waiting for dispatch, with what the console shows of it."""
    id: int
    number: str
    title: str
    state: str
    received_at: dt.datetime
    triage_reason: str | None   # why routing left it to the operator (manual triage)
    entry_path: str | None      # the catalogue entry routing proposed


@dataclass(frozen=True)
class DispatchQueue:
    tickets: list[QueuedTicket]   # the oldest first
    count: Bounded                # how many wait in all, up to COUNT_LIMIT


@functools.cache
def _queue_statement(limit: int) -> Select[Any]:
    # Each state read alone on the (state, received_at) index, oldest first, then merged: an
    # IN over both states cannot be read in order, and PostgreSQL walked the received_at
    # index through the whole city (a quarter of a second at 200,000 tickets) to find the
    # newest tickets it was after. The count reads the same index alone, up to the limit.
    oldest = union_all(*(select(select(Ticket.id, Ticket.received_at).where(Ticket.state == state)
                                .order_by(Ticket.received_at, Ticket.id).limit(limit).subquery())
                         for state in _AWAITING)).subquery()
    counted = union_all(*(select(select(Ticket.received_at).where(Ticket.state == state)
                                 .limit(COUNT_LIMIT + 1).subquery().c.received_at)
                          for state in _AWAITING)).subquery()
    routing = Ticket.routing
    return (select(Ticket.id, Ticket.number, Ticket.title, Ticket.state, Ticket.received_at,
                   case((routing["source"].as_string() == "manual", routing["reason"].as_string())),
                   routing[("entry", "path")].as_string(),
                   select(func.count()).select_from(counted).scalar_subquery())
            .join(oldest, oldest.c.id == Ticket.id)
            .order_by(oldest.c.received_at, oldest.c.id).limit(limit))


def dispatch_queue(session: Session, *, limit: int = 200) -> DispatchQueue:
    """Received but not yet answered or transferred, and returned tickets: the oldest
    `limit` of them, and how many wait in all. One statement."""
    rows = session.execute(_queue_statement(limit)).all()
    tickets = [QueuedTicket(*row[:7]) for row in rows]
    return DispatchQueue(tickets, Bounded.of(int(rows[0][7]) if rows else 0, COUNT_LIMIT))


def overdue(session: Session, *, now: dt.datetime | None = None, unit_id: int | None = None,
            limit: int = 500) -> list[Ticket]:
    """超期: open past the deadline, the longest overdue first."""
    statement = select(Ticket).where(Ticket.state.in_(OPEN_STATES), Ticket.deadline < (now or utcnow()))
    if unit_id is not None:
        statement = statement.where(Ticket.unit_id == unit_id)
    return list(session.scalars(_soonest_first(statement).limit(limit)))


def near_due(session: Session, *, now: dt.datetime | None = None, within: dt.timedelta = NEAR_DUE,
             unit_id: int | None = None, limit: int = 500) -> list[Ticket]:
    """Open tickets whose deadline falls within `within` from now, soonest first."""
    now = now or utcnow()
    statement = select(Ticket).where(Ticket.state.in_(OPEN_STATES), Ticket.deadline >= now,
                                     Ticket.deadline < now + within)
    if unit_id is not None:
        statement = statement.where(Ticket.unit_id == unit_id)
    return list(session.scalars(_soonest_first(statement).limit(limit)))


@dataclass(frozen=True)
class PendingExtension:
    request: ExtensionRequest
    ticket: Ticket
    unit_name: str


# A request waits for a supervisor while its ticket is still being handled by the unit that
# asked: one left behind by a resolution, a return, a transfer or a merge waits for nobody.
# With the request joined to its ticket.
WAITING_EXTENSION = and_(ExtensionRequest.status == ExtensionStatus.PENDING.value,
                         Ticket.state.in_([s.value for s in EXTENDABLE_STATES]),
                         Ticket.unit_id == ExtensionRequest.unit_id)


def pending_extensions(session: Session) -> list[PendingExtension]:
    rows = session.execute(select(ExtensionRequest, Ticket, Unit.name)
                           .join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                           .join(Unit, Unit.id == ExtensionRequest.unit_id)
                           .where(WAITING_EXTENSION)
                           .order_by(ExtensionRequest.requested_at))
    return [PendingExtension(request, ticket, name) for request, ticket, name in rows]


def pending_extension_of(session: Session, ticket_id: int) -> ExtensionRequest | None:
    return session.scalar(select(ExtensionRequest).join(Ticket, Ticket.id == ExtensionRequest.ticket_id)
                          .where(ExtensionRequest.ticket_id == ticket_id, WAITING_EXTENSION))


_NUMBER = re.compile(r"^\d{8}-\d+$")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{9,10}")
_NUMBER_PREFIX = re.compile(r"^[\d-]+$")


def search(session: Session, text: str, *, unit_id: int | None = None, limit: int = 50) -> list[Ticket]:
    """Tickets by number, phone (any part of it, in any spelling) or words of the title or
    body; newest first. `unit_id` keeps it to what is, or was, with one unit, and finds
    its confidential tickets by number only."""
    text = query_text(text)
    if not text:
        return []
    dialect = _dialect(session)
    statement = select(Ticket).where(_matches(text, unit_id, dialect, days=_days_for(session, text, dialect)))
    if unit_id is not None:
        statement = statement.where(_seen_by_unit(unit_id))
    return list(session.scalars(statement.order_by(Ticket.received_at.desc()).limit(limit)))


def query_text(text: str) -> str:
    """A search's text as matched: a number typed in full-width or any script's digits
    (１３８０３９１０００１, ０３９１－６６１２３４５) read as ASCII, as the intake's normalise_phone
    reads a phone, so that staff find a ticket however they type its phone or its number.
    Anything with words in it is left as typed."""
    text = text.strip()
    plain = as_ascii(text)
    bare = bare_digits(plain)
    return plain.strip() if bare.isascii() and bare.isdigit() else text


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _matches(text: str, unit_id: int | None, dialect: str, *, indexed: bool = True, days: range | None = None,
             by_day: bool = False) -> Any:
    # Only digits and dashes can be a ticket number. A word alone keeps the words' condition
    # at the top of the WHERE: with an OR above it PostgreSQL checks the index's condition
    # again on every row it reads, and computing a ticket's pairs costs a tenth of a millisecond.
    conditions = [Ticket.number == text] if _NUMBER_PREFIX.match(text) else []
    compact = _compact(text)
    if _phone_like(compact) and not _NUMBER.match(text):
        # A phone number or part of one: stored as +86..., typed as 138 1234 5678 or 0391-...
        national = _national(compact)
        whole = _whole_phone(national)
        if whole is not None:
            # A whole number is the caller's: its tickets by the phone index, not by a
            # substring of every phone and text (tens of ms of trigrams at a million).
            return or_(Ticket.number == text, Ticket.phone == whole) if unit_id is None else \
                or_(Ticket.number == text, and_(_citizen_shown(unit_id), Ticket.phone == whole))
        conditions.append(Ticket.phone.contains(national.removeprefix("0"), autoescape=True))
    if not _NUMBER.match(text):
        conditions.append(text_search.words_match(text, dialect, indexed=indexed, days=days, by_day=by_day))
        if _NUMBER_PREFIX.match(text):
            # Only digits and dashes can begin a number; a word never does, and leaving it
            # out keeps the words' indexes usable (a prefix LIKE has none under C.UTF-8).
            conditions.append(Ticket.number.startswith(text, autoescape=True))
    if unit_id is not None:
        # A unit may not learn who filed a confidential ticket, or one that has left it: those
        # match by number only.
        by_number, others = (conditions[:1], conditions[1:]) if _NUMBER_PREFIX.match(text) else ([], conditions)
        conditions = [*by_number, and_(_citizen_shown(unit_id), or_(*others))] if others else by_number
    return or_(*conditions) if len(conditions) > 1 else conditions[0]


def _citizen_shown(unit_id: Any) -> Any:
    """As SQL: the unit may see who filed the ticket: not a confidential one, nor one that has
    left the unit (staff_view shows it to the unit with the citizen hidden)."""
    return and_(Ticket.confidential.is_(False), ~parts.left_unit(Ticket.__table__, unit_id))


def _compact(text: str) -> str:
    """A number as typed without its spaces, dashes, dots, plus sign and brackets (138 1234 5678),
    the separators normalise_phone reads."""
    return bare_digits(text)


def _national(compact: str) -> str:
    """A phone's digits without the country code typed before them (86, 0086)."""
    if compact.startswith("0086"):
        return compact[4:]
    return compact.removeprefix("86") if len(compact) > 11 else compact


def _phone_like(compact: str) -> bool:
    """Whether _matches looks for a text, as _compact gives it, among the phones too."""
    return compact.isdigit() and len(compact) >= 4


def _whole_phone(digits: str) -> str | None:
    """The stored (E.164) form of a whole Chinese mobile or landline number, else None."""
    if not (_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits)):
        return None
    try:
        return normalise_phone(digits)
    except InvalidInput:
        return None


def _seen_by_unit(unit_id: int) -> Any:
    """What is, or was, with the unit (the rule of staff_view.may_see, as SQL)."""
    return or_(Ticket.unit_id == unit_id,
               Ticket.id.in_(select(Transfer.ticket_id).where(Transfer.unit_id == unit_id)))


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Any]   # Ticket, or with `brief` BriefTicket
    page: int
    pages: int
    total: int
    more: bool = False   # more than `total` match: the count stopped at COUNT_LIMIT
    following: bool = False   # rows follow this page (past COUNT_LIMIT too: a client pages on)
    keyset: bool = False   # read after a cursor: no page number, nothing counted

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.following and not self.keyset else None

    @property
    def next_cursor(self) -> str | None:
        """After this page's last ticket by the list's order, while tickets follow it."""
        if not self.following or not self.tickets:
            return None
        last = self.tickets[-1]
        return cursor_of(TICKETS_CURSOR, last.id, last.received_at)


TICKETS_CURSOR = "t"   # the kind a tickets list's cursor names (paging.cursor_of)


@dataclass(frozen=True)
class TicketFilter:
    """What a staff search asks for; empty fields do not filter. `period` is China days of
    receipt."""

    text: str = ""
    state: str | None = None
    unit_id: int | None = None
    channel: str | None = None
    period: Period | None = None
    # 超期 ("overdue") or 临期 ("near") as the unit inbox has them (unit_inbox.due), judged at
    # `at` (now when None).
    due: str | None = None
    at: dt.datetime | None = None
    # Tickets with an event at or after this moment (their last is): an integrator's sync.
    changed_since: dt.datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.state or self.unit_id is not None or self.channel or self.period
                    or self.due or self.changed_since)

    def due_times(self) -> tuple[dt.datetime, dt.datetime]:
        return due_times(self.at or utcnow())


def _listed_tickets(brief: bool = False) -> Select[Any]:
    return select(*BRIEF_COLUMNS) if brief else select(Ticket).options(defer(Ticket.routing, raiseload=True))


class BriefTicket(NamedTuple):
    """What a list of tickets shows of each (the search page), for a caller that asks `brief`:
    read as rows through Core, not as tickets through the ORM (fifty by id cost the app 0.30 ms
    of CPU as rows, 0.86 ms as tickets), and kept as named tuples, whose fields a template reads
    faster than a row's (0.2 ms a page of fifty)."""

    id: int
    number: str
    title: str
    confidential: bool
    state: str
    channel: str
    unit_id: int | None
    received_at: dt.datetime
    deadline: dt.datetime | None


BRIEF_COLUMNS = (Ticket.id, Ticket.number, Ticket.title, Ticket.confidential, Ticket.state, Ticket.channel,
                 Ticket.unit_id, Ticket.received_at, Ticket.deadline)   # BriefTicket's fields, in its order


def _read(session: Session, statement: Select[Any], values: dict[str, Any] | None = None, *,
          brief: bool) -> list[Any]:
    """The tickets `statement` selects, or (`brief`) its rows of BRIEF_COLUMNS as BriefTickets
    (through Core, as _received_days)."""
    if brief:
        return [BriefTicket._make(row) for row in session.connection().execute(statement, values or {})]
    return list(session.scalars(statement, values or {}))


def _filtered(wanted: TicketFilter, visible_to_unit: int | None, dialect: str, *, indexed: bool = True,
              window: Slice | None = None, brief: bool = False, span: range | None = None) -> Select[Any]:
    """The staff search as one statement, newest first; `window`: among the tickets received
    within that slice of time only; `span`: the days of every ticket, as _days_for gives them
    (the word index asks for them). Lists never show the classifier's routing: its JSON is left
    unread (decoding it was 6.7 ms of a 50-ticket page), and reading it from a listed ticket
    raises. `brief`: BRIEF_COLUMNS instead of the tickets."""
    period = (wanted.period.start, wanted.period.end) if wanted.period is not None else None
    text = wanted.text.strip()
    index_asked = indexed and dialect == "postgresql" and text_search.indexable(text)
    due = (wanted.due, *wanted.due_times()) if wanted.due else None
    statement = _narrowed(_listed_tickets(brief), visible_to_unit, wanted.state or None, wanted.unit_id,
                          wanted.channel or None, period, by_words=index_asked and _by_words(text), due=due)
    # A slice's days listed to the word index keep it alone: with received_at beside them the
    # planner may read the slice by time and compute every ticket's words (0.1 ms each).
    by_day = window is not None and index_asked
    if window is not None and not by_day:
        if window.since is not None:
            statement = statement.where(Ticket.received_at >= window.since)
        if window.until is not None:
            statement = statement.where(Ticket.received_at < window.until)
    if text:
        days = window.days if window is not None and by_day else span
        statement = statement.where(_matches(text, visible_to_unit, dialect, indexed=indexed, days=days, by_day=by_day))
    if wanted.changed_since is not None:
        # Read from the events' index of time (ix_ticket_events_at_ticket_id): the tickets
        # changed since are few beside the city's.
        statement = statement.where(Ticket.id.in_(
            select(TicketEvent.ticket_id).where(TicketEvent.at >= wanted.changed_since)))
    return statement.order_by(Ticket.received_at.desc(), Ticket.id.desc())


def _narrowed(statement: Select[Any], visible_to_unit: Any, state: Any, unit_id: Any, channel: Any,
              period: tuple[Any, Any] | None, *, by_words: bool = False,
              due: tuple[str, Any, Any] | None = None) -> Select[Any]:
    """`statement` narrowed by what is not None: values, or bind parameters (_words_statement).
    `by_words`: read by the word index, its period bounds as _received_at_by_words writes them.
    `due`: (overdue or near, now, soon): 超期 or 临期 as the unit inbox has them."""
    if visible_to_unit is not None:
        statement = statement.where(_seen_by_unit(visible_to_unit))
    if state is not None:
        statement = statement.where(Ticket.state == state)
    if unit_id is not None:
        statement = statement.where(Ticket.unit_id == unit_id)
    if channel is not None:
        statement = statement.where(Ticket.channel == channel)
    if period is not None:
        at = _received_at_by_words() if by_words else Ticket.received_at
        statement = statement.where(at >= period[0], at < period[1])
    if due is not None:
        which, now, soon = due
        tickets = Ticket.__table__
        statement = statement.where(held(tickets), *due_by_deadline(which, tickets, now, soon))
        if visible_to_unit is not None:   # as its inbox: what the unit holds or owes a part of
            statement = statement.where(~parts.left_unit(tickets, visible_to_unit))
    return statement


def _received_at_by_words() -> Any:
    """received_at as a statement read by the word index bounds it, in a form no index of
    received_at serves: the planner could read the tickets by time and compute each one's
    words (0.1 ms a ticket; a search with a period took a second a statement for 垃圾 on ten
    million tickets). The index is asked for those days only (its day lexemes)."""
    return type_coerce(Ticket.received_at + literal_column("interval '0 seconds'"), Ticket.received_at.type)


def staff_tickets(session: Session, *, visible_to_unit: int | None = None, state: str | None = None,
                  unit_id: int | None = None, text: str = "", page: int = 1, page_size: int = 50,
                  wanted: TicketFilter | None = None, brief: bool = False, after: Keyset | None = None) -> TicketPage:
    """One page of tickets a staff member may see, newest first: all of them, or for unit
    staff (`visible_to_unit`) those that are or were with their unit; filtered by state,
    current unit and search text (as search() matches it), or by `wanted`. `brief`: each as a
    BriefTicket (what a list shows), not a ticket. `after`: the page after that ticket by the
    list's order (a cursor, TicketPage.next_cursor), read by the order alone: no OFFSET, no count."""
    wanted = wanted or TicketFilter(text=text, state=state, unit_id=unit_id)
    wanted = replace(wanted, text=query_text(wanted.text))
    if _by_words(wanted.text) and wanted.changed_since is not None:   # the word index lists by day of receipt alone
        raise InvalidInput("updated_since", Reason.NOT_WITH_WORDS)
    if after is not None:
        return _keyset_page(session, wanted, visible_to_unit, after, page_size, brief)
    if _by_words(wanted.text):
        found = _words_page(session, wanted, visible_to_unit, page, page_size, brief)
        # Whether a row follows a full page past the count is asked for that row alone.
        follows = len(found.tickets) == page_size and (page * page_size < found.total or found.more and bool(
            _words_page(session, wanted, visible_to_unit, page * page_size + 1, 1, brief=True).tickets))
        return replace(found, following=follows)
    dialect = _dialect(session)
    span = _days_for(session, wanted.text.strip(), dialect, wanted.period)
    statement = _filtered(wanted, visible_to_unit, dialect, span=span, brief=brief)
    if _by_digits(wanted.text) and page == 1:
        # A number or a phone matches a few tickets: a first page short of full is every
        # match, and its length the count (one statement instead of two).
        first = _read(session, statement.limit(page_size), brief=brief)
        if len(first) < page_size:
            return TicketPage(first, 1, 1, len(first))
    # Counting every match among millions of tickets costs seconds: count up to COUNT_LIMIT
    # and say "more" past it. The pages go on past it: one row more than the page says
    # whether another follows.
    total = _count(session, statement)
    offset = (page - 1) * page_size
    rows = _read(session, statement.offset(offset).limit(page_size + 1), brief=brief)
    return replace(_ticket_page(rows[:page_size], page, page_size, total), following=len(rows) > page_size)


def _keyset_page(session: Session, wanted: TicketFilter, visible_to_unit: int | None, after: Keyset,
                 page_size: int, brief: bool) -> TicketPage:
    """The tickets after `after` by (received_at, id), newest first. The bound is written so
    that received_at's index reads from it (received_at <= at) and the tie on id is settled
    among the rows of that one moment."""
    dialect = _dialect(session)
    statement = _filtered(wanted, visible_to_unit, dialect, brief=brief,
                          span=_days_for(session, wanted.text.strip(), dialect, wanted.period))
    statement = statement.where(Ticket.received_at <= after.at,
                                or_(Ticket.received_at < after.at, Ticket.id < after.id))
    rows = _read(session, statement.limit(page_size + 1), brief=brief)
    return TicketPage(rows[:page_size], 0, 0, 0, following=len(rows) > page_size, keyset=True)


def _by_digits(text: str) -> bool:
    """A whole ticket number or a whole phone number, as _matches reads them (a part of
    one may match thousands)."""
    text = text.strip()
    if _NUMBER.match(text):
        return True
    compact = _compact(text)
    return compact.isdigit() and _whole_phone(_national(compact)) is not None


def _by_words(text: str) -> bool:
    """Whether _matches reads `text` as words only (never as a number or a phone)."""
    text = text.strip()
    return bool(text) and not _NUMBER_PREFIX.match(text) and not _phone_like(_compact(text))


def _ticket_page(tickets: list[Any], page: int, page_size: int, counted: int) -> TicketPage:
    """`counted`: up to COUNT_LIMIT + 1, as _count gives it."""
    found = Bounded.of(counted, COUNT_LIMIT)
    return TicketPage(tickets, page, max(1, -(-found.value // page_size)), found.value, found.more)


def _count(session: Session, statement: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(
        statement.order_by(None).limit(COUNT_LIMIT + 1).subquery())) or 0)


@dataclass(frozen=True)
class Slice:
    """The tickets received from `since` (None: the oldest) to before `until` (None: up to
    now). On PostgreSQL the word index alone keeps a slice, by the days it lists (`days`; the
    newest slice lists the day after the newest ticket's too, for tickets received while the
    search runs)."""

    since: dt.datetime | None
    until: dt.datetime | None
    days: range


# A search by words lists its matches among the tickets of its newest day, then the 2 days
# before, then the rest of the word index's newest 30-day bucket, then the bucket before it,
# then every older day, and stops when the count passes COUNT_LIMIT. Asked for some days'
# tickets, the word index goes through the word's lists of the buckets those days fall in and
# lists those days' matches alone; the slices do not overlap, so no match is listed twice.
# Past the newest days a slice ends at a bucket's edge, so that no bucket's lists are gone
# through twice: on ten million tickets 公交车站's bucket cost the index 3.8 ms each time, and
# slices of the newest 10 and 30 days went through it twice (wrk c=32: slices of 1, 3, 10 and
# 30 days 159-170 requests/s, p95 256-274 ms; of 1 and 3 days, then 2 buckets, 192-195 and
# 226-228 ms).
NEWEST_DAYS = (1, 3)
NEWEST_BUCKETS = 2
# A word whose matches so far, as many a day on every day searched, stay under this share of
# COUNT_LIMIT is listed on every older day at once (_rare): it lists them all whichever way.
RARE_SHARE = 0.5
# A slice names up to this many of a bucket's days to the word index; more it keeps by time
# (text_search.words_query: each day named is a pass over its 66,000 tickets).
NAMED_DAYS = 7
# For the statements of a search by words (PostgreSQL): the list of a word's rows must stay
# exact (past work_mem it turns into a list of pages, and each row of those has its pairs
# computed again, 0.1 ms a row: 250 ms for 路灯's count on ten million); no JIT (its 18 ms of
# compiling is most of a count the planner guesses costly); no parallel workers (starting
# them costs more than these statements, and under load the cores are taken). Set for the
# transaction: a caller whose statements each commit by itself (Services.read) loses them.
SEARCH_SETTINGS = {"work_mem": "64MB", "jit": "off", "max_parallel_workers_per_gather": "0"}


def _received_days(session: Session, period: Period | None = None, *, settings: bool = False) -> range:
    """The days of the tickets received (within `period`), from the oldest's to the day after
    the newest's (for tickets received while a search runs); empty when there are none.
    `settings`: SEARCH_SETTINGS set for the rest of the transaction by the same statement
    (one round trip less for a search by words)."""
    params = {"start": period.start, "end": period.end} if period is not None else {}
    # Core, not the ORM's execute: its columns are no entities, and the ORM's path costs more Python.
    oldest, newest = session.connection().execute(_days_statement(settings, period is not None), params).one()[:2]
    if newest is None:
        return range(0)
    return range(text_search.day_of(oldest), text_search.day_of(newest) + 2)


@functools.lru_cache(maxsize=4)
def _days_statement(settings: bool, period: bool) -> Select[Any]:
    # Built once (as _words_statement): every search asks.
    statement = select(func.min(Ticket.received_at), func.max(Ticket.received_at))
    if settings:
        statement = statement.add_columns(*[func.set_config(name, value, True)
                                            for name, value in SEARCH_SETTINGS.items()])
    if period:
        statement = statement.where(Ticket.received_at >= bindparam("start"), Ticket.received_at < bindparam("end"))
    return statement


def _days_for(session: Session, text: str, dialect: str, period: Period | None = None) -> range | None:
    """The days a search for `text` goes through, where the word index is asked (it lists each
    word by 30-day bucket); None where it is not."""
    if dialect != "postgresql" or not text_search.indexable(text) or _by_digits(text):
        return None
    return _received_days(session, period)


def _slices(days: range) -> list[Slice]:
    """The newest day of `days` (as _received_days gives them), then the days before it up to
    each of NEWEST_DAYS in all, newest first, then the rest of the word index's bucket before
    those and NEWEST_BUCKETS - 1 buckets before it, then every older day: slices of time that
    do not overlap and together hold every ticket of `days` (a slice that would reach the
    oldest ticket's day is left to the last)."""
    if not days:
        return []
    last, first = days.stop - 2, days.start
    slices: list[Slice] = []
    until, upto = None, last + 2
    starts = [last - n + 1 for n in NEWEST_DAYS]
    if NEWEST_BUCKETS:
        bucket = text_search.bucket_of((starts[-1] if starts else last + 1) - 1)
        starts += [(bucket - k) * text_search.BUCKET_DAYS for k in range(NEWEST_BUCKETS)]
    for start in starts:
        if start <= first:
            break
        if start >= upto:
            continue
        slices.append(Slice(text_search.day_start(start), until, range(start, upto)))
        until, upto = text_search.day_start(start), start
    return [*slices, Slice(None, until, range(first, upto))]


def _rare(seen: int, listed: Slice, days: range) -> bool:
    """Whether `seen` matches on the days from `listed`'s first to the newest of `days`, as
    many a day on every older day, would stay under RARE_SHARE of COUNT_LIMIT. (The newest day,
    a part of one, is counted whole: past the newest 3 days a word looks at most half again
    rarer than it is, which at a share of 0.5 is still under the limit.)"""
    listed_days, all_days = days.stop - 1 - listed.days.start, days.stop - 1 - days.start
    return seen * all_days < RARE_SHARE * COUNT_LIMIT * listed_days


# Matches as listed: time and id. Naive times: the UTC type's conversion of each was two
# thirds of reading 1,000 rows. (Columns, not a subquery of tickets: making the subquery's
# 36 columns cost 1 ms a statement.)
_LISTED = (type_coerce(Ticket.received_at, DateTime()).label("listed_at"), Ticket.id)


@dataclass(frozen=True)
class Listed:
    """A slice's matches as its listing gives them: how many (up to the limit asked), and the
    newest of them (rows of time and id, or when asked `brief` BriefTickets, newest first)
    when they stay under it."""

    count: int
    newest: list[Any]


@dataclass(frozen=True)
class WordsShape:
    """What a search by words' statement over a slice is made of, its values aside: which
    filters, which bounds of time, and whether the word index is asked."""

    own_unit: bool
    state: bool
    unit: bool
    channel: bool
    period: bool
    since: bool
    until: bool
    indexed: bool
    exact: bool   # the word index alone (text_search.exact)
    due: str | None = None   # 超期 or 临期 (TicketFilter.due)


# Building a statement and its cache key cost the app more than running it (0.5 ms of Python
# of a listing's 0.75, in-process): a search by words runs up to five listings and a page, so
# each is built once a shape and its values go in as parameters.
@functools.lru_cache(maxsize=512)
def _words_statement(shape: WordsShape, *, listing: bool, brief: bool = False) -> Select[Any]:
    """`listing`: up to :limit matches counted and, if fewer, the newest :keep of them, in one
    statement: only the rows the page may need cross the wire, not every one the count reads
    (reading 1,001 rows was a millisecond of the app's CPU, their count a tenth); with `brief`
    those rows hold BRIEF_COLUMNS too, so that the page needs no statement of its own. Else the
    page of tickets (`brief`: rows of BRIEF_COLUMNS) from :offset, :limit of them, newest first."""
    def given(name: str, present: bool) -> Any:
        return bindparam(name) if present else None

    listed = (*_LISTED, *(c for c in BRIEF_COLUMNS if c is not Ticket.id)) if brief else _LISTED
    statement = _narrowed(select(*listed) if listing else _listed_tickets(brief), given("own_unit", shape.own_unit),
                          given("state", shape.state), given("unit", shape.unit), given("channel", shape.channel),
                          (bindparam("start"), bindparam("end")) if shape.period else None, by_words=shape.indexed,
                          due=(shape.due, bindparam("due_now"), bindparam("due_soon")) if shape.due else None)
    # Read by the word index, a slice is kept by time too, in a form no index of received_at
    # serves (the planner could read the slice by time and compute every ticket's words), so
    # that the index need name only a few of its days (text_search.words_query).
    at = _received_at_by_words() if shape.indexed else Ticket.received_at
    if shape.since:
        statement = statement.where(at >= bindparam("since"))
    if shape.until:
        statement = statement.where(at < bindparam("until"))
    words = text_search.words_condition(bindparam("like"), bindparam("words", type_=String()) if shape.indexed else None,
                                        exact=shape.exact)
    if shape.own_unit:   # a unit may not learn who filed a confidential ticket, or one that left it (_matches)
        words = and_(_citizen_shown(bindparam("own_unit")), words)
    statement = statement.where(words)
    limit = bindparam("limit", type_=Integer())
    if not listing:
        return (statement.order_by(Ticket.received_at.desc(), Ticket.id.desc())
                .offset(bindparam("offset", type_=Integer())).limit(limit))
    matches = statement.limit(limit).cte("matches")
    counted = select(func.count().label("n")).select_from(matches).subquery("counted")
    newest = (select(*matches.c).order_by(matches.c[0].desc(), matches.c[1].desc())
              .limit(bindparam("keep", type_=Integer())).subquery("newest"))
    return select(counted.c.n, *newest.c).select_from(counted.outerjoin(newest, counted.c.n < limit))


@dataclass(frozen=True)
class WordsAsked:
    """A search by words as its statements take it, the same for every slice: which filters
    (as WordsShape names them) and their values, the words as LIKE reads them, and whether
    the word index is asked (PostgreSQL, 2 characters or more) and its answer alone suffices
    (text_search.exact)."""

    text: str
    indexed: bool
    exact: bool
    filters: tuple[bool, bool, bool, bool, bool]
    values: dict[str, Any]
    held: range   # the days any ticket may have (_received_days)
    due: str | None = None

    @classmethod
    def of(cls, wanted: TicketFilter, visible_to_unit: int | None, dialect: str, held: range) -> WordsAsked:
        text = wanted.text.strip()
        values: dict[str, Any] = {"own_unit": visible_to_unit, "state": wanted.state, "unit": wanted.unit_id,
                                  "channel": wanted.channel, "like": text_search.like_pattern(text)}
        if wanted.period is not None:
            values.update(start=wanted.period.start, end=wanted.period.end)
        if wanted.due:
            values.update(zip(("due_now", "due_soon"), wanted.due_times()))
        filters = (visible_to_unit is not None, bool(wanted.state), wanted.unit_id is not None,
                   bool(wanted.channel), wanted.period is not None)
        indexed = dialect == "postgresql" and text_search.indexable(text)
        return cls(text, indexed, indexed and text_search.exact(text), filters, values, held, wanted.due or None)

    def within(self, window: Slice, *, indexed: bool | None = None) -> tuple[WordsShape, dict[str, Any]] | None:
        """The shape and values of its statement over `window`: by the word index (`indexed`,
        by default as asked) and time, else by time; None for no day at all."""
        indexed = self.indexed if indexed is None else indexed
        since, until = window.since, window.until
        values = {**self.values, "since": since, "until": until}
        if indexed:
            values["words"] = text_search.words_query(self.text, window.days, by_day=True, held=self.held,
                                                      named=NAMED_DAYS)
            if values["words"] is None:
                return None
        return WordsShape(*self.filters, since is not None, until is not None, indexed, indexed and self.exact,
                          due=self.due), values


def _listed(session: Session, asked: WordsAsked, window: Slice, limit: int, keep: int, brief: bool) -> Listed:
    """The matches of `asked` among the tickets of `window`, counted up to `limit`, and the
    newest `keep` of them if fewer (`brief`: with BRIEF_COLUMNS)."""
    within = asked.within(window)
    if within is None:
        return Listed(0, [])
    shape, values = within
    rows = session.connection().execute(_words_statement(shape, listing=True, brief=brief),   # Core, as _received_days
                                        {**values, "limit": limit, "keep": keep}).all()
    # A row is the count, the time and id listed, then (`brief`) the rest of BRIEF_COLUMNS.
    return Listed(int(rows[0].n), [BriefTicket._make(row[2:]) if brief else row for row in rows if row.id is not None])


def _words_page(session: Session, wanted: TicketFilter, visible_to_unit: int | None, page: int,
                page_size: int, brief: bool) -> TicketPage:
    """A page of a search by words, counted and read among the newest days first.

    Each newest slice's matches are counted up to what the count still lacks to pass
    COUNT_LIMIT, and the newest the page may need come with the count; if the count never
    passes it, every ticket's are, up to COUNT_LIMIT + 1. The page comes from those rows when
    they hold it (every ticket of a later slice is older than every one of an earlier), else
    from one statement over the slices down to the one cut short, or over every ticket."""
    dialect = _dialect(session)
    offset = (page - 1) * page_size
    span = _received_days(session, wanted.period, settings=dialect == "postgresql")
    slices = _slices(span)
    seen, cut = 0, None
    known: list[Any] = []   # the newest matches of the slices before `cut`, newest first (Listed.newest)
    asked = WordsAsked.of(wanted, visible_to_unit, dialect, span)
    i = 0
    while i < len(slices):
        if max(len(NEWEST_DAYS), 1) <= i < len(slices) - 1 and _rare(seen, slices[i - 1], span):
            slices = [*slices[:i], Slice(None, slices[i].until, range(span.start, slices[i].days.stop))]
        found = _listed(session, asked, slices[i], COUNT_LIMIT + 1 - seen, max(0, offset + page_size - len(known)),
                        brief)
        seen += found.count
        if seen > COUNT_LIMIT:
            cut = i
            break
        known.extend(found.newest)
        i += 1
    wanted_rows = offset + page_size if seen > COUNT_LIMIT else min(offset + page_size, seen)
    if len(known) >= wanted_rows:
        shown = known[offset:offset + page_size]
        return _ticket_page(shown if brief else _by_ids(session, [row.id for row in shown]), page, page_size, seen)
    if cut == 0 and wanted_rows <= seen:
        # The newest day alone holds more than COUNT_LIMIT matches: its page is read newest
        # first with LIKE alone, which reads about offset + page_size divided by the word's
        # share of the day's tickets (by arithmetic, about 280 for 小区's first page at 18%),
        # not by sorting every one of the day's matches (more than COUNT_LIMIT).
        by_time = asked.within(slices[0], indexed=False)
        assert by_time is not None   # by time, not by the index's days
        statement, values = _words_statement(by_time[0], listing=False, brief=brief), by_time[1]
        return _ticket_page(_read(session, statement, {**values, "offset": offset, "limit": page_size}, brief=brief),
                            page, page_size, seen)
    window = None
    if cut is not None and wanted_rows <= seen:   # those slices hold the page
        window = Slice(slices[cut].since, None, range(slices[cut].days.start, slices[0].days.stop))
    statement = _filtered(wanted, visible_to_unit, dialect, window=window, span=span, brief=brief)
    return _ticket_page(_read(session, statement.offset(offset).limit(page_size), brief=brief), page, page_size, seen)


_BY_IDS = _listed_tickets().where(Ticket.id.in_(bindparam("ids", expanding=True)))   # built once, as _words_statement


def _by_ids(session: Session, ids: list[int]) -> list[Ticket]:
    """Listed tickets by id, in the order of `ids` (none that is gone since)."""
    found = {t.id: t for t in session.scalars(_BY_IDS, {"ids": ids})} if ids else {}
    return [found[i] for i in ids if i in found]


def filtered_tickets(session: Session, wanted: TicketFilter, *, visible_to_unit: int | None = None,
                     limit: int = 10_000) -> list[Ticket]:
    """Every ticket of a staff search (up to `limit`), newest first, for a download."""
    wanted = replace(wanted, text=query_text(wanted.text))
    dialect = _dialect(session)
    span = _days_for(session, wanted.text.strip(), dialect, wanted.period)
    return list(session.scalars(_filtered(wanted, visible_to_unit, dialect, span=span).limit(limit)))


def tickets_of_phone(session: Session, phone: str, *, limit: int = 10) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.phone == phone)
                                .order_by(Ticket.received_at.desc()).limit(limit)))


def merged_into(session: Session, ticket_id: int) -> list[Ticket]:
    """The duplicates that follow a main ticket (合并): with it, 多人反映 = 1 + their number."""
    return list(session.scalars(select(Ticket).where(Ticket.merged_into_id == ticket_id)
                                .order_by(Ticket.received_at)))


def citizens_reporting(main: Ticket, duplicates: list[Ticket]) -> int:
    """多人反映 as people: the callers behind a main ticket and its duplicates, each number once,
    so a caller who rang again about it (受理并并入) is not a second citizen; a ticket with no
    number is its own citizen."""
    phones = {t.phone for t in (main, *duplicates) if t.phone}
    return len(phones) + sum(1 for t in (main, *duplicates) if not t.phone)


@dataclass(frozen=True)
class DayFigures:
    day: dt.date
    received: int
    resolved: int   # of the tickets received that day, how many are resolved or answered now

    @property
    def resolution_rate(self) -> float | None:
        return None if self.received == 0 else self.resolved / self.received


def daily_series(session: Session, period: Period) -> list[DayFigures]:
    """Received and resolved per day received (the board's trend), every day of the period."""
    rows = {day: (int(received), int(resolved)) for day, received, resolved in
            rollup.totals(session, TicketRollup, period.since, period.until, ("day",),
                          ("received", "resolved_bucket"))}
    days = (period.until - period.since).days + 1
    series = []
    for i in range(days):
        day = period.since + dt.timedelta(days=i)
        received, resolved = rows.get(day, (0, 0))
        series.append(DayFigures(day, received, resolved))
    return series


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    received: int
    resolved: int

    @property
    def resolution_rate(self) -> float | None:
        return None if self.received == 0 else self.resolved / self.received


def figures_by_channel(session: Session, period: Period) -> list[ChannelFigures]:
    """Tickets received in the period per channel (phone, SMS, web), and how many are
    resolved or answered now, from the running totals (a duplicate counts in its main
    ticket, as in 受理)."""
    found = {channel: (int(n), int(done)) for channel, n, done in
             rollup.totals(session, TicketChannelRollup, period.since, period.until, ("channel",),
                           ("received", "resolved"))}
    return [ChannelFigures(c.value, *found.get(c.value, (0, 0))) for c in Channel]


@dataclass(frozen=True)
class ResolvedCase:
    number: str
    title: str
    body: str
    reply: str | None
    unit_name: str | None
    request_type: str
    resolved_at: dt.datetime


RESOLVED_CASE_STATES = (State.ANSWERED.value, State.RESOLVED.value, State.CLOSED.value)


def recently_resolved(session: Session, *, limit: int = 8) -> list[ResolvedCase]:
    """The latest resolved cases for the public board, masked as on the public view.
    Confidential (保密) tickets are left out altogether."""
    names = _unit_names(session)
    tickets = session.scalars(
        select(Ticket).where(Ticket.state.in_(RESOLVED_CASE_STATES), Ticket.confidential.is_(False),
                             Ticket.resolved_at.is_not(None))
        .order_by(Ticket.resolved_at.desc()).limit(limit))
    cases = []
    for t in tickets:
        hide = [t.name] if t.name else []
        cases.append(ResolvedCase(number=t.number, title=mask_text(t.title, hide), body=mask_text(t.body, hide),
                                  reply=mask_text(shown_reply(t.reply), hide) if t.reply else None,
                                  unit_name=names.get(t.unit_id) if t.unit_id else None,
                                  request_type=t.request_type, resolved_at=t.resolved_at))  # type: ignore[arg-type]
    return cases


def current_call(session: Session, agent: str) -> Call | None:
    """The call an operator's phone is on now (answered, not ended), if any. A call whose end
    was not written (its Hangup lost, its record still on the way) is over all the same once
    the PBX said the phone left its call after it was answered."""
    return session.scalar(_CURRENT_CALL, {"agent": agent})


def known_agents(session: Session) -> list[str]:
    """Agent interfaces the PBX has reported (PJSIP/7001 ...), for the operator to pick theirs."""
    return list(session.scalars(_KNOWN_AGENTS))


# The operator console asks these on every request: built once.
_CURRENT_CALL = (select(Call).outerjoin(AgentStatus, AgentStatus.interface == Call.agent)
                 .where(Call.agent == bindparam("agent"), Call.answered_at.is_not(None), Call.ended_at.is_(None),
                        or_(AgentStatus.interface.is_(None), AgentStatus.on_call.is_(True),
                            AgentStatus.changed_at < Call.answered_at))
                 .order_by(Call.answered_at.desc()).limit(1))
_KNOWN_AGENTS = select(AgentStatus.interface).order_by(AgentStatus.interface)


def change_stamp(session: Session) -> int:
    """A number that grows with every ticket change (each writes an event): the board
    recomputes its figures only when it moves."""
    return int(session.scalar(select(func.coalesce(func.max(TicketEvent.id), 0))) or 0)


@dataclass(frozen=True)
class Changes:
    """What the change stamp's move from `after` to `upto` changed, for the open pages."""

    events: frozenset[int]              # the ids of the events read
    numbers: frozenset[str] | None      # the tickets changed; None: too many to say
    units: frozenset[int] | None        # the units whose inbox may have moved; None: too many


def changes(session: Session, after: int, upto: int, late: Collection[int] = (), most: int = 500) -> Changes:
    """The events in (after, upto], and those of `late` (ids below `after` not committed when
    it was read: on PostgreSQL a transaction may commit after a later one), their tickets and
    the units they concern: every unit ever on a changed ticket (its own now, a part's, any
    event's: a ticket that left a unit moved that unit's inbox too)."""
    window = and_(TicketEvent.id > after, TicketEvent.id <= upto)
    rows = session.execute(select(TicketEvent.id, TicketEvent.ticket_id)
                           .where(or_(window, TicketEvent.id.in_(list(late))) if late else window)
                           .limit(most * 10 + 1)).all()
    events = frozenset(event for event, _ in rows)
    ids = sorted({ticket for _, ticket in rows})
    if len(rows) > most * 10 or len(ids) > most:
        return Changes(events, None, None)
    if not ids:
        return Changes(events, frozenset(), frozenset())
    numbers = frozenset(session.scalars(select(Ticket.number).where(Ticket.id.in_(ids))))
    units = union(select(TicketEvent.unit_id).where(TicketEvent.ticket_id.in_(ids)),
                  select(Transfer.unit_id).where(Transfer.ticket_id.in_(ids)),
                  select(Ticket.unit_id).where(Ticket.id.in_(ids))).subquery()
    return Changes(events, numbers, frozenset(u for u in session.scalars(select(units.c[0])) if u is not None))


def ticket_stamp(session: Session, ticket_id: int) -> int:
    """The ticket's last event: it moves with every change of the ticket (each writes one)."""
    return int(session.scalar(select(func.coalesce(func.max(TicketEvent.id), 0))
                              .where(TicketEvent.ticket_id == ticket_id)) or 0)


@functools.cache
def _figures_marker() -> Any:
    return select(select(func.coalesce(func.max(TicketEvent.id), 0)).scalar_subquery(),
                  select(func.coalesce(func.max(Call.id), 0)).scalar_subquery())


def figures_marker(session: Session) -> tuple[int, int]:
    """What cached figures are keyed on: the last ticket event (every ticket change writes
    one) and the last call recorded. Two index look-ups, built once."""
    events, calls = session.execute(_figures_marker()).one()
    return int(events), int(calls)


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.name)))


def _unit_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Unit.id, Unit.name)).all())  # type: ignore[arg-type]


def today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def ticket_numbers(session: Session, ticket_ids: set[int]) -> dict[int, str]:
    if not ticket_ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ticket_ids))).all()
    return {ticket_id: number for ticket_id, number in rows}
