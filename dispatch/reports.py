"""One function per figure of DESIGN.md, for tickets (or calls) of a period, as of now.

Ticket figures read the per-ticket summary that lifecycle.py keeps beside every event, so a
million tickets are one indexed scan; recount_from_events() rebuilds that summary from the
event log alone and reports any difference, so every figure can be traced to events.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from dispatch.clock import local_day_start, utcnow
from dispatch.models import Call, Ticket, TicketEvent, Transfer, Unit
from dispatch.states import BOARD_BUCKET, FINISHED_STATES, Bucket, State
from dispatch.vocabulary import Rating, TransferOutcome

SERVICE_LEVEL_SECONDS = 20


@dataclass(frozen=True)
class Period:
    """China calendar days `since` to `until`, both included."""

    since: dt.date
    until: dt.date

    @property
    def start(self) -> dt.datetime:
        return local_day_start(self.since)

    @property
    def end(self) -> dt.datetime:
        return local_day_start(self.until + dt.timedelta(days=1))


def rate(numerator: int, denominator: int) -> float | None:
    """A fraction 0..1, or None where there is nothing to divide by."""
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class TicketFigures:
    received: int
    answered: int
    transferred: int
    transfers: int
    accepted_transfers: int
    returned_transfers: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied_or_partly: int
    overdue: int

    @property
    def transfer_rate(self) -> float | None:
        return rate(self.transferred, self.received)

    @property
    def successful_transfer_rate(self) -> float | None:
        return rate(self.accepted_transfers, self.transfers)

    @property
    def return_rate(self) -> float | None:
        return rate(self.returned_transfers, self.transfers)

    @property
    def resolution_rate(self) -> float | None:
        return rate(self.resolved + self.answered, self.received)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.resolved_on_time, self.resolved)

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.satisfied_or_partly, self.rated)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "transfer_rate": self.transfer_rate,
                "successful_transfer_rate": self.successful_transfer_rate,
                "return_rate": self.return_rate, "resolution_rate": self.resolution_rate,
                "on_time_rate": self.on_time_rate, "satisfaction_rate": self.satisfaction_rate}


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_UNIT_RESOLVED = Ticket.state.in_([State.RESOLVED.value, State.CLOSED.value])
_OPEN = Ticket.state.not_in([s.value for s in FINISHED_STATES])
_GOOD_RATING = Ticket.rating.in_([Rating.SATISFIED.value, Rating.PARTLY.value])


def _ticket_columns(now: dt.datetime) -> list[Any]:
    return [
        func.count(Ticket.id),
        _sum(Ticket.state == State.ANSWERED.value),
        _sum(Ticket.transfer_count > 0),
        func.coalesce(func.sum(Ticket.transfer_count), 0),
        func.coalesce(func.sum(Ticket.accepted_transfer_count), 0),
        func.coalesce(func.sum(Ticket.return_count), 0),
        _sum(_UNIT_RESOLVED),
        _sum(and_(_UNIT_RESOLVED, Ticket.resolved_on_time.is_(True))),
        _sum(Ticket.rating.is_not(None)),
        _sum(_GOOD_RATING),
        _sum(and_(_OPEN, Ticket.deadline < now)),
    ]


def _in_period(statement: Select[Any], period: Period) -> Select[Any]:
    return statement.where(Ticket.received_at >= period.start, Ticket.received_at < period.end)


def ticket_figures(session: Session, period: Period, *, now: dt.datetime | None = None) -> TicketFigures:
    row = session.execute(_in_period(select(*_ticket_columns(now or utcnow())), period)).one()
    return TicketFigures(*(int(v) for v in row))


def figures_by_category(session: Session, period: Period, *,
                        now: dt.datetime | None = None) -> dict[str | None, TicketFigures]:
    statement = _in_period(select(Ticket.category, *_ticket_columns(now or utcnow())), period)
    rows = session.execute(statement.group_by(Ticket.category)).all()
    return {row[0]: TicketFigures(*(int(v) for v in row[1:])) for row in rows}


@dataclass(frozen=True)
class UnitFigures:
    """A unit's figures: everything transferred to it for tickets received in the period."""

    unit_code: str
    unit_name: str
    received: int          # transfers to this unit
    accepted: int
    returned: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied_or_partly: int
    overdue: int           # open tickets with this unit, past their deadline now

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self),
                "successful_transfer_rate": rate(self.accepted, self.received),
                "return_rate": rate(self.returned, self.received),
                "resolution_rate": rate(self.resolved, self.received),
                "on_time_rate": rate(self.resolved_on_time, self.resolved),
                "satisfaction_rate": rate(self.satisfied_or_partly, self.rated)}


