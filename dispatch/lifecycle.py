"""Every change of a ticket's state goes through transition(): it checks the one table in
states.py, writes the event in the same transaction, and never commits (the caller does)."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from dispatch import audit, deadline_classes, parts
from dispatch.replies import REPLY_MIN_CHARS, check_reply
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role, require_unit
from dispatch.clock import CHINA, local_date, utcnow
from dispatch.catalogue_file import DeadlineClass
from dispatch.deadlines import DEFAULT_EXTENSION_MAX_WORKING_DAYS, DeadlinePolicy
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, Reason
from dispatch.models import CatalogueEntry, ExtensionRequest, Ticket, TicketEvent, Transfer, Unit
from dispatch import routing_feedback
from dispatch.routing import record_correction
from dispatch.units import City
from dispatch.states import EXTENDABLE_STATES, FINISHED_STATES, Action, State, next_state
from dispatch.vocabulary import (REOPENED_TO_TRIAGE_ZH, Channel, CloseReason, ExtensionStatus, Rating, TransferOutcome,
                                 TransferRole)

MAX_NOTE_CHARS = 5000
# PostgreSQL's deadlock_detected and serialization_failure: a concurrent writer won.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def transition(session: Session, ticket: Ticket, action: Action, actor: Actor, *,
               now: dt.datetime | None = None, note: str | None = None,
               unit_id: int | None = None, data: dict[str, Any] | None = None,
               expected_version: int | None = None) -> TicketEvent:
    """Move the ticket by `action` or raise IllegalTransition; record who, when, from, to."""
    check_version(ticket, expected_version)
    current = State(ticket.state)
    new = next_state(current, action)
    if new is None:
        raise IllegalTransition(current.value, action.value, ticket.number)
    ticket.state = new.value
    return _write_event(session, ticket, action.value, actor, now=now, from_state=current.value,
                        note=note, unit_id=unit_id, data=data)


def record(session: Session, ticket: Ticket, action: str, actor: Actor, *,
           now: dt.datetime | None = None, note: str | None = None,
           unit_id: int | None = None, data: dict[str, Any] | None = None) -> TicketEvent:
    """An event that leaves the state as it is (escalation, extension request, repeat contact)."""
    return _write_event(session, ticket, action, actor, now=now, from_state=ticket.state,
                        note=note, unit_id=unit_id, data=data)


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """A form shows version N; acting on it after someone else changed the ticket is a conflict.
    Every check-then-act starts here, so here the ticket's row is locked too (see lock)."""
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(Reason.CHANGED_BY_OTHERS, number=ticket.number, version=ticket.version,
                       seen=expected_version)
    lock(ticket)


def _write_event(session: Session, ticket: Ticket, action: str, actor: Actor, *,
                 now: dt.datetime | None, from_state: str | None, note: str | None,
                 unit_id: int | None, data: dict[str, Any] | None) -> TicketEvent:
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput("note", Reason.TOO_LONG, limit=MAX_NOTE_CHARS)
    number = ticket.number  # read now: after a failed flush the ticket is expired
    with _conflict_on_concurrent_write(number):
        prev_hash = audit.last_hash(session, ticket)
    event = TicketEvent(ticket=ticket, ticket_id=ticket.id, at=now or utcnow(), actor_id=actor.user_id,
                        actor=actor.label, action=action, from_state=from_state,
                        to_state=ticket.state, unit_id=unit_id, note=note, data=data)
    audit.seal(event, number, prev_hash)
    session.add(event)
    with _conflict_on_concurrent_write(number):
        session.flush()
    return event


@contextlib.contextmanager
def _conflict_on_concurrent_write(number: str) -> Iterator[None]:
    """A write that lost a race (a stale version, a unique row someone else just added, a
    deadlock PostgreSQL broke) is the same Conflict as any other."""
    try:
        yield
    except (StaleDataError, IntegrityError) as exc:
        raise Conflict(Reason.CHANGED_BY_OTHERS, number=number) from exc
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
            raise
        raise Conflict(Reason.CHANGED_BY_OTHERS, number=number) from exc


