"""The unit inbox a page at a time: the open states merged in deadline order, and counts
that stop at their limit."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch import lifecycle, unit_inbox
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.intake import IntakeRules
from dispatch.paging import Bounded
from dispatch.units import City, unit_by_code
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def test_a_page_of_the_inbox_merges_the_open_states_by_deadline(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    staff = unit_staff(session, "housing")
    now = utcnow()
    tickets = [new_ticket(session, rules, now=now - dt.timedelta(hours=10 - i)) for i in range(6)]
    for i, ticket in enumerate(tickets):
        lifecycle.transfer(session, ticket, housing, operator)
        ticket.deadline = now + dt.timedelta(days=[5, 1, 4, 2, 6, 3][i])
        if i % 2:   # every other one accepted: two states, one order
            lifecycle.accept(session, ticket, staff)
    tickets[5].deadline = None   # no deadline: last
    session.flush()
    order = [tickets[i] for i in (1, 3, 2, 0, 4, 5)]
    assert unit_inbox.open_tickets(session, housing.id, limit=10) == order
    assert unit_inbox.open_tickets(session, housing.id, limit=2, offset=2) == order[2:4]
    assert unit_inbox.open_tickets(session, housing.id, limit=3, offset=4) == order[4:]


def test_the_inbox_counts_stop_at_their_limit(
        session: Session, units: City, rules: IntakeRules, operator: Actor) -> None:
    housing = unit_by_code(session, "housing")
    now = utcnow()
    for hours in (-5, -1, 3, 30):
        ticket = new_ticket(session, rules)
        lifecycle.transfer(session, ticket, housing, operator)
        ticket.deadline = now + dt.timedelta(hours=hours)
    session.flush()
    exact = unit_inbox.counts(session, housing.id, now)
    assert (exact.total, exact.new, exact.near, exact.overdue) == (Bounded(4), Bounded(4), Bounded(1), Bounded(2))
    bounded = unit_inbox.counts(session, housing.id, now, limit=3)
    assert bounded.total == Bounded(3, more=True) and str(bounded.total) == "3+"
    assert bounded.overdue == Bounded(2) and str(bounded.overdue) == "2"
