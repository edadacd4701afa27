"""Follow-up calls (回访回拨) and live hand-overs as the domain records them: who may call,
which tickets can be called about, how tries are counted, which call a hand-over sends on."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import follow_up, handover, lifecycle, telephony
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import IllegalTransition, InvalidInput, PermissionDenied
from dispatch.models import Ticket
from dispatch.paging import Bounded, Page
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import DialResult, EmergencyService, FollowUpOutcome, Rating
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def resolved(session: Session, operator: Actor, phone: str | None = "13803912000") -> tuple[Ticket, Actor]:
    ticket = new_ticket(session, phone=phone)
    staff = unit_staff(session, "housing")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "已修复，经现场核实问题已解决。")
    return ticket, staff


def test_a_follow_up_call_is_for_a_resolved_ticket_with_a_phone_and_by_dispatch_staff(
        session: Session, units: City, operator: Actor) -> None:
    ticket, staff = resolved(session, operator)
    assert follow_up.call_target(session, ticket, operator) == "13803912000"
    with pytest.raises(PermissionDenied):
        follow_up.call_target(session, ticket, staff)
    silent, _ = resolved(session, operator, phone=None)
    with pytest.raises(InvalidInput):
        follow_up.call_target(session, silent, operator)
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.SATISFIED)
    with pytest.raises(IllegalTransition):
        follow_up.call_target(session, ticket, operator)


def calls_shown(session: Session, ticket: Ticket) -> int | None:
    """The calls the console's follow-up queue shows beside the ticket (None: not in it)."""
    due = follow_up.due_with_calls(session, per_page=100)
    return next((t.calls for t in due.items if t.number == ticket.number), None)


def test_calls_are_counted_since_the_latest_resolution(session: Session, units: City, operator: Actor) -> None:
    ticket, staff = resolved(session, operator)
    start = utcnow()
    assert calls_shown(session, ticket) == 0
    follow_up.record_call(session, ticket, operator, DialResult.NO_ANSWER, agent="PJSIP/7001",
                          now=start + dt.timedelta(minutes=1))
    assert calls_shown(session, ticket) == 1
    lifecycle.rate(session, ticket, Rating.UNSATISFIED, operator, now=start + dt.timedelta(minutes=2))
    assert calls_shown(session, ticket) is None   # reopened: no longer waiting for its follow-up
    lifecycle.accept(session, ticket, staff, now=start + dt.timedelta(minutes=3))
    lifecycle.resolve(session, ticket, staff, "已重新修复，经现场核实已无问题。", now=start + dt.timedelta(minutes=4))
    assert calls_shown(session, ticket) == 0
    follow_up.record_call(session, ticket, operator, DialResult.CONNECTED, agent="PJSIP/7001",
                          reason=4, now=start + dt.timedelta(minutes=5))
    assert calls_shown(session, ticket) == 1


def test_the_follow_up_queue_pages_oldest_resolution_first_and_a_page_past_the_end_is_the_last(
        session: Session, units: City, operator: Actor) -> None:
    assert follow_up.due_with_calls(session) == Page([], 1, 1, 0)
    tickets = [resolved(session, operator, phone=f"1380391210{i}")[0] for i in range(5)]
    session.flush()
    numbers = [t.number for t in sorted(tickets, key=lambda t: (t.resolved_at, t.id))]
    first = follow_up.due_with_calls(session, 1, per_page=2)
    assert (first.page, first.pages, first.total, first.more) == (1, 3, 5, False)
    assert [t.number for t in first.items] == numbers[:2]
    assert [t.number for t in follow_up.due_with_calls(session, 2, per_page=2).items] == numbers[2:4]
    last = follow_up.due_with_calls(session, 9, per_page=2)
    assert (last.page, [t.number for t in last.items]) == (3, numbers[4:])
    shown = last.items[0]
    ticket = next(t for t in tickets if t.number == shown.number)
    assert (shown.phone, shown.unit_id, shown.version, shown.follow_up_attempts) == \
        (ticket.phone, ticket.unit_id, ticket.version, 0)


def test_a_hand_over_sends_on_only_the_call_still_live(session: Session, units: City, operator: Actor) -> None:
    now = utcnow()
    ticket = new_ticket(session, phone="13803912001")
    call = telephony.record_call(session, telephony.CallData(
        linkedid="1700000001.1", outcome="open", caller="13803912001", dialed="12345", started_at=now,
        agent="PJSIP/7001", answered_at=now))
    telephony.link_ticket_to_call(session, ticket, call.linkedid)
    assert handover.live_call_to_transfer(session, ticket) is None  # not handed over yet
    handover.handover(session, ticket, operator, EmergencyService.AMBULANCE)
    assert handover.live_call_to_transfer(session, ticket) == "1700000001.1"
    event = handover.record_call_transfer(session, ticket, operator, DialResult.REDIRECTED, number="120",
                                          linkedid=call.linkedid)
    assert event.action == "handover_call" and event.note == "来电已转接（120）"
    call.ended_at = now
    session.flush()
    assert handover.live_call_to_transfer(session, ticket) is None


def test_a_ticket_without_a_phone_number_is_left_out_of_the_follow_up_queue_and_counted_beside_it(
        session: Session, units: City, operator: Actor) -> None:
    """A web request that left no number has nobody to call: the queue leaves it out (its
    citizen rates on the status page, or it closes as not rated), and says how many there are."""
    callable_, _ = resolved(session, operator)
    web, _ = resolved(session, operator, phone=None)
    blank, _ = resolved(session, operator, phone="")
    session.flush()
    assert [t.number for t in follow_up.due_with_calls(session).items] == [callable_.number]
    assert [t.number for t in follow_up.due(session)] == [callable_.number]
    assert follow_up.waiting_without_phone(session) == Bounded(2)
    # Nobody rates them: they close as not rated, out of 回访率's numerator and 满意率's denominator.
    closed = follow_up.close_unrated_resolved(session, now=utcnow() + dt.timedelta(days=8))
    assert sorted(closed) == sorted(t.number for t in (callable_, web, blank))
    assert follow_up.waiting_without_phone(session) == Bounded(0)