def lock(ticket: Ticket) -> None:
    """Hold the ticket's row until commit, then check that nobody changed it since this
    session read it. On PostgreSQL the second of two concurrent actions waits on the row
    lock and then gets Conflict; SQLite's single writer (BEGIN IMMEDIATE) already
    serialises whole transactions."""
    session = object_session(ticket)
    if session is None or ticket.id is None:
        return
    number = ticket.number
    with _conflict_on_concurrent_write(number):
        session.flush()  # this transaction's own changes first: they move the version on
        seen = ticket.version
        current = session.scalar(select(Ticket.version).where(Ticket.id == ticket.id).with_for_update())
    if current != seen:
        raise Conflict(Reason.CHANGED_BY_OTHERS, number=number, version=current, seen=seen)


def _check_allowed(ticket: Ticket, action: Action, expected_version: int | None = None) -> None:
    """Refuse before touching anything, so an illegal move leaves the ticket as it was. The
    version is checked here, once: the changes that follow bump it as they are flushed."""
    check_version(ticket, expected_version)
    require_state_allows(ticket, action)


def require_state_allows(ticket: Ticket, action: Action) -> None:
    if next_state(State(ticket.state), action) is None:
        raise IllegalTransition(ticket.state, action.value, ticket.number)


def required_text(field: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, Reason.REQUIRED)
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(field, Reason.TOO_LONG, limit=MAX_NOTE_CHARS)
    return text


def _open_transfer(session: Session, ticket: Ticket) -> Transfer:
    transfer = parts.lead_transfer(session, ticket)  # co-handling and forwarded parts are not it
    if transfer is None:  # the transition table makes this impossible for a consistent ticket
        raise NotFound(Reason.NO_TRANSFER, number=ticket.number)
    return transfer


def transfer(session: Session, ticket: Ticket, unit: Unit, actor: Actor, *,
             note: str | None = None, routing: dict[str, Any] | None = None,
             now: dt.datetime | None = None, expected_version: int | None = None,
             learn_from: City | None = None, entry: CatalogueEntry | None = None,
             deadlines: DeadlinePolicy | None = None) -> TicketEvent:
    """转办: hand the ticket to a responsible unit. `routing` says why this unit (model, rule...).
    With `learn_from` (the city), a unit other than the proposed one, or a re-transfer after a
    return, is kept as a labeled example for retraining the classifier. `entry`: the dispatch
    catalogue entry the operator confirmed or chose; the ticket keeps it (and its level 1).
    With `deadlines`, the entry's deadline class sets the deadline from this dispatch
    (dispatch/deadline_classes.py); the change is kept in the transfer's event."""
    require_role(actor, DISPATCH_ROLES, "transfer tickets")
    if not unit.active:
        raise InvalidInput("unit", Reason.INACTIVE_UNIT, unit=unit.name)
    _check_allowed(ticket, Action.TRANSFER, expected_version)
    now = now or utcnow()
    if learn_from is not None and ticket.routing is not None:
        source = "return_reroute" if ticket.state == State.RETURNED.value else "operator_correction"
        record_correction(session, learn_from, ticket, unit, source=source, now=now,
                          category=entry.level1 if entry is not None else None)
    if routing is None and ticket.routing and ticket.routing.get("unit_code") == unit.code:
        routing = {k: ticket.routing.get(k) for k in ("source", "reason", "category", "probability")}
    ticket.unit_id = unit.id
    ticket.transfer_count += 1
    data: dict[str, Any] = {"routing": routing} if routing else {}
    if entry is not None:
        ticket.catalogue_entry_id, ticket.category = entry.id, entry.level1
        data["catalogue"] = {"code": entry.code, "path": f"{entry.level1}/{entry.level2}/{entry.level3}"}
    elif (left := _entry_left_behind(session, ticket)) is not None:
        # A correction moved the ticket to another category: the entry it had no longer
        # describes it (its deadline, already given, stays).
        ticket.catalogue_entry_id = None
        data["catalogue_cleared"] = {"code": left.code, "path": f"{left.level1}/{left.level2}/{left.level3}"}
    if deadlines is not None:
        classes = learn_from.catalogue.deadline_classes if learn_from is not None and learn_from.catalogue else {}
        deadlines.calendar.sync(session)
        if deadlines.redispatch_restarts and _back_from_dispute(session, ticket):
            change: deadline_classes.DeadlineChange | None = deadline_classes.on_redispatch(
                ticket, entry, classes, deadlines, now)
        else:
            change = deadline_classes.on_dispatch(ticket, entry, classes, deadlines, now)
        if change is not None:
            data["deadline"] = change.as_data()
    routing_feedback.note_transfer(session, ticket, unit)  # with the category now final
    event = transition(session, ticket, Action.TRANSFER, actor, now=now, note=note, unit_id=unit.id,
                       data=data or None)
    session.add(Transfer(ticket_id=ticket.id, unit_id=unit.id, transferred_at=now,
                         received_day=local_date(ticket.received_at),
                         outcome=TransferOutcome.PENDING.value, routing=routing))
    session.flush()
    return event


