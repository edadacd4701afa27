"""修改受理信息 in dispatch: what a correction moves besides the fields it names, and when a
ticket may no longer be corrected."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import IllegalTransition, InvalidInput, PermissionDenied, Reason
from dispatch.models import Notice, Ticket, TicketEvent
from dispatch.vocabulary import RequestType, Urgency
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

pytestmark = pytest.mark.usefixtures("units")


def act(session: Session, actor: Actor, ticket: Ticket, action: str, **params: Any) -> Ticket:
    return perform(session, actor, ticket.number, action, params, ActionContext())


def last_event(session: Session, ticket: Ticket) -> TicketEvent:
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                           .order_by(TicketEvent.id.desc()).limit(1)).one()


def test_a_title_taken_from_the_body_follows_the_corrected_body(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session, body="小区门口路灯不亮。")
    assert ticket.title == "小区门口路灯不亮。"
    act(session, operator, ticket, "correct", body="文化路小区门口路灯不亮一个月了。")
    assert ticket.title == "文化路小区门口路灯不亮一个月了。"
    changes = (last_event(session, ticket).data or {})["changes"]
    assert changes["title"] == {"old": "小区门口路灯不亮。", "new": "文化路小区门口路灯不亮一个月了。"}


def test_the_deadline_follows_type_and_urgency_from_receipt(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session, request_type=RequestType.CONSULTATION)
    act(session, operator, ticket, "correct", type="report", urgency="urgent")
    assert ticket.deadline == DeadlinePolicy().deadline(ticket.received_at, RequestType.REPORT, Urgency.URGENT)
    # Extended, or moved by anything else: not the type's to move.
    moved = ticket.deadline.replace(year=ticket.deadline.year + 1)
    ticket.deadline = moved
    act(session, operator, ticket, "correct", type="complaint")
    assert ticket.deadline == moved and "deadline" not in (last_event(session, ticket).data or {})


def test_a_number_sent_back_as_the_page_shows_it_is_no_change(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session, phone="13803910123")
    act(session, operator, ticket, "correct", phone="13803910123", type="help")
    assert set((last_event(session, ticket).data or {})["changes"]) == {"type"}
    with pytest.raises(InvalidInput) as refused:
        act(session, operator, ticket, "correct", phone="+8613803910123", type="help")
    assert refused.value.reason is Reason.NOTHING_CORRECTED


def test_a_unit_never_corrects_and_a_ticket_with_a_unit_is_not_corrected(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session)
    housing = unit_staff(session, "housing")
    act(session, operator, ticket, "transfer", unit="housing")
    with pytest.raises(PermissionDenied):
        act(session, housing, ticket, "correct", type="help")
    with pytest.raises(IllegalTransition):
        act(session, operator, ticket, "correct", type="help")
    act(session, housing, ticket, "return", reason="不属于本单位")
    act(session, operator, ticket, "correct", type="help")
    assert ticket.request_type == "help"


def test_a_supervisor_corrects_name_and_confidential_while_a_unit_holds_the_ticket_until_it_is_resolved(
        session: Session, operator: Actor, supervisor: Actor) -> None:
    """The citizen calls back after 签收: the name was taken down wrong, and they now ask for
    保密. The operator may no longer change a ticket a unit holds; the supervisor may, and the
    record keeps both values. Once the unit has replied, nobody corrects it any more."""
    ticket = new_ticket(session, body="楼下饭店油烟扰民，我是张三。", name="张山")
    housing = unit_staff(session, "housing")
    act(session, operator, ticket, "transfer", unit="housing")
    act(session, housing, ticket, "accept")
    with pytest.raises(IllegalTransition):
        act(session, operator, ticket, "correct", name="张三")
    with pytest.raises(PermissionDenied):
        act(session, housing, ticket, "correct", confidential=True)

    act(session, supervisor, ticket, "correct", name="张三", confidential="1")
    assert (ticket.name, ticket.confidential, ticket.state) == ("张三", True, "in_progress")
    event = last_event(session, ticket)
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "correct", "in_progress", "in_progress", supervisor.label)
    assert (event.data or {})["changes"] == {"name": {"old": "张山", "new": "张三"},
                                             "confidential": {"old": False, "new": True}}
    # The unit is told what changed, not the values: it reads them on the ticket, as it may.
    (told,) = session.scalars(select(Notice).where(Notice.ticket_id == ticket.id, Notice.kind == "corrected")).all()
    assert told.unit_id == housing.unit_id and "受理信息已修改（姓名、保密）" in told.text
    assert "张三" not in told.text and "张山" not in told.text
    with pytest.raises(InvalidInput) as refused:   # the same again: nothing to correct
        act(session, supervisor, ticket, "correct", name="张三", confidential=True)
    assert refused.value.reason is Reason.NOTHING_CORRECTED

    act(session, housing, ticket, "resolve", reply="已责令饭店安装油烟净化设备，经现场核实已整改。")
    with pytest.raises(IllegalTransition):
        act(session, supervisor, ticket, "correct", confidential=False)
    assert ticket.confidential is True


def test_an_operator_corrects_the_name_and_confidential_before_transfer(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session)
    act(session, operator, ticket, "correct", name="  李四 ", confidential="true")
    assert (ticket.name, ticket.confidential) == ("李四", True)
    assert session.scalars(select(Notice)).all() == []   # no unit holds it: nobody to tell
    act(session, operator, ticket, "correct", name="", confidential=False)
    assert (ticket.name, ticket.confidential) == (None, False)
    assert (last_event(session, ticket).data or {})["changes"] == {
        "name": {"old": "李四", "new": None}, "confidential": {"old": True, "new": False}}
    with pytest.raises(InvalidInput) as refused:
        act(session, operator, ticket, "correct", confidential="maybe")
    assert refused.value.reason is Reason.NOT_BOOLEAN
