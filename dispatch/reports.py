"""One function per figure of docs/DESIGN.md, for tickets (or calls) of a period, as of now.

Ticket figures add up running totals (rollup.py) that follow the per-ticket summary
lifecycle.py keeps beside every event; recount_from_events() rebuilds that summary from the
event log alone and reports any difference, so every figure can be traced to events.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, text
from sqlalchemy.orm import Session

from dispatch.clock import local_date, local_day_start, utcnow
from dispatch import call_totals, disputes, period_totals, rollup
from dispatch.models import (OPEN_DEADLINE, Call, OpenTicketRollup, Ticket, TicketChannelRollup, TicketEvent,
                             TicketRollup, TransferRollup, Unit)
from dispatch.states import FINISHED_STATES, Bucket, State
from dispatch.vocabulary import EmergencyService

SERVICE_LEVEL_SECONDS = 20
# GB/T 33358-2016: a call is answered in time within 15 s (the 15-second answer rate).
ANSWER_IN_TIME_SECONDS = 15


@dataclass(frozen=True)
class CallPolicy:
    """How calls are counted: the service-level threshold, and short abandons (the caller
    hung up within this many seconds of waiting: a misdial, not a failure of service), left
    out of the abandonment rate only, as VICIdial and QueueMetrics allow; 0 = counted."""

    service_level_seconds: int = SERVICE_LEVEL_SECONDS
    short_abandon_seconds: int = 0


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
    followed_up: int
    rated_phone: int
    rated_web: int
    rated_sms: int
    handed_over: int
    invalid: int
    merged: int
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

    @property
    def follow_up_rate(self) -> float | None:
        """回访率: resolved tickets rated or followed up without reaching the citizen."""
        return rate(self.followed_up, self.resolved)

    @property
    def rating_channels(self) -> dict[str, int]:
        return {"phone": self.rated_phone, "web": self.rated_web, "sms": self.rated_sms}

    def as_dict(self) -> dict[str, Any]:
        # vars(), not dataclasses.asdict(): its deep copy of each number was most of the
        # Python time of a year's figures.
        return {**vars(self), "transfer_rate": self.transfer_rate,
                "successful_transfer_rate": self.successful_transfer_rate,
                "return_rate": self.return_rate, "resolution_rate": self.resolution_rate,
                "on_time_rate": self.on_time_rate, "satisfaction_rate": self.satisfaction_rate,
                "follow_up_rate": self.follow_up_rate, "rating_channels": self.rating_channels}


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_OPEN = Ticket.state.not_in([s.value for s in FINISHED_STATES])
OPEN_STATES = tuple(s.value for s in State if s not in FINISHED_STATES)
# The order of TicketFigures' fields before `overdue`, as named in the running totals.
_FIGURE_COUNTS = ("received", "answered", "transferred", "transfers", "accepted_transfers",
                  "returned_transfers", "resolved", "resolved_on_time", "rated", "satisfied_or_partly",
                  "followed_up", "rated_phone", "rated_web", "rated_sms", "handed_over", "invalid", "merged")


def _overdue(session: Session, period: Period, now: dt.datetime) -> list[tuple[int | None, str | None, int]]:
    """超期 changes as time passes, so it is not a running total itself: the totals keep the
    open tickets by the China day of their deadline (rollup.open_contribution), every one of
    a day before today is overdue, and of today's deadlines those already past are counted
    from the tickets (the (state, deadline) index finds them; few: deadlines fall at the end
    of a working day)."""
    today = local_date(now)
    t = OpenTicketRollup
    counts: dict[tuple[int | None, str | None], int] = {}
    for unit_id, category, n in session.execute(
            select(t.unit_id, t.category, func.sum(t.tickets))
            .where(t.day >= period.since, t.day <= period.until, t.deadline_day < today)
            .group_by(t.unit_id, t.category)):
        if n:
            counts[unit_id or None, category or None] = int(n)
    start, end = period.start, period.end
    for unit_id, category, received_at in _past_deadline_today(session, now):
        if start <= received_at < end:
            counts[unit_id, category] = counts.get((unit_id, category), 0) + 1
    return [(unit_id, category, n) for (unit_id, category), n in counts.items()]


def _past_deadline_today(session: Session, now: dt.datetime) -> Any:
    return session.execute(select(Ticket.unit_id, Ticket.category, Ticket.received_at)
                           .where(Ticket.state.in_(OPEN_STATES), Ticket.deadline >= local_day_start(local_date(now)),
                                  Ticket.deadline < now))


def overdue_count(session: Session, now: dt.datetime | None = None) -> int:
    """Every open ticket past its deadline now, whenever received: the chasing list's length."""
    return int(session.scalar(overdue_length(), overdue_params(now or utcnow())) or 0)