def _back_from_dispute(session: Session, ticket: Ticket) -> bool:
    """Whether the ticket waits for dispatch because a 改派申请 was upheld (not after a 退单)."""
    if ticket.state != State.RETURNED.value:
        return False
    last = session.scalar(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.to_state == State.RETURNED.value)
                          .order_by(TicketEvent.id.desc()).limit(1))
    return last == Action.REDISPATCH.value


def _entry_left_behind(session: Session, ticket: Ticket) -> CatalogueEntry | None:
    """The ticket's catalogue entry when its category is no longer the entry's."""
    if ticket.catalogue_entry_id is None or ticket.category is None:
        return None
    kept = session.get(CatalogueEntry, ticket.catalogue_entry_id)
    return kept if kept is not None and kept.level1 != ticket.category else None


def accept(session: Session, ticket: Ticket, actor: Actor, *, now: dt.datetime | None = None,
           expected_version: int | None = None) -> TicketEvent:
    """签收: the unit takes the ticket (or takes a reopened one back)."""
    require_unit(actor, ticket.unit_id, "accept this ticket")
    _check_allowed(ticket, Action.ACCEPT, expected_version)
    now = now or utcnow()
    was = State(ticket.state)
    if was is State.TRANSFERRED:
        current = _open_transfer(session, ticket)
        current.outcome = TransferOutcome.ACCEPTED.value
        current.responded_at = now
        ticket.accepted_transfer_count += 1
    return transition(session, ticket, Action.ACCEPT, actor, now=now, unit_id=ticket.unit_id)


def return_ticket(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
                  now: dt.datetime | None = None, expected_version: int | None = None) -> TicketEvent:
    """退单: the unit says the ticket is not theirs; the reason is required."""
    require_unit(actor, ticket.unit_id, "return this ticket")
    reason = required_text("reason", reason)
    _check_allowed(ticket, Action.RETURN, expected_version)
    now = now or utcnow()
    unit_id = ticket.unit_id
    if State(ticket.state) is State.TRANSFERRED:
        current = _open_transfer(session, ticket)
        current.outcome = TransferOutcome.RETURNED.value
        current.responded_at = now
        current.return_reason = reason
        parts.withdraw_open(session, ticket, now)
        ticket.return_count += 1
        ticket.unit_id = None
        routing_feedback.note_return(session, ticket)
    return transition(session, ticket, Action.RETURN, actor, now=now, note=reason, unit_id=unit_id)


