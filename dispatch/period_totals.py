"""Every running total the figures of a period add up, read in one statement.

reports.summary() adds up the ticket totals per (category, unit), the transfers per unit,
the open tickets past their deadline, the hand-overs per emergency number, the calls per
queue (and per agent for supervisors), the disputes per unit and the units' names. Read one
by one, that was eight round trips and as many statements built and compiled per request:
most of the figures' time, on a busy machine, whatever the period held. Here each is one
part of a UNION ALL, tagged with its name, its rows of the same shape: a part name, two
texts, a number key, then the sums. One statement also sees one snapshot of the totals.

The statement is built once per shape (with or without the agents, short abandons counted
or not) with the period and thresholds as parameters: building and compiling it cost more
than running it.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import LABEL_STYLE_NONE, Integer, and_, bindparam, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from dispatch import call_totals, rollup
from dispatch.clock import local_date, local_day_start
from dispatch.models import (CallRollup, Dispute, OpenTicketRollup, Ticket, TicketChannelRollup, TicketRollup,
                             TransferRollup, Unit)
from dispatch.states import FINISHED_STATES, State
from dispatch.vocabulary import DisputeStatus

# Written out in the statement: a list parameter is expanded by a regular expression on
# every execution, the costliest step of running it.
_OPEN_LITERALS = [literal_column(f"'{s.value}'") for s in State if s not in FINISHED_STATES]
_NULL, _ZERO, _ONE = literal_column("NULL"), literal_column("0"), literal_column("1")
_CALL_SUMS = 10   # call_totals.CallSums' fields
_WIDTH = max(len(rollup.TICKET_COUNTS), len(rollup.TRANSFER_COUNTS), _CALL_SUMS, 3)


@dataclass
class PeriodTotals:
    """What the figures of a period add up, each as rollup.totals() or call_totals.sums()
    would give it; `calls` None when the call thresholds are not kept steps (then the calls
    are counted from the calls themselves)."""

    tickets: list[tuple[Any, ...]] = field(default_factory=list)     # (category, unit_id, *TICKET_COUNTS)
    transfers: list[tuple[Any, ...]] = field(default_factory=list)   # (unit_id, *TRANSFER_COUNTS)
    overdue: dict[tuple[int | None, str | None], int] = field(default_factory=dict)
    handovers: list[tuple[str, int]] = field(default_factory=list)   # (handed_over_to, received)
    disputes: list[tuple[str, str, int, int, int]] = field(default_factory=list)  # code, name, n, up, down
    units: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)
    calls: dict[str, dict[str, call_totals.CallSums]] | None = None  # grouped_by -> name -> sums


def _part(name: str, texts: tuple[Any, Any], key: Any, values: list[Any], *, named: bool = False) -> list[Any]:
    """One part's columns; `named` in the first part only (a UNION's columns take its names)."""
    columns = [literal_column(f"'{name}'"), *texts, key, *values, *([_NULL] * (_WIDTH - len(values)))]
    if not named:
        return columns
    return [c.label(label) for c, label in zip(columns, ("part", "text1", "text2", "key",
                                                           *(f"v{i}" for i in range(_WIDTH))))]


def _sums(table: Any, counts: tuple[str, ...]) -> list[Any]:
    # Each part is grouped: a group has rows, so no sum is NULL (the columns are NOT NULL).
    return [func.sum(table.c[c]) for c in counts]


def _in_period(table: Any) -> Any:
    return and_(table.c.day >= bindparam("since"), table.c.day <= bindparam("until"))


@functools.cache
def _statement(agents: bool, calls: bool, short_abandon: bool) -> Any:
    # Short aliases: psycopg converts a statement of over 4,096 characters anew each time.
    tickets, transfers = TicketRollup.__table__.alias("t"), TransferRollup.__table__.alias("x")
    kept_open, channels = OpenTicketRollup.__table__.alias("o"), TicketChannelRollup.__table__.alias("h")
    # Inline literals: grouped by, they must read the same as selected (a parameter would not).
    category, unit_id = (func.coalesce(Ticket.category, literal_column("''")),
                         func.coalesce(Ticket.unit_id, literal_column("0")))
    parts = [
        select(*_part("tickets", (tickets.c.category, _NULL), tickets.c.unit_id,
                      _sums(tickets, rollup.TICKET_COUNTS), named=True))
        .where(_in_period(tickets)).group_by(tickets.c.category, tickets.c.unit_id),
        select(*_part("transfers", (_NULL, _NULL), transfers.c.unit_id, _sums(transfers, rollup.TRANSFER_COUNTS)))
        .where(_in_period(transfers)).group_by(transfers.c.unit_id),
        # 超期 (reports._overdue): open tickets of a deadline day before today, from the totals...
        select(*_part("overdue", (kept_open.c.category, _NULL), kept_open.c.unit_id, _sums(kept_open, ("tickets",))))
        .where(_in_period(kept_open), kept_open.c.deadline_day < bindparam("today"))
        .group_by(kept_open.c.category, kept_open.c.unit_id),
        # ...and of today's deadlines those already past, from the tickets ((state, deadline) index).
        select(*_part("overdue", (category, _NULL), unit_id, [func.count()]))
        .where(Ticket.state.in_(_OPEN_LITERALS), Ticket.deadline >= bindparam("today_start"),
               Ticket.deadline < bindparam("now"), Ticket.received_at >= bindparam("start"),
               Ticket.received_at < bindparam("end"))
        .group_by(category, unit_id),
        select(*_part("handovers", (channels.c.handed_over_to, _NULL), _NULL, _sums(channels, ("received",))))
        .where(_in_period(channels)).group_by(channels.c.handed_over_to),
        select(*_part("disputes", (Unit.code, Unit.name), _NULL,
                      [func.count(Dispute.id), _count_status(DisputeStatus.UPHELD),
                       _count_status(DisputeStatus.REFUSED)]))
        .join(Unit, Unit.id == Dispute.unit_id)
        .where(Dispute.raised_at >= bindparam("start"), Dispute.raised_at < bindparam("end"))
        .group_by(Unit.code, Unit.name),
        select(*_part("units", (Unit.code, Unit.name), Unit.id, [])),
    ]
    if calls:
        parts.append(_calls_part(CallRollup.__table__.alias("c"), ("queue", "agent") if agents else ("queue",), short_abandon))
    # Unlabelled: only the first part's names count, and the statement stays short.
    return union_all(parts[0], *(part.set_label_style(LABEL_STYLE_NONE) for part in parts[1:]))


def _count_status(status: DisputeStatus) -> Any:
    return func.sum(case((Dispute.status == literal_column(f"'{status.value}'"), _ONE), else_=_ZERO))


def _calls_part(t: Any, groupings: tuple[str, ...], short_abandon: bool) -> Any:
    """call_totals.sums() of each grouping; text2 names the grouping."""
    def answered_within(threshold: str) -> Any:
        return func.sum(case((t.c.wait <= bindparam(threshold, type_=Integer), t.c.answered), else_=_ZERO))

    short = (func.sum(case((t.c.wait <= bindparam("short_abandon", type_=Integer), t.c.abandoned), else_=_ZERO))
             if short_abandon else _ZERO)
    values = [func.sum(t.c.offered), func.sum(t.c.answered), func.sum(t.c.abandoned),
              answered_within("service_level"), answered_within("in_time"), short,
              func.sum(t.c.waited), func.sum(t.c.wait_sum), func.sum(t.c.talked), func.sum(t.c.talk_sum)]
    return (select(*_part("calls", (t.c.name, t.c.grouped_by), _NULL, values))
            .where(t.c.grouped_by.in_([literal_column(f"'{g}'") for g in groupings]), _in_period(t)).group_by(t.c.grouped_by, t.c.name))


def read(session: Session, since: dt.date, until: dt.date, now: dt.datetime, *, agents: bool,
         service_level: int, in_time: int, short_abandon: int) -> PeriodTotals:
    """The totals of China days since..until (both included), the overdue ones as of `now`;
    the calls per agent too when `agents`."""
    calls = call_totals.covers(service_level, short_abandon, in_time)
    today = local_date(now)
    params = {"since": since, "until": until, "today": today, "today_start": local_day_start(today), "now": now,
              "start": local_day_start(since), "end": local_day_start(until + dt.timedelta(days=1))}
    if calls:
        params |= {"service_level": service_level, "in_time": in_time, "short_abandon": short_abandon}
    found = PeriodTotals(calls={"queue": {}, "agent": {}} if calls else None)
    for part, text1, text2, key, *values in session.execute(_statement(agents, calls, short_abandon > 0), params):
        if part == "tickets":
            found.tickets.append((text1, key, *(int(v) for v in values[:len(rollup.TICKET_COUNTS)])))
        elif part == "transfers":
            found.transfers.append((key, *(int(v) for v in values[:len(rollup.TRANSFER_COUNTS)])))
        elif part == "overdue":
            if values[0]:
                where = (key or None, text1 or None)
                found.overdue[where] = found.overdue.get(where, 0) + int(values[0])
        elif part == "handovers":
            found.handovers.append((text1, int(values[0])))
        elif part == "disputes":
            found.disputes.append((text1, text2, int(values[0]), int(values[1]), int(values[2])))
        elif part == "units":
            found.units[key] = (text1, text2)
        elif part == "calls" and found.calls is not None:
            kept = call_totals.CallSums(*(int(v or 0) for v in values[:7]), float(values[7] or 0),
                                        int(values[8] or 0), float(values[9] or 0))
            if kept.offered:   # as call_totals.sums(): rows whose calls all moved elsewhere
                found.calls[text2][text1] = kept
    found.disputes.sort()
    return found
