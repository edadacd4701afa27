"""回访: asking citizens about resolved tickets, and closing those nobody rates.

An operator calls the citizen and records the outcome (satisfied, partly, unsatisfied, or
unreachable); citizens also rate on the web status page and by text. After
`max_attempts` unanswered calls, or `close_after` without any rating, a resolved ticket
closes as not rated, which keeps it out of the satisfaction rate's denominator.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from dispatch import lifecycle, notices
from dispatch.actors import DISPATCH_ROLES, Actor, require_role
from dispatch.clock import CHINA, utcnow
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, Reason
from dispatch.models import Ticket, TicketEvent
from dispatch.paging import COUNT_LIMIT, Bounded, Page
from dispatch.phone import national_form
from dispatch.states import State
from dispatch.vocabulary import LABELS_ZH, CloseReason, DialResult, FollowUpOutcome, Rating

AUTO_CLOSE_ACTOR = Actor.system("system:follow-up")


@dataclass(frozen=True)
class FollowUpPolicy:
    max_attempts: int = 3                          # unanswered calls before closing as not rated
    close_after: dt.timedelta = dt.timedelta(days=7)  # resolved and unrated this long: closed
    # The least time between two unanswered calls of one ticket: tries minutes apart (or a
    # form sent three times) would close it as 回访3次未接通 without really trying.
    retry_after: dt.timedelta = dt.timedelta(minutes=10)


def follow_up(session: Session, ticket: Ticket, actor: Actor, outcome: FollowUpOutcome, *,
              note: str | None = None, policy: FollowUpPolicy = FollowUpPolicy(),
              now: dt.datetime | None = None, expected_version: int | None = None,
              reopening: lifecycle.Reopening | None = None) -> TicketEvent:
    """Record what the citizen said on the follow-up call, or that nobody answered."""
    if actor.is_staff:
        require_role(actor, DISPATCH_ROLES, "follow tickets up")
    note = (note or "").strip() or None
    rating = outcome.rating
    if rating is not None:
        rated = lifecycle.rate(session, ticket, rating, actor, note=note, now=now,
                               expected_version=expected_version, reopening=reopening)
        notices.tell_new_work(session, ticket, rated, now=now)
        return rated
    lifecycle.check_version(ticket, expected_version)
    if State(ticket.state) is not State.RESOLVED:
        raise IllegalTransition(ticket.state, "follow_up", ticket.number)
    now = now or utcnow()
    _check_spread(session, ticket, policy, now)
    ticket.follow_up_attempts = (ticket.follow_up_attempts or 0) + 1
    event = lifecycle.record(session, ticket, "follow_up", actor, now=now, note=note, unit_id=ticket.unit_id,
                             data={"outcome": outcome.value, "attempt": ticket.follow_up_attempts})
    if ticket.follow_up_attempts >= policy.max_attempts:
        return lifecycle.close_unrated(session, ticket, actor, CloseReason.UNREACHABLE, now=now,
                                       note=f"回访{ticket.follow_up_attempts}次未接通")
    return event


def _check_spread(session: Session, ticket: Ticket, policy: FollowUpPolicy, now: dt.datetime) -> None:
    """An unanswered call recorded within policy.retry_after of the last one (since the
    ticket's latest resolution) is refused, saying when the next may be recorded."""
    if not policy.retry_after:
        return
    since = [TicketEvent.at >= ticket.resolved_at] if ticket.resolved_at is not None else []
    last = session.scalar(select(func.max(TicketEvent.at))
                          .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "follow_up", *since))
    if last is not None and now - last < policy.retry_after:
        minutes = int(policy.retry_after.total_seconds() // 60)
        raise Conflict(Reason.FOLLOW_UP_TOO_SOON, number=ticket.number, minutes=minutes,
                       last=last.astimezone(CHINA).strftime("%H:%M"),
                       next=(last + policy.retry_after).astimezone(CHINA).strftime("%H:%M"))


# A resolved ticket with a number to call. One without (a web request that left none) has
# nothing for the phone queue: its citizen rates on the status page, or it closes as not rated
# after close_after, which keeps 回访率 = (rated + unreachable) / resolved meaning calls that
# were made (marking it 未接通 would count a call nobody could place as a follow-up).
_CALLABLE = and_(Ticket.phone.is_not(None), Ticket.phone != "")
_NO_PHONE = or_(Ticket.phone.is_(None), Ticket.phone == "")
_DUE = select(Ticket).where(Ticket.state == State.RESOLVED.value, _CALLABLE).order_by(Ticket.resolved_at, Ticket.id)
DUE_PER_PAGE = 10


def due(session: Session, *, limit: int = 100) -> list[Ticket]:
    """The follow-up queue: resolved tickets not yet rated or closed that have a number to
    call, oldest resolution first."""
    return list(session.scalars(_DUE.limit(limit)))


_NO_PHONE_COUNT = select(func.count()).select_from(
    select(Ticket.id).where(Ticket.state == State.RESOLVED.value, _NO_PHONE).limit(COUNT_LIMIT + 1).subquery())


def waiting_without_phone(session: Session) -> Bounded:
    """Resolved tickets waiting for a rating that have no number to call (left out of the
    queue), counted up to COUNT_LIMIT."""
    return Bounded.of(int(session.scalar(_NO_PHONE_COUNT) or 0), COUNT_LIMIT)


@dataclass(frozen=True)
class DueTicket:
    """A ticket waiting for its follow-up, with what the console shows of it."""
    id: int
    number: str
    title: str
    phone: str | None
    unit_id: int | None
    resolved_at: dt.datetime | None
    follow_up_attempts: int
    version: int
    calls: int   # follow-up calls placed since its latest resolution


def _due_statement() -> Select[Any]:
    # The queue up to COUNT_LIMIT + 1 read once on the (state, resolved_at, id) index: the
    # count, and the page within it; each page ticket's calls counted beside it.
    queue = select(Ticket.id, Ticket.resolved_at).where(Ticket.state == State.RESOLVED.value, _CALLABLE) \
        .order_by(Ticket.resolved_at, Ticket.id).limit(COUNT_LIMIT + 1).cte("due")
    page = select(queue.c.id).order_by(queue.c.resolved_at, queue.c.id) \
        .limit(bindparam("per_page", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery()
    calls = select(func.count()).where(
        TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "follow_up_call",
        or_(Ticket.resolved_at.is_(None), TicketEvent.at >= Ticket.resolved_at)).scalar_subquery()
    return (select(Ticket.id, Ticket.number, Ticket.title, Ticket.phone, Ticket.unit_id, Ticket.resolved_at,
                   func.coalesce(Ticket.follow_up_attempts, 0), Ticket.version, calls,
                   select(func.count()).select_from(queue).scalar_subquery())
            .join(page, page.c.id == Ticket.id).order_by(Ticket.resolved_at, Ticket.id))


_DUE_WITH_CALLS = _due_statement()


def due_with_calls(session: Session, page: int = 1, *, per_page: int = DUE_PER_PAGE) -> Page[DueTicket]:
    """The follow-up queue a page at a time for the console (a busy city has hundreds
    waiting), each ticket with the calls placed since its resolution; counted up to
    COUNT_LIMIT, as far as the pages reach. One statement, but for a page past the end."""
    page = max(1, page)
    rows = session.execute(_DUE_WITH_CALLS, {"per_page": per_page, "offset": (page - 1) * per_page}).all()
    if not rows:
        if page == 1:
            return Page([], 1, 1, 0)
        last = due_with_calls(session, 1, per_page=per_page)   # the count, then the last page
        return last if last.pages == 1 else due_with_calls(session, last.pages, per_page=per_page)
    found = Bounded.of(int(rows[0][9]), COUNT_LIMIT)
    pages = max(1, -(-found.value // per_page))
    if page > pages:   # beyond the counted pages (rows past COUNT_LIMIT): the last one
        return due_with_calls(session, pages, per_page=per_page)
    return Page([DueTicket(*row[:9]) for row in rows], page, pages, found.value, found.more)


def call_target(session: Session, ticket: Ticket, actor: Actor) -> str:
    """The number to dial for a follow-up call (回拨), checked before anything rings: the
    ticket must be waiting for its follow-up and have a phone number."""
    require_role(actor, DISPATCH_ROLES, "call citizens about their tickets")
    if State(ticket.state) is not State.RESOLVED:
        raise IllegalTransition(ticket.state, "follow_up_call", ticket.number)
    if not ticket.phone:
        raise InvalidInput("phone", Reason.NO_PHONE_TO_CALL)
    return national_form(ticket.phone) if ticket.phone.startswith("+") else ticket.phone


def record_call(session: Session, ticket: Ticket, actor: Actor, result: DialResult, *, agent: str,
                reason: int | None = None, now: dt.datetime | None = None) -> TicketEvent:
    """Log a follow-up call placed through the PBX, whatever became of it. The outcome the
    citizen gives (or that nobody answered) is recorded afterwards by follow_up()."""
    require_role(actor, DISPATCH_ROLES, "call citizens about their tickets")
    return lifecycle.record(session, ticket, "follow_up_call", actor, now=now, note=LABELS_ZH[result.value],
                            unit_id=ticket.unit_id,
                            data={"result": result.value, "reason": reason, "agent": agent})


def close_unrated_resolved(session: Session, policy: FollowUpPolicy = FollowUpPolicy(), *,
                           now: dt.datetime | None = None, batch: int = 500) -> list[str]:
    """Close every ticket resolved more than `close_after` ago that nobody rated; returns
    their numbers. Run by the app's scheduler and by `hotline follow-up close-unrated`."""
    now = now or utcnow()
    stale = session.scalars(select(Ticket).where(Ticket.state == State.RESOLVED.value,
                                                 Ticket.resolved_at < now - policy.close_after)
                            .order_by(Ticket.resolved_at).limit(batch))
    closed = []
    for ticket in list(stale):
        lifecycle.close_unrated(session, ticket, AUTO_CLOSE_ACTOR, CloseReason.NOT_RATED, now=now,
                                note=f"办结{policy.close_after.days}天内未评价，自动关闭")
        closed.append(ticket.number)
    return closed


def rate_duplicate(session: Session, ticket: Ticket, rating: Rating, actor: Actor, *,
                   note: str | None = None, now: dt.datetime | None = None) -> TicketEvent:
    """A citizen whose ticket was merged rates the main ticket's result. The rating stays on
    their own ticket: the figures count the matter once, through the main ticket."""
    if State(ticket.state) is not State.MERGED or ticket.merged_into_id is None:
        raise IllegalTransition(ticket.state, "rate", ticket.number)
    main = session.get_one(Ticket, ticket.merged_into_id)
    if State(main.state) not in (State.RESOLVED, State.CLOSED, State.ANSWERED):
        raise IllegalTransition(main.state, "rate", main.number)
    if ticket.rating is not None:
        raise InvalidInput("rating", Reason.ALREADY_RATED)
    channel = lifecycle.rating_channel(actor)
    ticket.rating, ticket.rating_channel = rating.value, channel
    return lifecycle.record(session, ticket, "rate", actor, now=now, note=note,
                            data={"rating": rating.value, "channel": channel, "main": main.number})


def may_rate(session: Session, ticket: Ticket) -> bool:
    """Whether the citizen is asked to rate now: a resolved ticket, or a duplicate whose main
    ticket has a result and which its citizen has not rated yet."""
    if State(ticket.state) is State.RESOLVED:
        return True
    if State(ticket.state) is State.MERGED and ticket.rating is None and ticket.merged_into_id is not None:
        main_state = session.scalar(select(Ticket.state).where(Ticket.id == ticket.merged_into_id))
        return main_state in (State.RESOLVED.value, State.CLOSED.value, State.ANSWERED.value)
    return False


def rate_as_citizen(session: Session, ticket: Ticket, rating: Rating, actor: Actor, *,
                    note: str | None = None, now: dt.datetime | None = None,
                    reopening: lifecycle.Reopening | None = None) -> TicketEvent:
    """The citizen's own rating (web or SMS), of their ticket or of the one it was merged into."""
    if State(ticket.state) is State.MERGED:
        return rate_duplicate(session, ticket, rating, actor, note=note, now=now)
    rated = lifecycle.rate(session, ticket, rating, actor, note=note, now=now, reopening=reopening)
    notices.tell_new_work(session, ticket, rated, now=now)
    return rated