def resolve(session: Session, ticket: Ticket, actor: Actor, reply: str, *,
            now: dt.datetime | None = None, expected_version: int | None = None,
            min_chars: int = REPLY_MIN_CHARS) -> TicketEvent:
    """办结: the unit replies with the result, in at least `min_chars` characters."""
    require_unit(actor, ticket.unit_id, "resolve this ticket")
    reply = required_text("reply", reply)
    _check_allowed(ticket, Action.RESOLVE, expected_version)
    reply = check_reply(reply, min_chars)   # after: a ticket past 办结 says so, whatever the reply
    if State(ticket.state) is State.IN_PROGRESS:
        parts.require_parts_answered(session, ticket)
    now = now or utcnow()
    on_time = ticket.deadline is None or now <= ticket.deadline
    if State(ticket.state) is State.IN_PROGRESS:
        ticket.reply = reply
        ticket.resolved_at = now
        ticket.resolved_on_time = on_time
        current = _open_transfer(session, ticket)
        current.resolved_at = now
        current.resolved_on_time = on_time
        _withdraw_forward(session, ticket, actor, now)
    ticket.follow_up_attempts = 0  # a resolution after a reopen is followed up afresh
    event = transition(session, ticket, Action.RESOLVE, actor, now=now, note=reply,
                       unit_id=ticket.unit_id, data={"on_time": on_time})
    _tell_merged(session, ticket, actor, now)
    return event


def _withdraw_forward(session: Session, ticket: Ticket, actor: Actor, now: dt.datetime) -> TicketEvent | None:
    """The parent answers the citizen itself while its sub-unit has not answered: the
    forwarded part is taken back (已收回), in the log. Unlike a co-handling unit's part, which
    the lead waits for, a sub-unit works for its parent, which stays accountable and may
    close the case without it; the ticket page warns before, and notices.tell_forward_withdrawn
    tells the sub-unit (actions.py, as for every notice of a step)."""
    part = parts.open_forward(session, ticket)
    if part is None:
        return None
    parts.withdraw(part, now)
    codes = dict(session.execute(select(Unit.id, Unit.code).where(Unit.id.in_([part.unit_id, ticket.unit_id]))).all())
    return record(session, ticket, "withdraw_forward", actor, now=now, unit_id=part.unit_id,
                  data={"role": TransferRole.FORWARD.value, "part": part.id, "from": codes.get(ticket.unit_id),
                        "to": codes.get(part.unit_id)})


def answer(session: Session, ticket: Ticket, actor: Actor, reply: str, *,
           now: dt.datetime | None = None, expected_version: int | None = None,
           cited: dict[str, Any] | None = None, min_chars: int = REPLY_MIN_CHARS) -> TicketEvent:
    """直接办结: the operator resolves the ticket at intake (e.g. a consultation), in at least
    `min_chars` characters; `cited` names the knowledge base article answered from, kept in
    the event."""
    require_role(actor, DISPATCH_ROLES, "answer tickets")
    reply = required_text("reply", reply)
    _check_allowed(ticket, Action.ANSWER, expected_version)
    reply = check_reply(reply, min_chars)
    now = now or utcnow()
    if State(ticket.state) is State.RECEIVED:
        ticket.reply = reply
        ticket.resolved_at = now
    event = transition(session, ticket, Action.ANSWER, actor, now=now, note=reply, data=cited)
    _tell_merged(session, ticket, actor, now)
    return event


def _tell_merged(session: Session, main: Ticket, actor: Actor, now: dt.datetime) -> None:
    """Every citizen whose ticket was merged into this one learns the result (an event in
    their own ticket's log, which the outbox turns into a text) and may rate it."""
    for duplicate in session.scalars(select(Ticket).where(Ticket.merged_into_id == main.id,
                                                          Ticket.state == State.MERGED.value)):
        duplicate.reply = main.reply
        duplicate.resolved_at = now
        record(session, duplicate, "main_resolved", actor, now=now, note=main.reply,
               data={"main": main.number})


