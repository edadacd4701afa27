"""`hotline follow-up` and `hotline db rebuild-figures`, run as an administrator would."""
from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.models import Ticket
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from web.cli import main

OPERATOR = Actor(label="operator-wang", role=Role.OPERATOR)


def test_close_unrated_closes_only_what_waited_longer_than_the_setting(
        database_url: str, sessions: sessionmaker[Session], units: City) -> None:
    numbers = {}
    with sessions.begin() as session:
        for name, days_ago in (("old", 10), ("fresh", 2)):
            ticket = new_ticket(session, now=utcnow() - dt.timedelta(days=days_ago), phone="13803912000")
            lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), OPERATOR)
            staff = unit_staff(session, "housing")
            lifecycle.accept(session, ticket, staff)
            lifecycle.resolve(session, ticket, staff, "已处理，经现场核实问题已解决", now=utcnow() - dt.timedelta(days=days_ago))
            numbers[name] = ticket.number
    env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_FOLLOW_UP_CLOSE_AFTER_DAYS": "7"}
    runner = CliRunner()
    listed = runner.invoke(main, ["follow-up", "list"], env=env, catch_exceptions=False)
    assert listed.output.index(numbers["old"]) < listed.output.index(numbers["fresh"])
    closed = runner.invoke(main, ["follow-up", "close-unrated"], env=env, catch_exceptions=False)
    assert "closed 1 resolved" in closed.output
    with sessions() as session:
        states = dict(session.execute(select(Ticket.number, Ticket.close_reason)).all())
    assert states == {numbers["old"]: "not_rated", numbers["fresh"]: None}
    rebuilt = runner.invoke(main, ["db", "rebuild-figures"], env=env, catch_exceptions=False)
    assert rebuilt.exit_code == 0 and "disagrees" not in rebuilt.output