@functools.cache
def overdue_length() -> Any:
    """overdue_count() as a statement of one value, for one that counts other things beside
    it (its parameters from overdue_params()): the running totals of every deadline day
    before today, and today's deadlines already past counted from the tickets (the partial
    index of open deadlines, as it is written). Built once."""
    kept = (select(func.coalesce(func.sum(OpenTicketRollup.tickets), 0))
            .where(OpenTicketRollup.deadline_day < bindparam("today")).scalar_subquery())
    today = (select(func.count()).select_from(Ticket)
             .where(text(OPEN_DEADLINE), Ticket.deadline >= bindparam("today_start"), Ticket.deadline < bindparam("now"))
             .scalar_subquery())
    return select(kept + today)


def overdue_params(now: dt.datetime) -> dict[str, Any]:
    today = local_date(now)
    return {"today": today, "today_start": local_day_start(today), "now": now}


Overdue = list[tuple[int | None, str | None, int]]


TicketTotals = list[tuple[Any, ...]]


def _ticket_totals(session: Session, period: Period) -> TicketTotals:
    """The period's ticket totals per (category, unit): one read that the ticket, category,
    unit and board figures of summary() all add up (each alone would read them again)."""
    return rollup.totals(session, TicketRollup, period.since, period.until, ("category", "unit_id"),
                         rollup.TICKET_COUNTS)


def _added(rows: TicketTotals, counts: tuple[str, ...]) -> list[int]:
    if not rows:
        return [0] * len(counts)
    columns = list(zip(*rows))
    return [int(sum(columns[2 + rollup.TICKET_COUNTS.index(c)])) for c in counts]


def ticket_figures(session: Session, period: Period, *, now: dt.datetime | None = None,
                   overdue_rows: Overdue | None = None, totals: TicketTotals | None = None) -> TicketFigures:
    if totals is None:
        (row,) = rollup.totals(session, TicketRollup, period.since, period.until, (), _FIGURE_COUNTS)
    else:
        row = tuple(_added(totals, _FIGURE_COUNTS))
    if overdue_rows is None:
        overdue_rows = _overdue(session, period, now or utcnow())
    overdue = sum(n for _, _, n in overdue_rows)
    return TicketFigures(*(int(v) for v in row), overdue=overdue)


def figures_by_category(session: Session, period: Period, *, now: dt.datetime | None = None,
                        overdue_rows: Overdue | None = None,
                        totals: TicketTotals | None = None) -> dict[str | None, TicketFigures]:
    if overdue_rows is None:
        overdue_rows = _overdue(session, period, now or utcnow())
    overdue: dict[str | None, int] = {}
    for _, category, n in overdue_rows:
        overdue[category] = overdue.get(category, 0) + n
    if totals is None:
        rows = rollup.totals(session, TicketRollup, period.since, period.until, ("category",), _FIGURE_COUNTS)
    else:
        grouped: dict[str, TicketTotals] = {}
        for row in totals:
            grouped.setdefault(row[0], []).append(row)
        rows = [(stored, *_added(group, _FIGURE_COUNTS)) for stored, group in grouped.items()]
    figures = {}
    for stored, *values in rows:
        category = stored or None  # the running totals keep "no category" as ''
        figures[category] = TicketFigures(*(int(v) for v in values), overdue=overdue.get(category, 0))
    return figures


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
    rated: int             # tickets now with this unit that were rated
    satisfied_or_partly: int
    overdue: int           # open tickets with this unit, past their deadline now

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self),
                "successful_transfer_rate": rate(self.accepted, self.received),
                "return_rate": rate(self.returned, self.received),
                "resolution_rate": rate(self.resolved, self.received),
                "on_time_rate": rate(self.resolved_on_time, self.resolved),
                "satisfaction_rate": rate(self.satisfied_or_partly, self.rated)}