def unit_figures(session: Session, period: Period, *, now: dt.datetime | None = None) -> list[UnitFigures]:
    now = now or utcnow()
    transfers = session.execute(
        _in_period(select(
            Transfer.unit_id, func.count(Transfer.id),
            _sum(Transfer.outcome == TransferOutcome.ACCEPTED.value),
            _sum(Transfer.outcome == TransferOutcome.RETURNED.value),
            _sum(Transfer.resolved_at.is_not(None)),
            _sum(Transfer.resolved_on_time.is_(True)),
        ).join(Ticket, Ticket.id == Transfer.ticket_id), period).group_by(Transfer.unit_id)
    ).all()
    current = session.execute(
        _in_period(select(Ticket.unit_id, _sum(Ticket.rating.is_not(None)), _sum(_GOOD_RATING),
                          _sum(and_(_OPEN, Ticket.deadline < now))), period)
        .where(Ticket.unit_id.is_not(None)).group_by(Ticket.unit_id)
    ).all()
    by_unit: dict[int, list[int]] = {}
    for unit_id, *values in transfers:
        by_unit[unit_id] = [int(v) for v in values] + [0, 0, 0]
    for unit_id, rated, good, overdue in current:
        by_unit.setdefault(unit_id, [0, 0, 0, 0, 0, 0, 0, 0])[5:] = [int(rated), int(good), int(overdue)]
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(by_unit)))}
    figures = [UnitFigures(units[uid].code, units[uid].name, *values) for uid, values in by_unit.items()]
    return sorted(figures, key=lambda f: (-f.received, f.unit_code))


def board_counts(session: Session, period: Period) -> dict[str, int]:
    """The big screen: received, and how many of those are pending, in progress, resolved."""
    rows = session.execute(_in_period(select(Ticket.state, func.count(Ticket.id)), period)
                           .group_by(Ticket.state)).all()
    counts = {"received": 0, Bucket.PENDING.value: 0, Bucket.IN_PROGRESS.value: 0, Bucket.RESOLVED.value: 0}
    for state, n in rows:
        counts["received"] += n
        bucket = BOARD_BUCKET[State(state)]
        if bucket is not Bucket.CLOSED_OTHER:
            counts[bucket.value] += n
    return counts


@dataclass(frozen=True)
class CallFigures:
    offered: int
    answered: int
    abandoned: int
    answered_within_service_level: int
    mean_wait_answered: float | None
    mean_talk_answered: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
                "answer_rate": rate(self.answered, self.offered),
                "abandonment_rate": rate(self.abandoned, self.offered),
                "asa_seconds": self.mean_wait_answered,
                "service_level": rate(self.answered_within_service_level, self.offered),
                "aht_seconds": self.mean_talk_answered}


def call_figures(session: Session, period: Period, *, queue: str | None = None) -> CallFigures:
    """Calls offered to the hotline queue in the period (DESIGN.md: answer rate, ASA, ...)."""
    answered = Call.answered_at.is_not(None)
    statement = select(
        func.count(Call.id), _sum(answered), _sum(Call.outcome == "abandoned"),
        _sum(and_(answered, Call.wait_seconds <= SERVICE_LEVEL_SECONDS)),
        func.avg(case((answered, Call.wait_seconds))), func.avg(case((answered, Call.talk_seconds))),
    ).where(Call.entered_queue_at >= period.start, Call.entered_queue_at < period.end)
    if queue is not None:
        statement = statement.where(Call.queue == queue)
    offered, n_answered, abandoned, within, asa, aht = session.execute(statement).one()
    return CallFigures(int(offered), int(n_answered), int(abandoned), int(within),
                       None if asa is None else float(asa), None if aht is None else float(aht))


def recount_from_events(session: Session) -> list[str]:
    """Rebuild each ticket's state and transfer counts from its events alone; list every
    ticket whose stored summary disagrees (empty when the log and the figures agree)."""
    replay: dict[int, dict[str, Any]] = {}
    events = session.execute(select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.from_state,
                                    TicketEvent.to_state, TicketEvent.data).order_by(TicketEvent.id))
    for ticket_id, action, from_state, to_state, data in events:
        r = replay.setdefault(ticket_id, {"state": None, "transfers": 0, "accepted": 0, "returned": 0,
                                          "rating": None})
        r["state"] = to_state
        if action == "transfer":
            r["transfers"] += 1
        elif action == "accept" and from_state == State.TRANSFERRED.value:
            r["accepted"] += 1
        elif action == "return":
            r["returned"] += 1
        if data and "rating" in data:
            r["rating"] = data["rating"]
    problems = []
    for ticket in session.execute(select(Ticket.id, Ticket.number, Ticket.state, Ticket.transfer_count,
                                         Ticket.accepted_transfer_count, Ticket.return_count,
                                         Ticket.rating)):
        r = replay.get(ticket.id)
        stored = (ticket.state, ticket.transfer_count, ticket.accepted_transfer_count,
                  ticket.return_count, ticket.rating)
        derived = None if r is None else (r["state"], r["transfers"], r["accepted"], r["returned"], r["rating"])
        if stored != derived:
            problems.append(f"{ticket.number}: stored {stored}, events say {derived}")
    return problems
