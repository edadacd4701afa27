"""Two processes on one PostgreSQL compete for the scheduler role through the advisory lock;
a fake clock, read from a file by both, is moved on: the near-due warning, the overdue
notice and the escalation each reach the unit exactly once (the lead, a co-handling unit
and the sub-unit it was forwarded to, each its own), also when the process that held the
role is killed halfway and the other takes over."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import chasing, co_handling, forwarding, lifecycle
from dispatch.actors import Actor
from dispatch.models import Notice, OutboxMessage, Ticket, TicketEvent
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

RECEIVED = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # a Monday morning, China time
DUTY_PHONE = "+8613800000002"
ROOT = Path(__file__).resolve().parents[2]


def _until(check: Callable[[], object], seconds: float, what: str) -> None:
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds:g} s: {what}"
        time.sleep(0.05)


class Contender:
    def __init__(self, name: str, database_url: str, clock: Path, tmp: Path) -> None:
        self.name, self.out = name, tmp / f"{name}.out"
        self.err = tmp / f"{name}.err"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.web.scheduler_contender", database_url,
                                             str(clock)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                            stdout=out, stderr=err)

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def holds(self) -> bool:
        said = [line for line in self.lines() if line.startswith("scheduler ")]
        return bool(said) and said[-1] == "scheduler held"

    def rounds(self, at: dt.datetime) -> int:
        return self.lines().count(f"ran {at.isoformat()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


def test_two_processes_chase_each_deadline_exactly_once(engine: Engine, database_url: str, units: City,
                                                        sessions: sessionmaker[Session], session: Session,
                                                        operator: Actor, tmp_path: Path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("two processes need PostgreSQL's advisory locks (SQLite serves one process)")
    unit = unit_by_code(session, "housing")
    unit.duty_phone = DUTY_PHONE
    ticket = new_ticket(session, now=RECEIVED)
    lifecycle.transfer(session, ticket, unit, operator, now=RECEIVED)
    lifecycle.accept(session, ticket, unit_staff(session, "housing"), now=RECEIVED + dt.timedelta(hours=1))
    co_handling.add_co_units(session, ticket, [unit_by_code(session, "transport")], operator, now=RECEIVED)
    forwarding.forward(session, ticket, unit_staff(session, "housing"), unit_by_code(session, "gas"),
                       now=RECEIVED + dt.timedelta(hours=2))
    session.commit()
    deadline, ticket_id, unit_id = ticket.deadline, ticket.id, unit.id
    part_units = {code: unit_by_code(session, code).id for code in ("transport", "gas")}
    assert deadline is not None
    calendar = chasing.ChasePolicy().calendar

    def told(unit: int | None = None) -> list[str]:
        with sessions() as s:
            return list(s.scalars(select(Notice.kind).where(Notice.ticket_id == ticket_id,
                                                            Notice.unit_id == (unit or unit_id)).order_by(Notice.id)))

    def parts_told() -> dict[str, list[str]]:
        return {code: told(part_unit) for code, part_unit in part_units.items()}

    def texts() -> list[str]:
        with sessions() as s:
            return list(s.scalars(select(OutboxMessage.kind).where(OutboxMessage.recipient == DUTY_PHONE)
                                  .order_by(OutboxMessage.id)))

    clock = tmp_path / "clock"

    def move_to(moment: dt.datetime) -> None:
        partial = clock.with_suffix(".new")
        partial.write_text(moment.isoformat())
        partial.replace(clock)  # whole or not at all: a reader never sees half a time

    move_to(deadline - dt.timedelta(hours=48))
    contenders = [Contender(name, database_url, clock, tmp_path) for name in ("a", "b")]
    try:
        _until(lambda: any(c.holds() for c in contenders), 60, "one process takes the scheduler role")
        time.sleep(1.0)  # the other keeps trying meanwhile, and fails
        holders = [c for c in contenders if c.holds()]
        assert len(holders) == 1, [c.lines()[:3] for c in contenders]
        holder, other = holders[0], next(c for c in contenders if c is not holders[0])
        assert not any(line == "scheduler held" for line in other.lines())

        def step(moment: dt.datetime, expected: list[str], runner: Contender) -> None:
            """Move the clock on; wait for the notice and for three more rounds of the jobs."""
            move_to(moment)
            _until(lambda: told() == expected, 30, f"the unit is told {expected[-1]}")
            _until(lambda: runner.rounds(moment) >= 4, 30, "more rounds at the same time")
            assert told() == expected
            # Each part's unit, once too: its first notice said it had a part.
            assert parts_told() == {"transport": ["co_handling", *expected], "gas": ["forwarded", *expected]}
            assert other_rounds(runner, moment) == 0

        def other_rounds(runner: Contender, moment: dt.datetime) -> int:
            return sum(c.rounds(moment) for c in contenders if c is not runner)

        step(deadline - dt.timedelta(hours=23, minutes=30), ["near_due"], holder)
        step(deadline + dt.timedelta(minutes=5), ["near_due", "overdue"], holder)

        # The holder dies (no clean release): the other process takes the role over and
        # carries on from where the database says things stand.
        os.kill(holder.process.pid, signal.SIGKILL)
        holder.process.wait(10)
        _until(other.holds, 30, "the other process takes over")
        step(calendar.add_working_days(deadline, 2) + dt.timedelta(minutes=1),
             ["near_due", "overdue", "escalation"], other)
    finally:
        for contender in contenders:
            contender.stop()

    with sessions() as s:
        events = list(s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id,
                                                                 TicketEvent.action.in_(["overdue", "escalate"]))
                                .order_by(TicketEvent.id)))
        assert events == ["overdue", "escalate"]
        assert s.scalar(select(func.count(Ticket.id))) == 1
    assert texts() == ["unit_overdue", "unit_escalation"]