def unit_figures(session: Session, period: Period, *, now: dt.datetime | None = None,
                 overdue_rows: Overdue | None = None, totals: TicketTotals | None = None,
                 transfer_rows: list[tuple[Any, ...]] | None = None,
                 unit_names: dict[int, tuple[str, str]] | None = None) -> list[UnitFigures]:
    """`transfer_rows` (unit_id, *TRANSFER_COUNTS) and `unit_names` (id -> code, name): as
    read already (period_totals.read), else read here."""
    if overdue_rows is None:
        overdue_rows = _overdue(session, period, now or utcnow())
    if transfer_rows is None:
        transfer_rows = rollup.totals(session, TransferRollup, period.since, period.until, ("unit_id",),
                                      rollup.TRANSFER_COUNTS)
    by_unit: dict[int, list[int]] = {}
    for unit_id, *values in transfer_rows:
        by_unit[unit_id] = [int(v) for v in values] + [0, 0, 0]
    if totals is None:
        rated_rows = rollup.totals(session, TicketRollup, period.since, period.until, ("unit_id",),
                                   ("rated", "satisfied_or_partly"))
    else:
        by_unit_rated: dict[int, list[int]] = {}
        rated_at, good_at = (2 + rollup.TICKET_COUNTS.index(c) for c in ("rated", "satisfied_or_partly"))
        for row in totals:
            added = by_unit_rated.setdefault(row[1], [0, 0])
            added[0] += int(row[rated_at])
            added[1] += int(row[good_at])
        rated_rows = [(unit_id, *values) for unit_id, values in by_unit_rated.items()]
    for unit_id, rated, good in rated_rows:
        if unit_id and (rated or good):
            by_unit.setdefault(unit_id, [0] * 8)[5:7] = [int(rated), int(good)]
    for unit_id, _, n in overdue_rows:
        if unit_id is not None:
            by_unit.setdefault(unit_id, [0] * 8)[7] += n
    if unit_names is None:
        unit_names = ({u.id: (u.code, u.name) for u in session.scalars(select(Unit).where(Unit.id.in_(by_unit)))}
                      if by_unit else {})
    figures = [UnitFigures(*unit_names[uid], *values) for uid, values in by_unit.items()]
    return sorted(figures, key=lambda f: (-f.received, f.unit_code))


def board_counts(session: Session, period: Period, *, totals: TicketTotals | None = None) -> dict[str, int]:
    """The big screen: received, and how many of those are pending, in progress, resolved."""
    counts = ("received", "pending", "in_progress", "resolved_bucket")
    if totals is None:
        (row,) = rollup.totals(session, TicketRollup, period.since, period.until, (), counts)
    else:
        row = tuple(_added(totals, counts))
    received, pending, in_progress, resolved = (int(v) for v in row)
    return {"received": received, Bucket.PENDING.value: pending, Bucket.IN_PROGRESS.value: in_progress,
            Bucket.RESOLVED.value: resolved}


def summary(session: Session, period: Period, *, now: dt.datetime | None = None,
            calls: CallPolicy = CallPolicy(), agents: bool = True) -> dict[str, Any]:
    """Every figure of the period at once (what /api/v1/stats and `hotline report` show),
    from one read of the running totals (period_totals.py); each figure as the function of
    its name above defines it. `agents`: the call figures per answering agent too (the
    supervisor's page)."""
    kept = period_totals.read(session, period.since, period.until, now or utcnow(), agents=agents,
                              service_level=calls.service_level_seconds, in_time=ANSWER_IN_TIME_SECONDS,
                              short_abandon=calls.short_abandon_seconds)
    overdue_rows = [(unit_id, category, n) for (unit_id, category), n in kept.overdue.items()]
    totals = kept.tickets
    if kept.calls is None:   # thresholds between the kept steps: the calls themselves
        all_calls = call_figures_between(session, period.start, period.end, calls)
        per_queue = call_figures_by_rows(session, period, "queue", calls)
        per_agent = call_figures_by_rows(session, period, "agent", calls) if agents else {}
    else:
        all_calls = _from_sums(sum(kept.calls["queue"].values(), call_totals.CallSums()), calls)
        per_queue = {name or None: _from_sums(sums, calls) for name, sums in kept.calls["queue"].items()}
        per_agent = {name or None: _from_sums(sums, calls) for name, sums in kept.calls["agent"].items()}
    return {
        "period": {"since": period.since.isoformat(), "until": period.until.isoformat()},
        "tickets": ticket_figures(session, period, overdue_rows=overdue_rows, totals=totals).as_dict(),
        "board": board_counts(session, period, totals=totals),
        "units": [u.as_dict() for u in unit_figures(session, period, overdue_rows=overdue_rows, totals=totals,
                                                    transfer_rows=kept.transfers, unit_names=kept.units)],
        "categories": {k or "": v.as_dict() for k, v in
                       figures_by_category(session, period, overdue_rows=overdue_rows, totals=totals).items()},
        "handovers": _handovers(kept.handovers),
        "disputes": [disputes.DisputeFigures(*row).as_dict() for row in kept.disputes],
        "calls": {**all_calls.as_dict(),
                  "queues": {k or "": v.as_dict() for k, v in per_queue.items()},
                  "agents": {k or "": v.as_dict() for k, v in per_agent.items()}},
    }