def rating_channel(actor: Actor) -> str:
    """A citizen rates by the channel they write on; staff rate for them on the phone (回访)."""
    if actor.label.startswith("citizen:"):
        return actor.label.split(":", 1)[1]
    return Channel.PHONE.value


@dataclass(frozen=True)
class Reopening:
    """What sets a reopened ticket's new deadline: the city's deadline policy (days and
    working-day calendar) and the catalogue's deadline classes."""

    policy: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    classes: Mapping[str, DeadlineClass] = field(default_factory=dict)


def rate(session: Session, ticket: Ticket, rating: Rating, actor: Actor, *,
         note: str | None = None, now: dt.datetime | None = None,
         expected_version: int | None = None, reopening: Reopening | None = None) -> TicketEvent:
    """回访: the citizen rates the result; unsatisfied reopens it with the same unit, with a
    new handling period, satisfied or partly closes it."""
    check_version(ticket, expected_version)
    if State(ticket.state) is not State.RESOLVED:
        raise IllegalTransition(ticket.state, "rate", ticket.number)
    now = now or utcnow()
    channel = rating_channel(actor)
    ticket.rating = rating.value
    ticket.rating_channel = channel
    data: dict[str, Any] = {"rating": rating.value, "channel": channel}
    if rating is Rating.UNSATISFIED:
        data.update(_unresolve(session, ticket))
        retired = _leave_retired_unit(session, ticket, now)
        change = _new_period(session, ticket, reopening, now)
        if change is not None:
            data["deadline"] = change.as_data()
        event = transition(session, ticket, Action.REOPEN, actor, now=now, note=note,
                           unit_id=ticket.unit_id, data=data)
        if retired is not None:
            _triage_from_retired(session, ticket, actor, retired, now)
        return event
    ticket.closed_at, ticket.close_reason = now, CloseReason.RATED.value
    return transition(session, ticket, Action.CLOSE, actor, now=now, note=note, data=data)


def _new_period(session: Session, ticket: Ticket, reopening: Reopening | None,
                now: dt.datetime) -> deadline_classes.DeadlineChange | None:
    """重办 is handled anew: it must not come back already overdue (resolved on its last
    day and rated unsatisfied, it was overdue that night). Without the city's rules, the
    default policy and no classes."""
    reopening = reopening or Reopening()
    reopening.policy.calendar.sync(session)
    return deadline_classes.on_reopen(ticket, reopening.classes, reopening.policy, now)


def _unresolve(session: Session, ticket: Ticket) -> dict[str, Any]:
    """A reopened ticket is no longer resolved, for the ticket's figures and the unit's. One a
    retired unit resolved goes to its successor, which holds the ticket since the hand-over:
    the event's data names the retired unit (`succeeded`)."""
    from dispatch import unit_succession   # it reads this module
    ticket.resolved_at = None
    ticket.resolved_on_time = None
    current = _open_transfer(session, ticket)
    current.resolved_at = None
    current.resolved_on_time = None
    retired = unit_succession.follow_holder(session, ticket, current)
    return {"succeeded": retired.code} if retired is not None else {}


def close(session: Session, ticket: Ticket, actor: Actor, note: str, *, now: dt.datetime | None = None,
          expected_version: int | None = None) -> TicketEvent:
    """A supervisor closes a resolved ticket without a rating, saying why."""
    require_role(actor, SUPERVISING_ROLES, "close tickets")
    note = required_text("note", note)
    _check_allowed(ticket, Action.CLOSE, expected_version)
    return close_unrated(session, ticket, actor, CloseReason.SUPERVISOR, note=note, now=now)


def close_unrated(session: Session, ticket: Ticket, actor: Actor, reason: CloseReason, *,
                  note: str | None = None, now: dt.datetime | None = None) -> TicketEvent:
    """Close a resolved ticket as not rated: it stays out of the satisfaction rate."""
    now = now or utcnow()
    ticket.closed_at, ticket.close_reason = now, reason.value
    return transition(session, ticket, Action.CLOSE, actor, now=now, note=note,
                      data={"not_rated": True, "reason": reason.value})


