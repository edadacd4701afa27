"""The supervisor's chasing lists: their lengths in one statement, equal to what each list
holds; returned tickets a page at a time, the longest waiting since its return first."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import chasing_lists, disputes, lifecycle, reports
from dispatch.actors import Actor
from dispatch.clock import CHINA
from dispatch.intake import IntakeRules
from dispatch.models import Ticket, Transfer
from dispatch.queries import OPEN_STATES
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import TransferOutcome
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from tests.statements import statements_sent

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=CHINA)   # a Wednesday afternoon


def _returned(session: Session, operator: Actor, code: str, received: dt.datetime, returned: dt.datetime,
              reason: str) -> Ticket:
    ticket = new_ticket(session, now=received)
    lifecycle.transfer(session, ticket, unit_by_code(session, code), operator, now=received + dt.timedelta(minutes=5))
    lifecycle.return_ticket(session, ticket, unit_staff(session, code), reason, now=returned)
    return ticket


def _every_page(read, per_page: int) -> list:  # type: ignore[no-untyped-def]
    found, page = [], 1
    while True:
        got = read(page, per_page)
        found += got.items
        if page >= got.pages:
            return found
        page += 1


def test_the_lengths_are_what_each_list_holds(session: Session, units: City, rules: IntakeRules,
                                             operator: Actor) -> None:
    day = dt.timedelta(days=1)
    for back in (40, 30, 20):
        new_ticket(session, rules, now=NOW - back * day)                  # overdue days ago
    due_this_morning = new_ticket(session, rules, now=NOW - 5 * day)
    due_this_morning.deadline = NOW - dt.timedelta(hours=3)             # today's deadline, past
    due_tonight = new_ticket(session, rules, now=NOW - 5 * day)
    due_tonight.deadline = NOW + dt.timedelta(hours=5)                  # near due
    due_tomorrow = new_ticket(session, rules, now=NOW - 5 * day)
    due_tomorrow.deadline = NOW + dt.timedelta(hours=30)                # neither
    answered = new_ticket(session, rules, now=NOW - 40 * day)
    lifecycle.answer(session, answered, operator, "已当场答复市民的咨询问题", now=NOW - 40 * day)
    for n in range(3):
        _returned(session, operator, "housing", NOW - (n + 2) * day, NOW - day, "不属于本单位")
    asked = new_ticket(session, rules, now=NOW - 2 * day)
    lifecycle.transfer(session, asked, unit_by_code(session, "housing"), operator, now=NOW - 2 * day)
    lifecycle.accept(session, asked, unit_staff(session, "housing"), now=NOW - 2 * day)
    lifecycle.request_extension(session, asked, unit_staff(session, "housing"), 3, "需要协调", now=NOW - day)
    session.flush()

    with statements_sent(session.connection()) as sent:
        lengths = chasing_lists.lengths(session, now=NOW)
    assert len(sent) == 1
    open_tickets = select(func.count()).select_from(Ticket).where(Ticket.state.in_(OPEN_STATES))
    assert lengths.overdue == reports.overdue_count(session, NOW) == \
        session.scalar(open_tickets.where(Ticket.deadline < NOW)) >= 4
    assert lengths.near_due == 1 and lengths.extensions == 1 and lengths.returned == 3
    pages = {"overdue": lambda p, n: chasing_lists.overdue_page(session, p, now=NOW, per_page=n),
             "near_due": lambda p, n: chasing_lists.near_due_page(session, p, now=NOW, per_page=n),
             "extensions": lambda p, n: chasing_lists.extensions_page(session, p, per_page=n),
             "returned": lambda p, n: chasing_lists.returned_page(session, p, per_page=n)}
    for name, read in pages.items():
        assert read(1, 2).total == getattr(lengths, name), name   # counted by the page itself
        assert len(_every_page(read, 2)) == getattr(lengths, name), name
    assert due_this_morning in _every_page(pages["overdue"], 2)
    assert _every_page(pages["near_due"], 2) == [due_tonight]


def test_a_list_given_its_length_reads_only_its_page_and_nothing_when_empty(session: Session, units: City,
                                                                         operator: Actor) -> None:
    _returned(session, operator, "housing", NOW - dt.timedelta(days=2), NOW - dt.timedelta(days=1), "不属于本单位")
    session.flush()
    with statements_sent(session.connection()) as sent:
        empty = chasing_lists.extensions_page(session, 1, total=0)
        returned = chasing_lists.returned_page(session, 1, total=1)
    assert empty.items == [] and empty.pages == 1 and len(returned.items) == 1
    assert len(sent) == 1


def test_returned_tickets_come_a_page_at_a_time_the_longest_waiting_first(session: Session, units: City,
                                                                       operator: Actor) -> None:
    hour = dt.timedelta(hours=1)
    # Received in one order, returned in another: the list follows the returns.
    first_in = _returned(session, operator, "housing", NOW - 50 * hour, NOW - 2 * hour, "属城管职责")
    second_in = _returned(session, operator, "transport", NOW - 40 * hour, NOW - 30 * hour, "非本单位辖区")
    third_in = _returned(session, operator, "housing", NOW - 30 * hour, NOW - 20 * hour, "重复派单")
    # Returned twice: its last return is the one that counts.
    twice = _returned(session, operator, "housing", NOW - 60 * hour, NOW - 50 * hour, "第一次退回")
    lifecycle.transfer(session, twice, unit_by_code(session, "transport"), operator, now=NOW - 12 * hour)
    lifecycle.return_ticket(session, twice, unit_staff(session, "transport"), "第二次退回", now=NOW - 10 * hour)
    session.flush()

    page_one = chasing_lists.returned_page(session, 1, per_page=3)
    page_two = chasing_lists.returned_page(session, 2, per_page=3)
    assert (page_one.total, page_one.pages, page_two.page) == (4, 2, 2)
    assert [r.ticket for r in page_one.items + page_two.items] == [second_in, third_in, twice, first_in]
    last = page_two.items[0]
    assert (last.reason, last.unit_name) == ("属城管职责", unit_by_code(session, "housing").name)
    again = page_one.items[2]
    assert again.ticket == twice and again.reason == "第二次退回"
    assert again.unit_name == unit_by_code(session, "transport").name
    assert again.returned_at is not None and again.returned_at.replace(tzinfo=dt.timezone.utc) == \
        (NOW - 10 * hour).astimezone(dt.timezone.utc)
    # Past the last page: the last page.
    assert chasing_lists.returned_page(session, 9, per_page=3).items == page_two.items


def test_a_ticket_sent_back_by_an_upheld_dispute_shows_the_dispute_reason_and_the_decision_time(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    housing = unit_staff(session, "housing")
    returned = _returned(session, operator, "transport", NOW - 5 * hour, NOW - 3 * hour, "非本单位辖区")
    disputed = new_ticket(session, now=NOW - 30 * day)
    lifecycle.transfer(session, disputed, unit_by_code(session, "housing"), operator, now=NOW - 30 * day)
    lifecycle.accept(session, disputed, housing, now=NOW - 21 * day)          # accepted three weeks ago
    disputes.raise_dispute(session, disputed, housing, "该路段属于交通运输局管养", now=NOW - 2 * hour)
    disputes.decide_dispute(session, disputed, supervisor, approve=True, reason="同意改派", now=NOW - hour)
    # Upheld once, sent out again and then returned the ordinary way: that return is the one shown.
    again = new_ticket(session, now=NOW - 10 * day)
    lifecycle.transfer(session, again, unit_by_code(session, "housing"), operator, now=NOW - 10 * day)
    lifecycle.accept(session, again, housing, now=NOW - 9 * day)
    disputes.raise_dispute(session, again, housing, "属交通运输局", now=NOW - 3 * day)
    disputes.decide_dispute(session, again, supervisor, approve=True, reason="同意改派", now=NOW - 2 * day)
    lifecycle.transfer(session, again, unit_by_code(session, "transport"), operator, now=NOW - 2 * day)
    lifecycle.return_ticket(session, again, unit_staff(session, "transport"), "不属于本单位", now=NOW - 30 * hour)
    session.flush()

    found = chasing_lists.returned_page(session).items
    # Back an hour ago, after the return of three hours ago: it waits the shorter time.
    assert [r.ticket for r in found] == [again, returned, disputed]
    assert found[0].reason == "不属于本单位"
    back = found[2]
    assert (back.reason, back.unit_name) == ("该路段属于交通运输局管养", unit_by_code(session, "housing").name)
    assert back.returned_at is not None and back.returned_at.replace(tzinfo=dt.timezone.utc) == \
        (NOW - hour).astimezone(dt.timezone.utc)
    # The transfer stays as the unit left it: accepted, at its acceptance (退单率 and 响应率 unchanged).
    transfer = session.scalars(select(Transfer).where(Transfer.ticket_id == disputed.id)).one()
    session.refresh(transfer)
    assert (transfer.outcome, transfer.return_reason) == (TransferOutcome.ACCEPTED.value, None)
    assert transfer.responded_at is not None and transfer.responded_at.replace(tzinfo=dt.timezone.utc) == \
        (NOW - 21 * day).astimezone(dt.timezone.utc)

