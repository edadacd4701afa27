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
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import DialResult, EmergencyService, FollowUpOutcome, Rating
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def resolved(session: Session, operator: Actor, phone: str | None = "13803912000") -> tuple[Ticket, Actor]:
    ticket = new_ticket(session, phone=phone)
    staff = unit_staff(session, "housing")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "已修复。")
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


def test_calls_are_counted_since_the_latest_resolution(session: Session, units: City, operator: Actor) -> None:
    ticket, staff = resolved(session, operator)
    start = utcnow()
    follow_up.record_call(session, ticket, operator, DialResult.NO_ANSWER, agent="PJSIP/7001",
                          now=start + dt.timedelta(minutes=1))
    assert follow_up.calls_made(session, [ticket]) == {ticket.id: 1}
    lifecycle.rate(session, ticket, Rating.UNSATISFIED, operator, now=start + dt.timedelta(minutes=2))
    lifecycle.accept(session, ticket, staff, now=start + dt.timedelta(minutes=3))
    lifecycle.resolve(session, ticket, staff, "已重新修复。", now=start + dt.timedelta(minutes=4))
    assert follow_up.calls_made(session, [ticket]) == {ticket.id: 0}
    follow_up.record_call(session, ticket, operator, DialResult.CONNECTED, agent="PJSIP/7001",
                          reason=4, now=start + dt.timedelta(minutes=5))
    assert follow_up.calls_made(session, [ticket]) == {ticket.id: 1}
    assert follow_up.calls_made(session, []) == {}


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
