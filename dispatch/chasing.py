"""Deadlines chased by the clock: the unit is warned before a ticket is due (临期预警), told
when it is overdue (超期, also an `overdue` event on the ticket's timeline), and the ticket
is escalated (督办) by the scheduler every few working days while it stays overdue.

Each job is a function of (session, now, policy) that the scheduler runs every few minutes.
Each is idempotent: what it tells goes through notices.tell(), whose unique key (the
ticket, the kind, the deadline and the step) makes a second run, or a second process, a
no-op. An extended deadline is a new deadline: the unit is warned again for it.

The timeline for a ticket due at D (the end of a working day, China time):
  D - near_due       near-due notice (the day's digest texts it to the duty phone)
  D                  overdue notice + text, `overdue` event
  D + N working days 督办 step 1 (an `escalate` event by the system) + notice + text
  D + 2N ...         step 2, and so on while the ticket stays open

A unit first told of an overdue ticket when a step is already due (the scheduler was down,
a ticket re-dispatched or transferred with its deadline long past) gets one notice, that
step's 督办, under the 超期 key: not a 超期 and a 督办 in the same minute. The day's digest
counts the near-due tickets but names only those the unit was not warned of that day.

A unit with a part in the ticket that still owes its answer (a co-handling unit's part
reply, a sub-unit the ticket was forwarded to) shares the ticket's deadline and is chased
beside the lead: the same near-due, overdue and escalation notices (texts to its duty
phone, its digest), each once per unit. The events on the ticket stay the lead's: the
lead remains accountable for the ticket.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session, defer

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.clock import CHINA, local_date, local_day_start
from dispatch.deadlines import WorkCalendar
from dispatch.errors import Conflict
from dispatch.models import Notice, Ticket, Transfer, Unit
from dispatch.notices import KEYS_A_STATEMENT, NoticeKind, already_told, local_time, tell, told_at
from dispatch.parts import owed
from dispatch.states import UNIT_STATES
from dispatch.vocabulary import (
    AUTO_ESCALATED_ZH,
    AUTO_ESCALATION_NOTE_ZH,
    NEAR_DUE_ZH,
    OVERDUE_FOR_ZH,
    OVERDUE_ZH,
    PART_AUTO_ESCALATED_ZH,
    PART_OVERDUE_ZH,
    PART_ROLES_ZH,
    PART_ZH,
    digest_text,
)

log = logging.getLogger(__name__)

CHASER = Actor.system("system:chasing")
# A ticket overdue for years must not loop for ever looking for its step.
MAX_STEPS = 60


@dataclass(frozen=True)
class ChasePolicy:
    near_due: dt.timedelta = dt.timedelta(hours=24)
    escalate_every_working_days: int = 2
    # The day's digest goes out with the first run at or after this hour, China time.
    digest_hour: int = 8
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


# The proposal's JSON is not needed to chase a ticket, and decoding it for every overdue ticket
# of a big city was a tenth of a pass's CPU; it loads on access if ever read.
_UNREAD = (defer(Ticket.routing),)


def _open_with_deadline() -> tuple[Any, ...]:
    # The states written out, as the partial index of held tickets has them (models.UNIT_HELD):
    # PostgreSQL then uses it whatever plan it caches.
    held = sorted(s.value for s in UNIT_STATES)
    return Ticket.state.in_([literal_column(f"'{state}'") for state in held]), Ticket.deadline.is_not(None)


def _with_units(session: Session, *where: object) -> list[tuple[Ticket, Unit]]:
    """Open tickets a unit holds, with their unit."""
    rows = session.execute(select(Ticket, Unit).join(Unit, Unit.id == Ticket.unit_id).options(*_UNREAD)
                           .where(*_open_with_deadline(), *where)  # type: ignore[arg-type]
                           .order_by(Ticket.deadline, Ticket.id))
    return [(t, u) for t, u in rows]


def _owing_parts() -> tuple[Any, ...]:
    return (owed(Transfer.__table__), Transfer.waived_at.is_(None), *_open_with_deadline())


@dataclass(frozen=True)
class Due:
    """A unit to chase for a ticket as plain values: all a pass needs to ask whether it was
    told. Every pass meets every overdue ticket again (tens of thousands in a big city), nearly
    all told: only the few left are read in full, as ORM rows."""

    ticket_id: int
    deadline: dt.datetime
    unit_id: int
    part_id: int | None = None    # the part's transfer; None: the lead


def _due(session: Session, *where: object) -> list[Due]:
    """What _with_units and then _parts would chase, as keys, in their order."""
    leads = session.execute(select(Ticket.id, Ticket.deadline, Ticket.unit_id).where(
        Ticket.unit_id.is_not(None), *_open_with_deadline(), *where).order_by(Ticket.deadline, Ticket.id))
    parts = session.execute(select(Ticket.id, Ticket.deadline, Transfer.unit_id, Transfer.id)
                            .join(Transfer, Transfer.ticket_id == Ticket.id)
                            .where(*_owing_parts(), *where).order_by(Ticket.deadline, Ticket.id, Transfer.id))
    return [Due(*row) for row in leads] + [Due(*row) for row in parts]


def _in_full(session: Session, due: list[Due], *where: object) -> list[tuple[Due, Chased]]:
    """The tickets and units of `due` as ORM rows, in the same order, read a few hundred at a
    time under the same conditions (one that changed since is left for the next pass)."""
    found: dict[tuple[int, int | None], Chased] = {}
    leads = [d.ticket_id for d in due if d.part_id is None]
    parts = [d.part_id for d in due if d.part_id is not None]
    for start in range(0, len(leads), KEYS_A_STATEMENT):
        for ticket, unit in _with_units(session, *where, Ticket.id.in_(leads[start:start + KEYS_A_STATEMENT])):
            found[(ticket.id, None)] = Chased(ticket, unit)
    for start in range(0, len(parts), KEYS_A_STATEMENT):
        for part_id, chased in _parts_by_id(session, *where, Transfer.id.in_(parts[start:start + KEYS_A_STATEMENT])):
            found[(chased.ticket.id, part_id)] = chased
    return [(d, found[(d.ticket_id, d.part_id)]) for d in due if (d.ticket_id, d.part_id) in found]


@dataclass(frozen=True)
class Chased:
    """A unit to chase for a ticket: the lead (role None) or a part owing its answer."""

    ticket: Ticket
    unit: Unit
    role: str | None = None

    @property
    def label(self) -> str:
        """For the job's result: the number, with the part's unit after a slash."""
        return self.ticket.number if self.role is None else f"{self.ticket.number}/{self.unit.code}"

    @property
    def as_part(self) -> str:
        """How a part's unit reads its notices: "（协办）" after the ticket's number."""
        return PART_ZH.format(role=PART_ROLES_ZH.get(self.role, self.role)) if self.role else ""


def _parts_by_id(session: Session, *where: object) -> list[tuple[int, Chased]]:
    """Open tickets' parts whose unit still owes its answer (not replied, returned, waived
    or withdrawn), with the part's unit: they share the ticket's deadline."""
    rows = session.execute(select(Transfer.id, Ticket, Unit, Transfer.role)
                           .join(Transfer, Transfer.ticket_id == Ticket.id).join(Unit, Unit.id == Transfer.unit_id)
                           .options(*_UNREAD)
                           .where(*_owing_parts(), *where)  # type: ignore[arg-type]
                           .order_by(Ticket.deadline, Ticket.id, Transfer.id))
    return [(part_id, Chased(t, u, role)) for part_id, t, u, role in rows]


def _deadline_key(kind: NoticeKind, ticket: Ticket, suffix: str = "") -> str:
    assert ticket.deadline is not None
    return _key(kind, ticket.id, ticket.deadline, suffix)


def _key(kind: NoticeKind, ticket_id: int, deadline: dt.datetime, suffix: str = "") -> str:
    return f"{kind.value}:{ticket_id}:{deadline.strftime('%Y%m%dT%H%M%S')}{suffix}"


def _not_yet_told(session: Session, kind: NoticeKind, due: list[Due]) -> list[Due]:
    """Those not yet told of this kind for this deadline, asked a few hundred keys a statement
    (tell() still decides, by the notice's unique key, when two processes race)."""
    keys = [(d.unit_id, _key(kind, d.ticket_id, d.deadline)) for d in due]
    told = already_told(session, keys)
    return [d for d, key in zip(due, keys) if key not in told]


def warn_near_due(session: Session, now: dt.datetime, policy: ChasePolicy = ChasePolicy()) -> list[str]:
    """临期预警: tickets due within policy.near_due and not yet warned for this deadline,
    to the lead and to each part still owing its answer."""
    told = []
    near = (Ticket.deadline > now, Ticket.deadline <= now + policy.near_due)
    for _, chased in _in_full(session, _not_yet_told(session, NoticeKind.NEAR_DUE, _due(session, *near)), *near):
        ticket, unit = chased.ticket, chased.unit
        assert ticket.deadline is not None
        text = NEAR_DUE_ZH.format(number=ticket.number, part=chased.as_part, title=ticket.title,
                                  deadline=local_time(ticket.deadline, now))
        if tell(session, unit, NoticeKind.NEAR_DUE, _deadline_key(NoticeKind.NEAR_DUE, ticket), text,
                ticket=ticket, now=now):
            told.append(chased.label)
    return told


def mark_overdue(session: Session, now: dt.datetime, policy: ChasePolicy = ChasePolicy()) -> list[str]:
    """超期: once per ticket per deadline, a notice to the unit and an `overdue` event (the
    figures keep counting overdue from the deadline itself; the event is the record that
    the unit was told)."""
    marked = []
    # Which were told is asked a few hundred keys a statement, not by tell() one at a time:
    # every run meets every overdue ticket again (tens of thousands in a big city), nearly all told.
    untold = _in_full(session, _not_yet_told(session, NoticeKind.OVERDUE, _due(session, Ticket.deadline < now)),
                      Ticket.deadline < now)
    # A ticket first found overdue when a 督办 step is already due (the scheduler was down, a
    # deadline set in the past) hears one notice that says both: its 超期 notice is that step's
    # 督办, and escalate_overdue leaves the step alone (_due_steps).
    steps = _steps_by_day(now, policy)
    for _, lead in (pair for pair in untold if pair[0].part_id is None):
        ticket, unit = lead.ticket, lead.unit
        assert ticket.deadline is not None
        step = steps(ticket.deadline)
        if step:
            text = AUTO_ESCALATED_ZH.format(number=ticket.number, title=ticket.title,
                                            note=_escalation_note(ticket, step, now, policy))
        else:
            text = OVERDUE_ZH.format(number=ticket.number, title=ticket.title, deadline=local_time(ticket.deadline, now))
        if _once(session, ticket, lambda: _overdue(session, ticket, unit, text, now, step, policy)):
            marked.append(ticket.number)
    for _, part in (pair for pair in untold if pair[0].part_id is not None):
        ticket = part.ticket
        assert ticket.deadline is not None
        step = steps(ticket.deadline)
        words = PART_AUTO_ESCALATED_ZH if step else PART_OVERDUE_ZH
        text = words.format(number=ticket.number, part=part.as_part, title=ticket.title,
                            overdue_for=_overdue_for(step, policy), deadline=local_time(ticket.deadline, now))
        if tell(session, part.unit, NoticeKind.ESCALATION if step else NoticeKind.OVERDUE,
                _deadline_key(NoticeKind.OVERDUE, ticket), text, ticket=ticket, now=now):
            marked.append(part.label)
    return marked


def _overdue(session: Session, ticket: Ticket, unit: Unit, text: str, now: dt.datetime, step: int,
             policy: ChasePolicy) -> bool:
    kind = NoticeKind.ESCALATION if step else NoticeKind.OVERDUE
    if tell(session, unit, kind, _deadline_key(NoticeKind.OVERDUE, ticket), text, ticket=ticket, now=now) is None:
        return False
    assert ticket.deadline is not None
    lifecycle.record(session, ticket, "overdue", CHASER, now=now, unit_id=unit.id,
                     data={"deadline": ticket.deadline.isoformat()})
    if step:
        lifecycle.escalate(session, ticket, CHASER, _escalation_note(ticket, step, now, policy), now=now, again=True)
    return True


def _steps_by_day(now: dt.datetime, policy: ChasePolicy) -> Callable[[dt.datetime], int]:
    """escalation_step at `now`, worked out once per deadline's China day (add_working_days
    counts from the day): a big city's overdue tickets share a few hundred days."""
    by_day: dict[dt.date, int] = {}

    def step(deadline: dt.datetime) -> int:
        day = local_date(deadline)
        if day not in by_day:
            by_day[day] = escalation_step(deadline, now, policy)
        return by_day[day]
    return step


def escalation_step(deadline: dt.datetime, now: dt.datetime, policy: ChasePolicy) -> int:
    """How many times a ticket due at `deadline` should have been escalated by `now`:
    step k falls due k * N working days after the deadline."""
    every = policy.escalate_every_working_days
    if every <= 0:
        return 0
    step = 0
    while step < MAX_STEPS and now > policy.calendar.add_working_days(deadline, (step + 1) * every):
        step += 1
    return step


def escalate_overdue(session: Session, now: dt.datetime, policy: ChasePolicy = ChasePolicy()) -> list[str]:
    """督办 by the system: the current step of every overdue ticket, once. Steps missed while
    the scheduler was down are not made up: the unit hears the current one."""
    escalated = []
    steps = _due_steps(session, _due(session, Ticket.deadline < now), now, policy)
    untold = [(chased, steps[due]) for due, chased in _in_full(session, list(steps), Ticket.deadline < now)]
    for lead, step in (pair for pair in untold if pair[0].role is None):
        ticket, unit = lead.ticket, lead.unit
        if _once(session, ticket, lambda: _escalate(session, ticket, unit, step, now, policy)):
            escalated.append(ticket.number)
    # A part still owing its answer hears each step too; the 督办 event stays the lead's.
    for part, step in (pair for pair in untold if pair[0].role is not None):
        ticket = part.ticket
        assert ticket.deadline is not None
        text = PART_AUTO_ESCALATED_ZH.format(number=ticket.number, part=part.as_part, title=ticket.title,
                                             overdue_for=_overdue_for(step, policy),
                                             deadline=local_time(ticket.deadline, now))
        if tell(session, part.unit, NoticeKind.ESCALATION,
                _deadline_key(NoticeKind.ESCALATION, ticket, f":{step}"), text, ticket=ticket, now=now):
            escalated.append(part.label)
    return escalated


def _due_steps(session: Session, due: list[Due], now: dt.datetime, policy: ChasePolicy) -> dict[Due, int]:
    """Each overdue ticket's current escalation step, for those not yet told of it (asked
    like _not_yet_told: every run meets every overdue ticket again), in `due`'s order. A step
    the ticket's 超期 notice said (told after the step fell due, by mark_overdue) is told."""
    step_of = _steps_by_day(now, policy)
    steps = [(d, step) for d in due if (step := step_of(d.deadline))]
    keys = [((d.unit_id, _key(NoticeKind.ESCALATION, d.ticket_id, d.deadline, f":{step}")),
             (d.unit_id, _key(NoticeKind.OVERDUE, d.ticket_id, d.deadline))) for d, step in steps]
    told = told_at(session, [key for pair in keys for key in pair])
    every = policy.escalate_every_working_days
    return {d: step for (d, step), (escalation, overdue) in zip(steps, keys)
            if escalation not in told
            and not (overdue in told and told[overdue] > policy.calendar.add_working_days(d.deadline, step * every))}


def _escalation_note(ticket: Ticket, step: int, now: dt.datetime, policy: ChasePolicy) -> str:
    assert ticket.deadline is not None
    return AUTO_ESCALATION_NOTE_ZH.format(overdue_for=_overdue_for(step, policy),
                                          deadline=local_time(ticket.deadline, now))


def _overdue_for(step: int, policy: ChasePolicy) -> str:
    # How long it is overdue, not a count of 督办: steps missed while the scheduler was down are
    # not made up, so "the 5th" read wrong beside a ticket escalated twice.
    return OVERDUE_FOR_ZH.format(working_days=step * policy.escalate_every_working_days)


def _escalate(session: Session, ticket: Ticket, unit: Unit, step: int, now: dt.datetime,
              policy: ChasePolicy) -> bool:
    note = _escalation_note(ticket, step, now, policy)
    text = AUTO_ESCALATED_ZH.format(number=ticket.number, title=ticket.title, note=note)
    if tell(session, unit, NoticeKind.ESCALATION, _deadline_key(NoticeKind.ESCALATION, ticket, f":{step}"), text,
            ticket=ticket, now=now) is None:
        return False
    # The scheduler's steps are working days apart; one a supervisor's 督办 just preceded
    # still goes out, as the unit's notice of the step did.
    lifecycle.escalate(session, ticket, CHASER, note, now=now, again=True)
    return True


def _once(session: Session, ticket: Ticket, work: Callable[[], bool]) -> bool:
    """One ticket's notice and event in a savepoint: a ticket someone is changing right now
    is left for the next run instead of failing the whole job."""
    number = ticket.number
    try:
        with session.begin_nested():
            return work()
    except Conflict:
        log.info("ticket busy, chased next run", extra={"event": "chase_conflict", "ticket": number})
        return False


def send_digests(session: Session, now: dt.datetime, policy: ChasePolicy = ChasePolicy()) -> list[str]:
    """One notice (and text) per unit per day listing its near-due tickets (those it leads and
    those where its part is still owed), from the first run at or after the digest hour. A
    unit with nothing near due gets nothing."""
    if now.astimezone(CHINA).hour < policy.digest_hour:
        return []
    key = f"{NoticeKind.DIGEST.value}:{local_date(now).isoformat()}"
    near = (Ticket.deadline > now, Ticket.deadline <= now + policy.near_due)
    # Every pass after the digest hour meets the same near-due tickets again, and nearly every
    # unit has had today's digest: that is asked first, from plain keys, and only the units
    # still owed one are read.
    by_unit: dict[int, list[Due]] = {}
    for due in _due(session, *near):
        by_unit.setdefault(due.unit_id, []).append(due)
    told = already_told(session, [(unit_id, key) for unit_id in by_unit])
    untold = {unit_id: due for unit_id, due in by_unit.items() if (unit_id, key) not in told}
    if not untold:
        return []
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(untold)))}
    # The digest is the duty phone's text of what is near due; a ticket the unit was warned of
    # today (by this very pass, often) is counted but not named again.
    warned = _warned_today(session, list(untold), now)
    listed = {unit_id: [d for d in due if (unit_id, d.ticket_id) not in warned] for unit_id, due in untold.items()}
    shown = {d.ticket_id for due in listed.values() for d in due[:5]}
    numbers = {ticket_id: number for ticket_id, number in
               session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(shown)))}
    overdue = _overdue_by_unit(session, now)
    sent = []
    for unit_id, due in untold.items():
        unit = units[unit_id]
        text = digest_text(len(due), int(policy.near_due.total_seconds() // 3600),
                           [numbers[d.ticket_id] for d in listed[unit_id][:5]], overdue[unit_id],
                           warned=len(due) - len(listed[unit_id]))
        if tell(session, unit, NoticeKind.DIGEST, key, text, now=now):
            sent.append(unit.code)
    return sent


def _warned_today(session: Session, unit_ids: list[int], now: dt.datetime) -> set[tuple[int, int]]:
    """(unit id, ticket id) of the near-due notices told to these units since today began (China)."""
    since = local_day_start(local_date(now))
    return {(unit_id, ticket_id) for unit_id, ticket_id in session.execute(
        select(Notice.unit_id, Notice.ticket_id).where(Notice.unit_id.in_(unit_ids), Notice.kind == NoticeKind.NEAR_DUE.value,
                                                        Notice.created_at >= since, Notice.ticket_id.is_not(None)))}


def _overdue_by_unit(session: Session, now: dt.datetime) -> dict[int, int]:
    """How many overdue tickets each unit leads, plus its parts still owed on overdue tickets
    (what _with_units and _parts list), counted in the database: the digest needs no rows."""
    overdue: dict[int, int] = defaultdict(int)
    leads = (select(Ticket.unit_id, func.count())
             .where(Ticket.unit_id.is_not(None), *_open_with_deadline(), Ticket.deadline < now).group_by(Ticket.unit_id))
    parts = (select(Transfer.unit_id, func.count()).join(Ticket, Ticket.id == Transfer.ticket_id)
             .where(*_owing_parts(), Ticket.deadline < now).group_by(Transfer.unit_id))
    for statement in (leads, parts):
        for unit_id, count in session.execute(statement):
            overdue[unit_id] += count
    return overdue


def chase(session: Session, now: dt.datetime, policy: ChasePolicy = ChasePolicy()) -> dict[str, list[str]]:
    """Every chasing job once, in order (a ticket found overdue is marked before it is escalated)."""
    policy.calendar.sync(session)
    return {"near_due": warn_near_due(session, now, policy), "overdue": mark_overdue(session, now, policy),
            "escalated": escalate_overdue(session, now, policy), "digests": send_digests(session, now, policy)}

