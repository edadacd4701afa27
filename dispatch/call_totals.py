"""Running totals of the call figures, kept as rollup.py keeps the ticket figures.

Each call offered to a queue (it has entered one) adds to two rows of call_rollup: its
queue's and its answering agent's ('' for none), on the China day it entered the queue and
under the step of WAIT_STEPS its wait falls in (the first step it waited no longer than).
The rows hold what the figures add up: offered, answered, abandoned, and the sums and
counts behind the mean wait and talk times. A threshold that is one of the steps is exact
whatever the setting: the service level (HOTLINE_SERVICE_LEVEL_SECONDS, 20 by default), the
15-second answer rate, short abandons (HOTLINE_SHORT_ABANDON_SECONDS). A setting between
steps (22 s) is counted from the calls themselves (reports.call_figures), as is any window
that is not whole China days (the wallboard's last 24 hours).

The flush hook keeps them in the transaction that writes the call, whichever code wrote it;
totals_sql.call_totals() refills them in SQL. Tests check both against the calls.
"""
from __future__ import annotations

import datetime as dt
import bisect
from dataclasses import astuple, dataclass
from typing import Any, Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch import rollup
from dispatch.clock import local_date
from dispatch.models import Call, CallRollup
from dispatch.totals_sql import WAIT_OVER, WAIT_STEPS

GROUPINGS = ("queue", "agent")
COUNTS = ("offered", "answered", "abandoned", "waited", "wait_sum", "talked", "talk_sum")
_FIELDS = ("entered_queue_at", "queue", "agent", "answered_at", "outcome", "wait_seconds", "talk_seconds")


def wait_step(wait: float | None) -> int:
    """The first of WAIT_STEPS the wait is no longer than; WAIT_OVER past them or unknown."""
    if wait is None or not wait <= WAIT_STEPS[-1]:   # `not <=`: NaN too
        return WAIT_OVER
    return WAIT_STEPS[bisect.bisect_left(WAIT_STEPS, wait)]


def contribution(v: dict[str, Any]) -> Iterable[tuple[rollup.Key, rollup.Vector]]:
    if v["entered_queue_at"] is None:   # never offered to a queue (IVR only, an outgoing leg)
        return ()
    answered = v["answered_at"] is not None
    wait, talk = v["wait_seconds"], v["talk_seconds"]
    waited, talked = answered and wait is not None, answered and talk is not None
    vector = (1, int(answered), int(v["outcome"] == "abandoned"), int(waited), float(wait) if waited else 0.0,
              int(talked), float(talk) if talked else 0.0)
    day, step = local_date(v["entered_queue_at"]), wait_step(wait)
    return (("queue", day, v["queue"] or "", step), vector), (("agent", day, v["agent"] or "", step), vector)


CALLS = rollup.Kept(CallRollup, ("grouped_by", "day", "name", "wait"), COUNTS, Call, _FIELDS, contribution)


def covers(*thresholds: int) -> bool:
    """Whether the totals answer figures with these thresholds (seconds)."""
    return all(t in WAIT_STEPS for t in thresholds)


@dataclass(frozen=True)
class CallSums:
    """What the call figures of some calls are made of (reports.CallFigures)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_service_level: int = 0
    answered_within_in_time: int = 0
    short_abandoned: int = 0
    waited: int = 0          # answered with a known wait, and their seconds
    wait_sum: float = 0.0
    talked: int = 0
    talk_sum: float = 0.0

    def __add__(self, other: CallSums) -> CallSums:
        return CallSums(*(a + b for a, b in zip(astuple(self), astuple(other))))


def sums(session: Session, since: dt.date, until: dt.date, grouped_by: str, *, service_level: int,
         in_time: int, short_abandon: int) -> dict[str, CallSums]:
    """Per queue or agent ('' for none), the calls that entered a queue on the days
    since..until; `short_abandon` 0: none counted short. The thresholds must be steps
    (covers())."""
    t = CallRollup

    def answered_within(seconds: int) -> Any:
        return func.sum(case((t.wait <= seconds, t.answered), else_=0))

    short = func.sum(case((t.wait <= short_abandon, t.abandoned), else_=0)) if short_abandon > 0 else func.sum(0)
    rows = session.execute(
        select(t.name, func.sum(t.offered), func.sum(t.answered), func.sum(t.abandoned),
               answered_within(service_level), answered_within(in_time), short,
               func.sum(t.waited), func.sum(t.wait_sum), func.sum(t.talked), func.sum(t.talk_sum))
        .where(t.grouped_by == grouped_by, t.day >= since, t.day <= until)
        .group_by(t.name))
    found = {}
    for name, *values in rows:
        kept = CallSums(*(int(v or 0) for v in values[:7]), float(values[7] or 0), int(values[8] or 0),
                        float(values[9] or 0))
        if kept.offered:   # else every call of these rows has moved to other rows
            found[name] = kept
    return found
