"""办理进展 (dispatch.progress): who may note progress and when, the 督办 it answers, and
what the supervisor's lists read of it (lifecycle.escalations)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle, progress
from dispatch.actions import ActionContext, allowed_actions, perform
from dispatch.actors import Actor
from dispatch.errors import IllegalTransition, PermissionDenied
from dispatch.models import Ticket
from dispatch.units import City
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def do(session: Session, actor: Actor, ticket: Ticket, action: str, now: dt.datetime, **params: object) -> Ticket:
    return perform(session, actor, ticket.number, action, params, ActionContext(now=now))


@pytest.fixture
def received(session: Session, units: City) -> Ticket:
    ticket = new_ticket(session, body="小区燃气管道漏气，路面也被挖开没有恢复，请住建和交通一起处理。",
                        name="王小明", phone="13800138000")
    session.commit()
    return ticket


def test_a_co_handling_unit_notes_progress_on_its_accepted_part_only(session: Session, received: Ticket,
                                                                     operator: Actor) -> None:
    t0 = received.received_at
    lead, transport, hr = (unit_staff(session, c) for c in ("housing", "transport", "human-resources"))
    do(session, operator, received, "transfer", t0 + dt.timedelta(minutes=5), unit="housing", co_units=["transport"])
    assert "progress" not in allowed_actions(session, lead, received)        # not before 签收
    with pytest.raises(IllegalTransition):
        do(session, lead, received, "progress", t0 + dt.timedelta(minutes=6), text="已在安排")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, transport, received, "accept", t0 + dt.timedelta(hours=2))
    assert "progress" in allowed_actions(session, lead, received)
    assert "progress" in allowed_actions(session, transport, received)
    assert "progress" not in allowed_actions(session, operator, received)
    do(session, transport, received, "progress", t0 + dt.timedelta(hours=3), text="路面恢复已排期，周五施工。")
    assert received.state == "in_progress"
    with pytest.raises(PermissionDenied):
        do(session, operator, received, "progress", t0 + dt.timedelta(hours=3), text="x")
    with pytest.raises(PermissionDenied):   # a unit with no part in it
        progress.report_progress(session, received, hr, "x")


def test_the_supervisors_lists_see_the_unit_answered_since_the_last_escalation(
        session: Session, received: Ticket, operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + dt.timedelta(minutes=5), unit="housing")
    do(session, housing, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, housing, received, "progress", t0 + dt.timedelta(hours=2), text="先记一笔")   # before any 督办
    assert lifecycle.escalations(session, [received.id]) == {}
    do(session, supervisor, received, "escalate", t0 + dt.timedelta(hours=3), note="请今天下班前反馈处理方案")
    assert lifecycle.escalations(session, [received.id])[received.id].answered_at is None
    do(session, housing, received, "progress", t0 + dt.timedelta(hours=4), text="方案：明天上午维修。")
    seen = lifecycle.escalations(session, [received.id])[received.id]
    assert (seen.count, seen.answered_at) == (1, t0 + dt.timedelta(hours=4))
    do(session, supervisor, received, "escalate", t0 + dt.timedelta(hours=6), note="仍未维修，请说明原因")
    seen = lifecycle.escalations(session, [received.id])[received.id]
    assert (seen.count, seen.answered_at) == (2, None)        # the new 督办 is not answered yet


def test_supervisors_hear_of_an_answer_to_their_escalation_once_and_not_of_the_schedulers(
        session: Session, received: Ticket, operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + dt.timedelta(minutes=5), unit="housing")
    do(session, housing, received, "accept", t0 + dt.timedelta(hours=1))
    lifecycle.escalate(session, received, Actor.system("system:chasing"), "超期自动督办", now=t0 + dt.timedelta(hours=2))
    do(session, housing, received, "progress", t0 + dt.timedelta(hours=3), text="已安排维修。")
    assert progress.answered_escalations(session, t0 + dt.timedelta(hours=4)) == []   # the scheduler's 督办
    do(session, supervisor, received, "escalate", t0 + dt.timedelta(hours=5), note="请说明维修时间")
    do(session, housing, received, "progress", t0 + dt.timedelta(hours=6), text="明天上午维修。")
    do(session, housing, received, "progress", t0 + dt.timedelta(hours=7), text="材料已备齐。")
    [answered] = progress.answered_escalations(session, t0 + dt.timedelta(hours=8))
    assert (answered.number, answered.escalation, answered.answer, answered.unit_id) == \
        (received.number, "请说明维修时间", "明天上午维修。", received.unit_id)
    assert answered.escalated_at == t0 + dt.timedelta(hours=5) and answered.answered_at == t0 + dt.timedelta(hours=6)
    assert answered.escalated_by
    # Listed for a week after the answer, then no more.
    assert progress.answered_escalations(session, t0 + dt.timedelta(hours=6, days=7, minutes=1)) == []