def reopen(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
           now: dt.datetime | None = None, reopening: Reopening | None = None) -> TicketEvent:
    """重办 by dispatch, e.g. after a complaint about the reply."""
    require_role(actor, DISPATCH_ROLES, "reopen tickets")
    reason = required_text("reason", reason)
    _check_allowed(ticket, Action.REOPEN)
    now = now or utcnow()
    succeeded = _unresolve(session, ticket)
    retired = _leave_retired_unit(session, ticket, now)
    change = _new_period(session, ticket, reopening, now)
    data = {**succeeded, **({"deadline": change.as_data()} if change is not None else {})}
    event = transition(session, ticket, Action.REOPEN, actor, now=now, note=reason, unit_id=ticket.unit_id,
                       data=data or None)
    if retired is not None:
        _triage_from_retired(session, ticket, actor, retired, now)
    return event


def _leave_retired_unit(session: Session, ticket: Ticket, now: dt.datetime) -> Unit | None:
    """The ticket's unit when it was retired and no successor took its tickets (a unit may be
    retired without one once it holds no open work, while its resolved tickets still wait for
    回访): it can take nothing, so a 重办 must not go to it. The ticket leaves it before the
    reopen is written, so neither the reopen's notice nor its webhook goes to the retired unit."""
    unit = session.get(Unit, ticket.unit_id) if ticket.unit_id is not None else None
    if unit is None or unit.active:
        return None
    parts.withdraw_open(session, ticket, now)
    ticket.unit_id = None
    return unit


def _triage_from_retired(session: Session, ticket: Ticket, actor: Actor, retired: Unit,
                         now: dt.datetime) -> TicketEvent:
    return triage(session, ticket, actor, REOPENED_TO_TRIAGE_ZH.format(unit=retired.name), now=now,
                  unit_id=retired.id, data={"retired": retired.code})


def triage(session: Session, ticket: Ticket, actor: Actor, reason: str, *, now: dt.datetime | None = None,
           unit_id: int | None = None, data: dict[str, Any] | None = None) -> TicketEvent:
    """转人工分派: a reopened ticket no unit can take back goes to dispatch, where returned
    tickets wait (the operators' queue), the reason in its log; an operator transfers it
    anew. A step of the reopen itself (whoever reopened it), never a form of its own."""
    reason = required_text("reason", reason)
    _check_allowed(ticket, Action.TRIAGE)
    ticket.unit_id = None
    return transition(session, ticket, Action.TRIAGE, actor, now=now, note=reason, unit_id=unit_id, data=data)


def invalidate(session: Session, ticket: Ticket, actor: Actor, reason: str, *,
               now: dt.datetime | None = None, expected_version: int | None = None) -> TicketEvent:
    """无效: close at intake as a silent call, prank, test or abuse; the reason is required."""
    require_role(actor, DISPATCH_ROLES, "close tickets as invalid")
    reason = required_text("reason", reason)
    _check_allowed(ticket, Action.INVALIDATE, expected_version)
    ticket.unit_id = None
    return transition(session, ticket, Action.INVALIDATE, actor, now=now, note=reason)


def merge(session: Session, ticket: Ticket, into: Ticket, actor: Actor, *,
          now: dt.datetime | None = None, expected_version: int | None = None) -> TicketEvent:
    """合并: the ticket follows `into` (its main ticket) from now on. A main ticket that was
    itself merged is followed to the end of the chain, so duplicates never nest."""
    require_role(actor, DISPATCH_ROLES, "merge tickets")
    _check_allowed(ticket, Action.MERGE, expected_version)
    seen = {ticket.id}
    while into.merged_into_id is not None and into.id not in seen:
        seen.add(into.id)
        into = session.get_one(Ticket, into.merged_into_id)
    if into.id in seen:
        raise InvalidInput("into", Reason.MERGE_INTO_ITSELF)
    if State(into.state) in (State.INVALID, State.HANDED_OVER):
        raise InvalidInput("into", Reason.MERGE_TARGET_CLOSED, number=into.number, state=into.state)
    ticket.unit_id = None
    ticket.merged_into_id = into.id
    event = transition(session, ticket, Action.MERGE, actor, now=now,
                       note=f"已并入工单 {into.number}", data={"into": into.number})
    record(session, into, "merge_in", actor, now=now, note=f"工单 {ticket.number} 已并入本工单",
           unit_id=into.unit_id, data={"merged": ticket.number})
    return event


