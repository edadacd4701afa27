"""Pages of long lists whose count stops at a limit."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.intake import IntakeRules
from dispatch.models import Ticket
from dispatch.paging import Bounded, page_of
from tests.dispatch.helpers import new_ticket
from tests.statements import statements_sent


def test_a_bounded_count_says_more_and_the_pages_stop_at_it(session: Session, rules: IntakeRules) -> None:
    tickets = [new_ticket(session, rules) for _ in range(5)]
    statement = select(Ticket).order_by(Ticket.id)
    exact = page_of(session, statement, 1, 2)
    assert (exact.total, exact.more, exact.pages) == (5, False, 3)
    bounded = page_of(session, statement, 9, 2, count_limit=3)
    assert (bounded.total, bounded.more, bounded.pages, bounded.page) == (3, True, 2, 2)
    assert bounded.items == tickets[2:4] and str(bounded.counted) == "3+"
    assert str(page_of(session, statement, 1, 2, count_limit=5).counted) == "5"
    assert not Bounded(0) and Bounded(1)


def test_a_first_page_short_of_full_is_counted_by_its_length(session: Session, rules: IntakeRules) -> None:
    tickets = [new_ticket(session, rules) for _ in range(3)]
    with statements_sent(session.connection()) as statements:
        short = page_of(session, select(Ticket).order_by(Ticket.id), 1, 5, count_limit=3)
        assert (short.items, short.total, short.pages, short.more) == (tickets, 3, 1, False)
        assert len(statements) == 1   # no count: the short page is the whole list
        bounded = page_of(session, select(Ticket).order_by(Ticket.id), 1, 5, count_limit=2)
        assert (bounded.total, bounded.more) == (2, True)   # the limit still says "2+"
        del statements[:]
        full = page_of(session, select(Ticket).order_by(Ticket.id), 1, 2)
        assert (full.items, full.total, full.pages) == (tickets[:2], 3, 2)
        assert len(statements) == 2   # a full first page: counted as before
