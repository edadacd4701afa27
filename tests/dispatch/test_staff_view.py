"""Confidential tickets hide the citizen from the unit; units see only their own tickets."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import Actor
from dispatch.errors import NotFound
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.staff_view import staff_view
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Channel
from tests.conftest import unit_staff


def confidential_report(session: Session) -> object:
    return intake(session, IntakeRequest(channel=Channel.PHONE, phone="13812345678", name="张三丰",
                                         body="我是张三丰，举报某餐馆使用过期食材，我的电话13812345678。",
                                         location="济水大街88号3单元501室", confidential=True), IntakeRules()).ticket


def test_unit_never_sees_who_filed_a_confidential_ticket(session: Session, units: City, operator: Actor) -> None:
    ticket = confidential_report(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "market-regulation"), operator)
    seen_by_unit = staff_view(session, unit_staff(session, "market-regulation"), ticket)
    assert seen_by_unit["phone"] == "（保密）" and seen_by_unit["name"] == "（保密）"
    assert seen_by_unit["location"] == "（保密）" and "501室" not in str(seen_by_unit)
    assert "13812345678" not in str(seen_by_unit) and "张三丰" not in str(seen_by_unit)
    seen_by_operator = staff_view(session, operator, ticket)
    assert seen_by_operator["phone"] == "+8613812345678" and seen_by_operator["name"] == "张三丰"
    assert seen_by_operator["location"] == "济水大街88号3单元501室"


def test_unit_cannot_see_ticket_of_another_unit(session: Session, units: City, operator: Actor) -> None:
    ticket = confidential_report(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "market-regulation"), operator)
    with pytest.raises(NotFound):
        staff_view(session, unit_staff(session, "housing"), ticket)


def test_unit_still_sees_a_ticket_it_returned(session: Session, units: City, operator: Actor) -> None:
    ticket = confidential_report(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    staff = unit_staff(session, "housing")
    lifecycle.return_ticket(session, ticket, staff, "非本单位职责")
    assert staff_view(session, staff, ticket)["state"] == "returned"