def handovers(session: Session, period: Period) -> dict[str, int]:
    """即时转 of tickets received in the period, per emergency number (110, 119, 120, 122)."""
    return _handovers(rollup.totals(session, TicketChannelRollup, period.since, period.until, ("handed_over_to",),
                                    ("received",)))


def _handovers(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    counts = {service.value: 0 for service in EmergencyService}
    for to, n in rows:
        if to in counts:
            counts[to] += int(n)
    return counts


def public_summary(session: Session, period: Period, *, now: dt.datetime | None = None,
                   calls: CallPolicy = CallPolicy()) -> dict[str, Any]:
    """The figures anyone may read (/api/v1/stats): summary() without the per-agent call
    figures, which rate named staff and are for supervisors only."""
    figures = summary(session, period, now=now, calls=calls, agents=False)
    figures["calls"].pop("agents", None)
    return figures


@dataclass(frozen=True)
class CallFigures:
    offered: int
    answered: int
    abandoned: int
    answered_within_service_level: int
    mean_wait_answered: float | None
    mean_talk_answered: float | None
    answered_within_15s: int = 0
    short_abandoned: int = 0   # abandoned within CallPolicy.short_abandon_seconds (0 when off)
    service_level_seconds: int = SERVICE_LEVEL_SECONDS

    @property
    def answer_rate(self) -> float | None:
        return rate(self.answered, self.offered)

    @property
    def answer_rate_15s(self) -> float | None:
        return rate(self.answered_within_15s, self.offered)

    @property
    def abandonment_rate(self) -> float | None:
        """Short abandons leave both sides of this one rate; every other figure counts them."""
        return rate(self.abandoned - self.short_abandoned, self.offered - self.short_abandoned)

    def as_dict(self) -> dict[str, Any]:
        return {"offered": self.offered, "answered": self.answered, "abandoned": self.abandoned,
                "short_abandoned": self.short_abandoned,
                "answer_rate": self.answer_rate,
                "abandonment_rate": self.abandonment_rate,
                "asa_seconds": self.mean_wait_answered,
                "answered_within_15s": self.answered_within_15s,
                "answer_rate_15s": self.answer_rate_15s,
                "service_level_seconds": self.service_level_seconds,
                "answered_within_service_level": self.answered_within_service_level,
                "service_level": rate(self.answered_within_service_level, self.offered),
                "aht_seconds": self.mean_talk_answered}


def _call_columns(policy: CallPolicy) -> list[Any]:
    answered = Call.answered_at.is_not(None)
    abandoned = Call.outcome == "abandoned"
    short = (and_(abandoned, Call.wait_seconds <= policy.short_abandon_seconds)
             if policy.short_abandon_seconds > 0 else None)
    return [func.count(Call.id), _sum(answered), _sum(abandoned),
            _sum(and_(answered, Call.wait_seconds <= policy.service_level_seconds)),
            func.avg(case((answered, Call.wait_seconds))), func.avg(case((answered, Call.talk_seconds))),
            _sum(and_(answered, Call.wait_seconds <= ANSWER_IN_TIME_SECONDS)),
            _sum(short) if short is not None else func.coalesce(func.sum(0), 0)]


def _call_figures(row: Any, policy: CallPolicy) -> CallFigures:
    offered, answered, abandoned, within, asa, aht, in_time, short = row
    return CallFigures(int(offered), int(answered), int(abandoned), int(within),
                       None if asa is None else float(asa), None if aht is None else float(aht),
                       int(in_time), int(short or 0), policy.service_level_seconds)


def _offered_in(period: Period) -> Any:
    # Offered to the hotline queue: calls that never reached a queue (IVR only, an
    # operator's own consultation leg, a callback) are not offered calls.
    return and_(Call.entered_queue_at >= period.start, Call.entered_queue_at < period.end)


def call_figures(session: Session, period: Period, policy: CallPolicy = CallPolicy()) -> CallFigures:
    """Calls offered to the hotline queue in the period (docs/DESIGN.md: answer rate, ASA, ...)."""
    kept = _kept_call_sums(session, period, "queue", policy)
    if kept is None:
        return call_figures_between(session, period.start, period.end, policy)
    return _from_sums(sum(kept.values(), call_totals.CallSums()), policy)


def _calls_and_queues(session: Session, period: Period,
                      policy: CallPolicy) -> tuple[CallFigures, dict[str | None, CallFigures]]:
    """The period's call figures in all and per queue: one read of the totals."""
    kept = _kept_call_sums(session, period, "queue", policy)
    if kept is None:
        return call_figures(session, period, policy), call_figures_by_rows(session, period, "queue", policy)
    return (_from_sums(sum(kept.values(), call_totals.CallSums()), policy),
            {name or None: _from_sums(sums, policy) for name, sums in kept.items()})


def _kept_call_sums(session: Session, period: Period, grouped_by: str,
                    policy: CallPolicy) -> dict[str, call_totals.CallSums] | None:
    """The running totals per queue or agent, or None when the policy's thresholds are
    past what they keep (then the calls themselves are counted)."""
    if not call_totals.covers(policy.service_level_seconds, policy.short_abandon_seconds, ANSWER_IN_TIME_SECONDS):
        return None
    return call_totals.sums(session, period.since, period.until, grouped_by,
                            service_level=policy.service_level_seconds, in_time=ANSWER_IN_TIME_SECONDS,
                            short_abandon=policy.short_abandon_seconds)


def _from_sums(kept: call_totals.CallSums, policy: CallPolicy) -> CallFigures:
    return CallFigures(kept.offered, kept.answered, kept.abandoned, kept.answered_within_service_level,
                       kept.wait_sum / kept.waited if kept.waited else None,
                       kept.talk_sum / kept.talked if kept.talked else None,
                       kept.answered_within_in_time, kept.short_abandoned, policy.service_level_seconds)


def call_figures_between(session: Session, start: dt.datetime, end: dt.datetime,
                         policy: CallPolicy = CallPolicy(), *, settled: bool = False) -> CallFigures:
    """The same figures for calls that entered the queue from `start` to just before `end`
    (the wallboard's last 24 hours). `settled`: leave out callers still waiting, whose
    outcome is not known yet (a rolling rate would dip with every call that rings)."""
    offered = and_(Call.entered_queue_at >= start, Call.entered_queue_at < end)
    if settled:
        offered = and_(offered, or_(Call.outcome != "open", Call.answered_at.is_not(None)))
    return _call_figures(session.execute(select(*_call_columns(policy)).where(offered)).one(), policy)


def call_figures_by(session: Session, period: Period, column: str,
                    policy: CallPolicy = CallPolicy()) -> dict[str | None, CallFigures]:
    """The same figures per queue or per answering agent (column "queue" or "agent"); None
    for calls without one."""
    kept = _kept_call_sums(session, period, column, policy)
    if kept is not None:
        return {name or None: _from_sums(sums, policy) for name, sums in kept.items()}
    return call_figures_by_rows(session, period, column, policy)


def call_figures_by_rows(session: Session, period: Period, column: str,
                         policy: CallPolicy = CallPolicy()) -> dict[str | None, CallFigures]:
    """call_figures_by() counted from the calls themselves."""
    group = {"queue": Call.queue, "agent": Call.agent}[column]
    rows = session.execute(select(group, *_call_columns(policy)).where(_offered_in(period)).group_by(group))
    return {row[0]: _call_figures(row[1:], policy) for row in rows}


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