def request_extension(session: Session, ticket: Ticket, actor: Actor, working_days: int,
                      reason: str, *, now: dt.datetime | None = None,
                      max_days: int = DEFAULT_EXTENSION_MAX_WORKING_DAYS) -> ExtensionRequest:
    """延期: the unit asks for at most `max_days` working days more; a supervisor decides."""
    require_unit(actor, ticket.unit_id, "request an extension for this ticket")
    lock(ticket)  # a double click: the second request waits, then sees the first
    if State(ticket.state) not in EXTENDABLE_STATES:
        raise IllegalTransition(ticket.state, "request_extension", ticket.number)
    if not 1 <= working_days <= max_days:
        raise InvalidInput("working_days", Reason.OUT_OF_RANGE, low=1, high=max_days)
    reason = required_text("reason", reason)
    # Another unit's request, left behind when the ticket moved on, does not hold this one up.
    pending = session.scalar(select(ExtensionRequest.id).where(
        ExtensionRequest.ticket_id == ticket.id, ExtensionRequest.unit_id == ticket.unit_id,
        ExtensionRequest.status == ExtensionStatus.PENDING.value))
    if pending is not None:
        raise Conflict(Reason.EXTENSION_WAITING, number=ticket.number)
    now = now or utcnow()
    request = ExtensionRequest(ticket_id=ticket.id, unit_id=ticket.unit_id, requested_by=actor.user_id,
                               requested_at=now, working_days=working_days, reason=reason,
                               status=ExtensionStatus.PENDING.value)
    session.add(request)
    record(session, ticket, "request_extension", actor, now=now, note=reason, unit_id=ticket.unit_id,
           data={"working_days": working_days})
    return request


def decide_extension(session: Session, request: ExtensionRequest, actor: Actor, *, approve: bool,
                     policy: DeadlinePolicy, note: str | None = None,
                     now: dt.datetime | None = None) -> TicketEvent:
    require_role(actor, SUPERVISING_ROLES, "decide extension requests")
    # The status as committed, under the request's row lock: of an approval and a refusal
    # at once, the second waits and then finds the request decided.
    status = session.scalar(select(ExtensionRequest.status).where(ExtensionRequest.id == request.id)
                            .with_for_update())
    if status != ExtensionStatus.PENDING.value:
        raise Conflict(Reason.EXTENSION_DECIDED, status=status)
    ticket = session.get_one(Ticket, request.ticket_id)
    lock(ticket)
    if State(ticket.state) not in EXTENDABLE_STATES or ticket.unit_id != request.unit_id:
        # Resolved, returned, sent elsewhere or merged since: the request waits for nobody.
        raise Conflict(Reason.EXTENSION_MOOT, number=ticket.number)
    now = now or utcnow()
    request.status = (ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED).value
    request.decided_by = actor.user_id
    request.decided_at = now
    request.decision_note = note
    data: dict[str, Any] = {"request_id": request.id, "approved": approve}
    if approve and ticket.deadline is not None:
        old = ticket.deadline
        policy.calendar.sync(session)
        # From the deadline, or from now when it has passed: more time granted late must
        # not end in the past (the ticket would stay overdue with its extension approved).
        ticket.deadline = policy.extend(max(old, now), request.working_days)
        data.update(old_deadline=old.isoformat(), new_deadline=ticket.deadline.isoformat())
    action = "approve_extension" if approve else "refuse_extension"
    return record(session, ticket, action, actor, now=now, note=note, unit_id=request.unit_id, data=data)


