"""Confidential tickets hide the citizen from the unit; units see only their own tickets."""
from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dispatch import forwarding, lifecycle, queries
from dispatch.actors import Actor
from dispatch.deadlines import DeadlinePolicy
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


def test_a_sub_unit_sees_that_its_lead_asked_for_more_time_but_not_why(session: Session, units: City,
                                                                       operator: Actor, supervisor: Actor) -> None:
    ticket = confidential_report(session)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    housing, gas = unit_staff(session, "housing"), unit_staff(session, "gas")
    lifecycle.accept(session, ticket, housing)
    forwarding.forward(session, ticket, housing, unit_by_code(session, "gas"))
    lifecycle.request_extension(session, ticket, housing, 3, "管线改造需协调市政审批")
    decided = queries.pending_extension_of(session, ticket.id)
    assert decided is not None
    lifecycle.decide_extension(session, decided, supervisor, approve=False, policy=DeadlinePolicy(),
                               note="请先行处置漏气")

    def extension_steps(actor: Actor) -> list[tuple[str, str | None]]:
        return [(e["action"], e["note"]) for e in staff_view(session, actor, ticket)["events"]
                if e["action"] in ("request_extension", "refuse_extension")]

    assert extension_steps(housing) == [("request_extension", "管线改造需协调市政审批"),
                                        ("refuse_extension", "请先行处置漏气")]
    assert extension_steps(supervisor) == extension_steps(housing)
    seen_by_gas = staff_view(session, gas, ticket)
    assert extension_steps(gas) == [("request_extension", None), ("refuse_extension", None)]
    assert "市政审批" not in str(seen_by_gas) and "先行处置" not in str(seen_by_gas)


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
