"""Calls as the domain sees them: one row per call, the callback list of missed calls,
agent status, and what an operator's screen shows when a call reaches them."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import agent_pause, staff_activity
from dispatch.actors import DISPATCH_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput, NotFound, Reason
from dispatch.flags import active_flag
from dispatch.models import AgentStatus, Call, Callback, CallbackAttempt, IntakeSource, Ticket
from dispatch.paging import COUNT_LIMIT, Page, page_of
from dispatch.phone import normalise_phone
from dispatch.vocabulary import CALLED_AGAIN_NOTE_ZH, SAME_NUMBER_MARKED_NOTE_ZH, SAME_NUMBER_REACHED_NOTE_ZH

# Outcomes after which the citizen did not reach anyone: they must be called back.
MISSED_OUTCOMES = frozenset({"abandoned", "timeout", "lost"})
CALLBACK_PENDING, CALLBACK_DONE = "pending", "done"
RECOVERED_ANSWERED_NOTE = "交换机排队日志显示该来电已接通，无需回拨"
ANSWERED_LATER_NOTE = "来电排队超时后转入其他队列并已接通，无需回拨"


@dataclass(frozen=True)
class CallData:
    """A call as the telephony bridge knows it now; the same linkedid again replaces it."""

    linkedid: str
    outcome: str
    caller: str | None
    dialed: str | None
    started_at: dt.datetime
    ivr_choice: str | None = None
    queue: str | None = None
    entered_queue_at: dt.datetime | None = None
    agents_rung: tuple[str, ...] = ()
    ring_no_answers: int = 0
    agent: str | None = None
    agent_name: str | None = None
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    hangup_cause: str | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    transferred_to: str | None = None
    # Rebuilt from the PBX's queue_log after an outage rather than seen live.
    recovered: bool = False


# What a call recovered from queue_log may replace: only what the bridge had to guess when
# it lost sight of the call. Anything seen to its end live is better than queue_log's summary.
_REPLACEABLE_BY_RECOVERED = frozenset({"open", "lost"})


def caller_phone(raw: str | None) -> str | None:
    """The caller ID in our stored form when it is a real number, else as the PBX gave it."""
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except InvalidInput:
        return raw


def record_call(session: Session, data: CallData, *, now: dt.datetime | None = None) -> Call:
    """Write the call idempotently (upsert by linkedid); a missed call joins the callback list once."""
    call = session.scalar(select(Call).where(Call.linkedid == data.linkedid))
    if call is None:
        call = Call(linkedid=data.linkedid)
        session.add(call)
    elif data.recovered and call.outcome not in _REPLACEABLE_BY_RECOVERED:
        return call
    elif call.answered_at is not None and data.answered_at is None:
        data = _keeping_answer(call, data)
    was_missed = call.outcome in MISSED_OUTCOMES
    for name, value in vars(data).items():  # CallData's fields are Call's columns
        if name != "recovered":
            setattr(call, name, value)
    call.caller = caller_phone(data.caller)
    call.agents_rung = list(data.agents_rung)
    call.updated_at = now or utcnow()
    if call.ticket_id is None and call.answered_at is not None:  # only answered calls reach a console
        with session.no_autoflush:  # one INSERT or UPDATE of the call below, not two
            filed = _ticket_filed_from(session, data.linkedid)
        if filed is not None:
            call.ticket_id = filed
    session.flush()
    if data.outcome in MISSED_OUTCOMES and call.caller:
        exists = session.scalar(select(Callback.id).where(Callback.call_id == call.id))
        if exists is None:
            session.add(Callback(call_id=call.id, caller=call.caller, created_at=now or utcnow(),
                                 status=CALLBACK_PENDING, attempts=0))
            session.flush()
    elif data.recovered or (was_missed and data.answered_at is not None):
        # The bridge had guessed "lost", or the queue had let the caller go (timeout) before
        # an overflow queue answered: someone answered after all.
        callback = session.scalar(select(Callback).where(Callback.call_id == call.id,
                                                         Callback.status == CALLBACK_PENDING,
                                                         Callback.attempts == 0))
        if callback is not None:
            callback.status, callback.done_at = CALLBACK_DONE, now or utcnow()
            callback.note = RECOVERED_ANSWERED_NOTE if data.recovered else ANSWERED_LATER_NOTE
            session.flush()
    if data.answered_at is not None and data.outcome not in MISSED_OUTCOMES:
        # The citizen got through on a later call: calling them back would only repeat it.
        for earlier in _pending_of_caller(session, call.caller, started_before=data.started_at):
            earlier.status, earlier.done_at, earlier.note = CALLBACK_DONE, now or utcnow(), CALLED_AGAIN_NOTE_ZH
        session.flush()
    return call


def _pending_of_caller(session: Session, caller: str | None, *,
                       started_before: dt.datetime | None = None) -> list[Callback]:
    """The caller's missed calls still on the list (those whose call started before
    `started_before`, by the PBX's clock as the call's own); none for a caller ID that is not
    a number (anonymous, a PBX's own label)."""
    if not caller or not caller.startswith("+"):
        return []
    query = select(Callback).where(Callback.status == CALLBACK_PENDING, Callback.caller == caller)
    if started_before is not None:
        query = query.join(Call, Call.id == Callback.call_id).where(Call.started_at < started_before)
    return list(session.scalars(query))


def _keeping_answer(call: Call, data: CallData) -> CallData:
    """A bridge that took over from another process (or restarted) adopts a live call from the
    PBX's channel list without knowing it was answered: an answer seen before is never
    unlearned, and such a call does not reach the callback list when it ends."""
    talk = data.talk_seconds
    if talk is None and data.ended_at is not None and call.answered_at is not None:
        talk = max(0.0, (data.ended_at - call.answered_at).total_seconds())
    return dataclasses.replace(
        data, started_at=call.started_at or data.started_at, answered_at=call.answered_at,
        agent=data.agent or call.agent, agent_name=data.agent_name or call.agent_name, talk_seconds=talk,
        outcome="answered" if data.outcome in MISSED_OUTCOMES else data.outcome)


def last_recorded_at(session: Session) -> dt.datetime | None:
    """When a bridge last wrote a call: one starting (or taking over from a process that
    died) recovers from the PBX's queue_log the calls that ended after it."""
    return session.scalar(select(func.max(Call.updated_at)))


def pending_callbacks(session: Session) -> list[Callback]:
    return list(session.scalars(select(Callback).where(Callback.status == CALLBACK_PENDING)
                                .order_by(Callback.created_at)))


CALLBACKS_PER_PAGE = 10


def callback_page(session: Session, page: int = 1, *, per_page: int = CALLBACKS_PER_PAGE) -> Page[Callback]:
    """The callback list a page at a time, newest missed call first: a busy hour must not
    push the rest of the console off the screen."""
    return page_of(session, _PENDING_CALLBACKS, page, per_page, count_limit=COUNT_LIMIT)


# Built once: the operator console asks on every request.
_PENDING_CALLBACKS = (select(Callback).where(Callback.status == CALLBACK_PENDING)
                      .order_by(Callback.created_at.desc(), Callback.id.desc()))


def _callback(session: Session, callback_id: int) -> Callback:
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(Reason.CALLBACK_NOT_FOUND, callback_id=callback_id)
    return callback


def record_callback_attempt(session: Session, callback_id: int, actor: Actor, result: str, *,
                            reached: bool, now: dt.datetime | None = None) -> Callback:
    """Log a call-back attempt (an AMI Originate) with who placed it; reaching the citizen closes it."""
    require_role(actor, DISPATCH_ROLES, "call citizens back")
    callback = _callback(session, callback_id)
    if callback.status != CALLBACK_PENDING:
        raise Conflict(Reason.CALLBACK_DONE, callback_id=callback_id)
    now = now or utcnow()
    callback.attempts += 1
    callback.last_attempt_at = now
    callback.last_result = result
    callback.last_attempt_by = actor.user_id
    session.add(CallbackAttempt(callback_id=callback.id, staff_id=actor.user_id, at=now, result=result,
                                reached=reached))
    if reached:
        callback.status, callback.done_at, callback.done_by = CALLBACK_DONE, now, actor.user_id
        _record_closed(session, callback, actor, now, via="call")
        # The same number's other missed calls: the citizen has been reached once for all.
        for other in (c for c in _pending_of_caller(session, callback.caller) if c.id != callback.id):
            other.status, other.done_at, other.done_by = CALLBACK_DONE, now, actor.user_id
            other.note = SAME_NUMBER_REACHED_NOTE_ZH
            _record_closed(session, other, actor, now, via="same_number")
    session.flush()
    return callback


def pending_callback(session: Session, callback_id: int) -> Callback:
    """A missed call still to be called back: what the operator is asked to confirm closing."""
    callback = _callback(session, callback_id)
    if callback.status != CALLBACK_PENDING:
        raise Conflict(Reason.CALLBACK_DONE, callback_id=callback_id)
    session.expunge(callback)
    return callback


def mark_callback_done(session: Session, callback_id: int, actor: Actor, note: str, *,
                       now: dt.datetime | None = None) -> Callback:
    """Someone called back by other means, or the citizen called again: the number's other
    missed calls still on the list close with it."""
    require_role(actor, DISPATCH_ROLES, "close callbacks")
    callback = _callback(session, callback_id)
    if callback.status != CALLBACK_PENDING:
        raise Conflict(Reason.CALLBACK_DONE, callback_id=callback_id)
    if not note.strip():
        raise InvalidInput("note", Reason.CALLBACK_NOTE_REQUIRED)
    now = now or utcnow()
    callback.status, callback.done_at, callback.done_by, callback.note = CALLBACK_DONE, now, actor.user_id, note.strip()
    _record_closed(session, callback, actor, now, via="by_hand")
    # The same number's other missed calls, as when a call back reaches it: the citizen was
    # dealt with once for all, and a second operator must not ring them again.
    for other in (c for c in _pending_of_caller(session, callback.caller) if c.id != callback.id):
        other.status, other.done_at, other.done_by = CALLBACK_DONE, now, actor.user_id
        other.note = SAME_NUMBER_MARKED_NOTE_ZH.format(note=note.strip())
        _record_closed(session, other, actor, now, via="same_number")
    session.flush()
    return callback


def _record_closed(session: Session, callback: Callback, actor: Actor, now: dt.datetime, *, via: str) -> None:
    """The callbacks row is edited in place; who closed which missed call stays in the
    append-only staff activity log."""
    detail = {"caller": callback.caller, "via": via,
              **({"result": callback.last_result} if via == "call" else {"note": callback.note})}
    staff_activity.record(session, staff_activity.ActivityKind.CALLBACK_DONE, actor,
                          target=f"callback:{callback.id}", detail=detail, now=now)


def live_call_of_ticket(session: Session, ticket_id: int) -> Call | None:
    """The call a ticket was filed from, while the caller is still on the line."""
    return session.scalar(select(Call).where(Call.ticket_id == ticket_id, Call.answered_at.is_not(None),
                                             Call.ended_at.is_(None))
                          .order_by(Call.answered_at.desc()).limit(1))


def link_ticket_to_call(session: Session, ticket: Ticket, linkedid: str) -> bool:
    """The ticket an operator files during a call points at that call. False when the call's
    row has not been written yet: the ticket's source keeps the Linkedid (IntakeRequest's
    call_linkedid) and record_call links them when the call arrives."""
    call = session.scalar(select(Call).where(Call.linkedid == linkedid))
    if call is None:
        return False
    call.ticket_id = ticket.id
    session.flush()
    return True


def _ticket_filed_from(session: Session, linkedid: str) -> int | None:
    """The ticket an operator filed from this call before its row existed (the latest one)."""
    return session.scalar(select(IntakeSource.ticket_id).where(IntakeSource.call_linkedid == linkedid)
                          .order_by(IntakeSource.id.desc()).limit(1))


@dataclass(frozen=True)
class ScreenPop:
    """What an operator's console shows when a call reaches them."""

    linkedid: str
    agent: str | None
    caller: str | None
    earlier_tickets: list[dict[str, Any]] = field(default_factory=list)
    flagged: str | None = None  # why the caller's number is flagged as malicious, if it is


def screen_pop(session: Session, call: Call, *, limit: int = 5) -> ScreenPop:
    earlier, flagged = caller_history(session, call.caller, limit=limit)
    return ScreenPop(linkedid=call.linkedid, agent=call.agent, caller=call.caller, earlier_tickets=earlier,
                     flagged=flagged)


def caller_history(session: Session, phone: str | None, *, limit: int = 5) -> tuple[list[dict[str, Any]], str | None]:
    """A number's latest tickets and why it is flagged, if it is: what a screen-pop shows, and
    what the console shows for a number the operator types (a caller without caller ID, or
    one who gives another number)."""
    earlier = []
    if phone:
        tickets = session.scalars(select(Ticket).where(Ticket.phone == phone)
                                  .order_by(Ticket.received_at.desc()).limit(limit))
        earlier = [{"number": t.number, "title": t.title, "state": t.state,
                    "received_at": t.received_at.isoformat()} for t in tickets]
    flag = active_flag(session, phone)
    return earlier, flag.reason if flag is not None else None


@dataclass(frozen=True)
class AgentData:
    interface: str
    member_name: str | None
    queues: tuple[str, ...]
    logged_in: bool
    paused: bool
    ringing: bool
    on_call: bool
    changed_at: dt.datetime
    paused_reason: str = ""  # the PBX's PausedReason (示忙 原因)


def record_agent(session: Session, data: AgentData) -> None:
    status = session.get(AgentStatus, data.interface) or AgentStatus(interface=data.interface)
    status.member_name, status.queues = data.member_name, list(data.queues)
    status.logged_in, status.ringing, status.on_call = data.logged_in, data.ringing, data.on_call
    agent_pause.follow(status, data.paused, data.paused_reason, data.changed_at)
    status.changed_at = data.changed_at
    session.add(status)
    session.flush()