RESENT_WITHIN = dt.timedelta(minutes=10)
# A 督办 this soon after the last one (anyone's, the scheduler's too) chases a unit that was
# just chased: it takes the supervisor's confirmation (`again`), which the lists and the
# ticket page ask for.
CONFIRM_AGAIN_WITHIN = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Escalations:
    """How often a ticket was escalated (督办), the scheduler's included, and when last."""

    count: int
    last_at: dt.datetime
    # The unit's last progress note (办理进展) when it came after the last 督办: answered.
    answered_at: dt.datetime | None = None


def escalations(session: Session, ticket_ids: list[int]) -> dict[int, Escalations]:
    """Each of these tickets' 督办 so far and the unit's answer since the last, in one
    statement (the action's index); tickets never escalated are left out."""
    if not ticket_ids:
        return {}
    is_escalation = TicketEvent.action == "escalate"
    rows = session.execute(select(TicketEvent.ticket_id, func.count(case((is_escalation, 1))),
                                  func.max(case((is_escalation, TicketEvent.at))),
                                  func.max(case((is_escalation, TicketEvent.id))),
                                  func.max(case((~is_escalation, TicketEvent.id))),
                                  func.max(case((~is_escalation, TicketEvent.at))))
                           .where(TicketEvent.ticket_id.in_(ticket_ids),
                                  TicketEvent.action.in_(("escalate", "progress")))
                           .group_by(TicketEvent.ticket_id))
    # Ids, not times, say which came last: two events may share a clock reading.
    return {ticket_id: Escalations(int(n), at, answered if last_note and last_note > last_escalation else None)
            for ticket_id, n, at, last_escalation, last_note, answered in rows if n}


def recently_escalated(escalated: Escalations | None, now: dt.datetime) -> bool:
    return escalated is not None and now - escalated.last_at < CONFIRM_AGAIN_WITHIN


def escalate(session: Session, ticket: Ticket, actor: Actor, note: str, *,
             now: dt.datetime | None = None, again: bool = False) -> TicketEvent:
    """督办: a supervisor chases an overdue or stuck ticket. The same 督办 again (the same
    person and words within RESENT_WITHIN: a form sent twice by the back button or a double
    click) is refused rather than chasing the unit twice; any other within
    CONFIRM_AGAIN_WITHIN of the last one is refused unless confirmed (`again`)."""
    require_role(actor, SUPERVISING_ROLES, "escalate tickets")
    if State(ticket.state) in FINISHED_STATES:
        raise IllegalTransition(ticket.state, "escalate", ticket.number)
    note = required_text("note", note)
    now = now or utcnow()
    last = session.execute(select(TicketEvent.actor, TicketEvent.note, TicketEvent.at)
                           .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "escalate")
                           .order_by(TicketEvent.id.desc()).limit(1)).first()
    if last is not None and (last.actor, last.note) == (actor.label, note) and now - last.at < RESENT_WITHIN:
        raise Conflict(Reason.ALREADY_ESCALATED, number=ticket.number)
    if last is not None and not again and now - last.at < CONFIRM_AGAIN_WITHIN:
        so_far = escalations(session, [ticket.id])[ticket.id]
        raise Conflict(Reason.ESCALATED_RECENTLY, number=ticket.number, count=so_far.count,
                       at=last.at.astimezone(CHINA).strftime("%m-%d %H:%M"))
    return record(session, ticket, "escalate", actor, now=now, note=note, unit_id=ticket.unit_id)


def is_overdue(ticket: Ticket, now: dt.datetime | None = None) -> bool:
    """超期: still open past its deadline."""
    if ticket.deadline is None or State(ticket.state) in FINISHED_STATES:
        return False
    return (now or utcnow()) > ticket.deadline
