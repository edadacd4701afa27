"""Repeat calls in other words (dispatch/repeats.py): the caller's earlier open ticket is
proposed for 合并, never joined by itself; other callers' tickets, finished ones and old ones
are not proposed."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actions import ActionContext
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import Ticket
from dispatch.repeats import merge_filed, repeat_proposals, repeats_of_ticket
from dispatch.staff_detail import ticket_detail
from dispatch.states import State
from dispatch.vocabulary import Channel
from tests.dispatch.helpers import new_ticket

CALLER = "13803910123"
NEIGHBOUR = "13903910456"
# The first call, and the same caller a week later about the same smoke, in other words.
SMOKE = "沁园街道锦绣苑小区5号楼楼下的烧烤店每天晚上油烟很大，熏得窗户都不敢开，请环保部门来查一查。"
SMOKE_AGAIN = "锦绣苑小区5号楼下面那家烧烤店晚上又冒油烟了，家里窗户根本开不了，上次反映过还没人来查。"
# The same caller's other open matter, at the same estate.
STREET_LIGHT = "锦绣苑小区门口的路灯坏了一个多月，晚上出门很黑，请尽快修一下。"
RESIDENCE_PERMIT = "请问办理居住证需要带哪些材料？在哪里办理？"


def _call(session: Session, body: str, phone: str = CALLER) -> tuple[bool, str, str]:
    """A phone call filed through intake: (created, number, state)."""
    result = intake(session, IntakeRequest(channel=Channel.PHONE, body=body, phone=phone), IntakeRules())
    return result.created, result.ticket.number, result.ticket.state


def test_a_callers_repeat_in_other_words_is_proposed_but_not_joined(session: Session) -> None:
    smoke = new_ticket(session, body=SMOKE, phone=CALLER, now=utcnow() - dt.timedelta(days=7))
    new_ticket(session, body=STREET_LIGHT, phone=CALLER, now=utcnow() - dt.timedelta(days=2))

    proposed = repeat_proposals(session, "138 0391 0123", SMOKE_AGAIN)
    assert [p.number for p in proposed] == [smoke.number]
    assert 0.15 <= proposed[0].score < 1

    # Filing the call changes nothing by itself: a new ticket, received, waiting for the operator.
    created, number, state = _call(session, SMOKE_AGAIN)
    assert created and number != smoke.number and state == State.RECEIVED.value
    assert smoke.state == State.RECEIVED.value and smoke.merged_into_id is None


def test_an_unrelated_request_of_the_same_caller_is_not_proposed(session: Session) -> None:
    new_ticket(session, body=SMOKE, phone=CALLER)
    assert repeat_proposals(session, CALLER, RESIDENCE_PERMIT) == []
    assert repeat_proposals(session, CALLER, STREET_LIGHT) == []


def test_another_callers_ticket_is_not_proposed_however_alike(session: Session) -> None:
    new_ticket(session, body=SMOKE, phone=NEIGHBOUR)
    new_ticket(session, body=SMOKE)   # a web form without a number
    assert repeat_proposals(session, CALLER, SMOKE_AGAIN) == []
    assert repeat_proposals(session, None, SMOKE_AGAIN) == []
    assert repeat_proposals(session, "not a number", SMOKE_AGAIN) == []


def test_finished_and_old_tickets_are_not_proposed(session: Session, operator: Actor) -> None:
    invalid = new_ticket(session, body=SMOKE, phone=CALLER)
    lifecycle.invalidate(session, invalid, operator, "测试电话")
    answered = new_ticket(session, body=SMOKE + "谢谢。", phone=CALLER)
    lifecycle.answer(session, answered, operator, "已告知来电人向生态环境局反映。")
    new_ticket(session, body=SMOKE + "急！", phone=CALLER, now=utcnow() - dt.timedelta(days=31))
    session.flush()
    assert repeat_proposals(session, CALLER, SMOKE_AGAIN) == []
    # The window is the caller's to set.
    assert len(repeat_proposals(session, CALLER, SMOKE_AGAIN, days=40)) == 1


def test_the_staff_detail_proposes_the_earlier_ticket_and_the_merge_takes_it(
        session: Session, operator: Actor) -> None:
    smoke = new_ticket(session, body=SMOKE, phone=CALLER, now=utcnow() - dt.timedelta(days=3))
    _, number, _ = _call(session, SMOKE_AGAIN)
    session.flush()

    detail = ticket_detail(session, operator, number)
    assert [p["number"] for p in detail["repeat_of"]] == [smoke.number]
    # The earlier ticket repeats nothing that came before it.
    assert ticket_detail(session, operator, smoke.number)["repeat_of"] == []

    new = session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert [p.number for p in repeats_of_ticket(session, new)] == [smoke.number]
    merge_filed(session, operator, new, smoke.number, ActionContext())
    assert new.state == State.MERGED.value and new.merged_into_id == smoke.id
    assert ticket_detail(session, operator, number)["repeat_of"] == []   # merged: nothing left to propose


def test_filing_and_merging_refuses_a_ticket_that_is_not_the_callers_open_one(
        session: Session, operator: Actor) -> None:
    neighbours = new_ticket(session, body=SMOKE, phone=NEIGHBOUR)
    mine = new_ticket(session, body=SMOKE_AGAIN, phone=CALLER)
    with pytest.raises(InvalidInput) as refused:
        merge_filed(session, operator, mine, neighbours.number, ActionContext())
    assert refused.value.reason is Reason.NOT_CALLERS_OPEN_TICKET
    assert mine.state == State.RECEIVED.value
