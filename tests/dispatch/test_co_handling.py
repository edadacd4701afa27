"""主办 / 协办 and 二次派单: a ticket with a lead and co-handling units, a ticket forwarded to a
sub-unit and back, who may act on which part, and each unit's own figures."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, co_handling, forwarding, lifecycle, parts, reports, rollup, unit_inbox
from dispatch.actions import ActionContext, allowed_actions, perform
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from dispatch.models import Notice, Ticket, TicketEvent, Transfer, Unit
from dispatch.public import public_view
from dispatch.staff_view import staff_view
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def actions_of(session: Session, ticket: Ticket) -> list[tuple[str, str | None]]:
    rows = session.execute(select(TicketEvent.action, TicketEvent.unit_id).where(TicketEvent.ticket_id == ticket.id)
                           .order_by(TicketEvent.id))
    names = dict(session.execute(select(Unit.id, Unit.code)).all())
    return [(action, names.get(unit_id)) for action, unit_id in rows]


def owed(session: Session, unit_id: int | None) -> list[unit_inbox.Line]:
    """The lines of the unit's inbox that are parts it owes."""
    assert unit_id is not None
    return [line for line in unit_inbox.page(session, unit_id, utcnow(), offset=0) if line.part]


def do(session: Session, actor: Actor, ticket: Ticket, action: str, now: dt.datetime, **params: object) -> None:
    perform(session, actor, ticket.number, action, params, ActionContext(now=now))


@pytest.fixture
def received(session: Session, units: City) -> Ticket:
    ticket = new_ticket(session, body="小区燃气管道漏气，路面也被挖开没有恢复，请住建、交通和城管一起处理。",
                        name="王小明", phone="13800138000")
    session.commit()
    return ticket


def test_a_co_handled_ticket_from_transfer_to_the_citizens_one_reply(session: Session, received: Ticket,
                                                                      operator: Actor) -> None:
    t0 = received.received_at
    lead, transport, city_mgmt = (unit_staff(session, c) for c in ("housing", "transport", "urban-management"))
    do(session, operator, received, "transfer", t0 + dt.timedelta(minutes=5), unit="housing",
       co_units=["transport", "urban-management"])
    assert received.unit_id == lead.unit_id and received.transfer_count == 1
    # Each co-handling unit has the ticket in its inbox, marked as 协办, and was told.
    inbox = owed(session, transport.unit_id)
    assert [(line.number, line.part, line.part_pending) for line in inbox] == [(received.number, "co", True)]
    told = session.scalars(select(Notice.kind).where(Notice.unit_id == transport.unit_id)).all()
    assert told == ["co_handling"]
    assert allowed_actions(session, transport, received) == ["accept", "return"]

    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, transport, received, "accept", t0 + dt.timedelta(hours=2))
    assert received.state == "in_progress" and received.accepted_transfer_count == 1
    assert "part_reply" in allowed_actions(session, transport, received)
    # The lead cannot answer the citizen while a co-handling unit still owes its part.
    with pytest.raises(Conflict) as waiting:
        do(session, lead, received, "resolve", t0 + dt.timedelta(hours=3), reply="已修复，经现场核实问题已解决")
    assert "transport" not in str(waiting.value) and waiting.value.params["units"] == "济源示范区交通运输局、济源示范区城市管理局"
    do(session, city_mgmt, received, "return", t0 + dt.timedelta(hours=4), reason="路面恢复属交通运输局职责")
    do(session, transport, received, "part_reply", t0 + dt.timedelta(hours=5), reply="已安排恢复路面，王小明家门口三天内完工。")
    assert owed(session, transport.unit_id) == []
    do(session, lead, received, "resolve", t0 + dt.timedelta(hours=6), reply="燃气管道已修复，王小明反映的问题已解决。")
    session.commit()

    assert received.state == "resolved"
    assert actions_of(session, received) == [
        ("receive", None), ("transfer", "housing"), ("co_transfer", "transport"), ("co_transfer", "urban-management"),
        ("accept", "housing"), ("part_accept", "transport"), ("part_return", "urban-management"),
        ("part_reply", "transport"), ("resolve", "housing")]
    # The citizen sees one reply, the lead's, with the parts beneath it, names masked.
    public = public_view(session, received)
    assert public["reply"] == "燃气管道已修复，王**反映的问题已解决。"
    assert public["parts"] == [{"unit": "济源示范区交通运输局", "reply": "已安排恢复路面，王**家门口三天内完工。"}]
    # Staff see every part and how far it got.
    view = staff_view(session, lead, received)
    assert [(p["unit_code"], p["role"], p["status"]) for p in view["parts"]] == [
        ("transport", "co", "replied"), ("urban-management", "co", "returned")]
    assert reports.recount_from_events(session) == []
    checked, breaks = audit.verify(session)
    assert checked >= 9 and breaks == []


def test_a_supervisor_may_let_the_lead_resolve_without_a_missing_part(session: Session, received: Ticket,
                                                                      operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    lead = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0, unit="housing", co_units="transport")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        do(session, lead, received, "override_parts", t0 + dt.timedelta(hours=2), reason="我们自己办")
    assert "override_parts" in allowed_actions(session, supervisor, received)
    do(session, supervisor, received, "override_parts", t0 + dt.timedelta(hours=2), reason="交通局长期未答复，先行办结")
    with pytest.raises(Conflict):  # nothing left to waive
        co_handling.override_parts(session, received, supervisor, "再来一次")
    do(session, lead, received, "resolve", t0 + dt.timedelta(hours=3), reply="已修复，经现场核实问题已解决")
    event = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == received.id,
                                                     TicketEvent.action == "override_parts"))
    assert event is not None and event.actor == "supervisor-li" and event.data == {"waived": ["transport"]}
    assert event.note == "交通局长期未答复，先行办结"


def test_units_act_only_on_their_own_part(session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    lead, transport, commerce = (unit_staff(session, c) for c in ("housing", "transport", "commerce"))
    with pytest.raises(InvalidInput):  # the lead is not its own co-handling unit
        do(session, operator, received, "transfer", t0, unit="housing", co_units=["housing"])
    with pytest.raises(InvalidInput):
        do(session, operator, received, "transfer", t0, unit="housing", co_units=["transport", "transport"])
    with pytest.raises(InvalidInput):
        do(session, operator, received, "transfer", t0, unit="housing", co_units=["no-such-unit"])
    session.rollback()
    received = session.get_one(Ticket, received.id)
    do(session, operator, received, "transfer", t0, unit="housing", co_units=["transport"])
    do(session, transport, received, "accept", t0 + dt.timedelta(hours=1))
    # A unit with no part in the ticket cannot see it at all; the lead has no part to reply.
    with pytest.raises(NotFound):
        do(session, commerce, received, "part_reply", t0 + dt.timedelta(hours=2), reply="代为答复")
    with pytest.raises(PermissionDenied):
        co_handling.reply_part(session, received, commerce, "代为答复")
    with pytest.raises(PermissionDenied):
        do(session, lead, received, "part_reply", t0 + dt.timedelta(hours=2), reply="代为答复")
    # The co-handling unit answers the lead, never the citizen.
    with pytest.raises(PermissionDenied):
        lifecycle.resolve(session, received, transport, "已办结，经现场核实问题已解决")
    with pytest.raises(InvalidInput):  # a part reply needs words
        do(session, transport, received, "part_reply", t0 + dt.timedelta(hours=2), reply="  ")


def test_forwarding_to_a_sub_unit_and_back(session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    housing, gas, community = (unit_staff(session, c) for c in ("housing", "gas", "qinyuan-xuanhua"))
    do(session, operator, received, "transfer", t0, unit="housing")
    deadline = received.deadline
    with pytest.raises(IllegalTransition):  # not before the parent has accepted it
        do(session, housing, received, "forward", t0 + dt.timedelta(minutes=30), unit="gas")
    do(session, housing, received, "accept", t0 + dt.timedelta(hours=1))
    assert "forward" in allowed_actions(session, housing, received)
    # Only to its own sub-units: not another unit's community, not a department beside it.
    for elsewhere in ("qinyuan-xuanhua", "transport"):
        with pytest.raises(InvalidInput):
            do(session, housing, received, "forward", t0 + dt.timedelta(hours=2), unit=elsewhere)
    with pytest.raises(PermissionDenied):  # a unit forwards only what it holds
        forwarding.forward(session, received, community, unit_by_code(session, "qinyuan-xuanhua"))
    do(session, housing, received, "forward", t0 + dt.timedelta(hours=2), unit="gas", note="请燃气公司上门查漏")
    assert "forward" not in allowed_actions(session, housing, received)  # one sub-unit at a time
    inbox = owed(session, gas.unit_id)
    assert [(line.part, line.lead_unit_id) for line in inbox] == [("forward", housing.unit_id)]
    assert session.scalars(select(Notice.kind).where(Notice.unit_id == gas.unit_id)).all() == ["forwarded"]
    # The sub-unit hands it back; the parent is told and may forward again.
    do(session, gas, received, "return", t0 + dt.timedelta(hours=3), reason="该管道属用户自有，非公司管网")
    assert [n.kind for n in session.scalars(select(Notice).where(Notice.unit_id == housing.unit_id))] == [
        "transferred", "part"]
    do(session, housing, received, "forward", t0 + dt.timedelta(hours=4), unit="gas", note="请再核实")
    do(session, gas, received, "accept", t0 + dt.timedelta(hours=5))
    do(session, gas, received, "part_reply", t0 + dt.timedelta(hours=6), reply="已上门更换阀门。")
    # The parent stays accountable: the ticket never left it, and the deadline did not move.
    assert received.unit_id == housing.unit_id and received.deadline == deadline and received.state == "in_progress"
    view = staff_view(session, housing, received)
    assert [(p["unit_code"], p["role"], p["status"], p["reply"]) for p in view["parts"]] == [
        ("gas", "forward", "returned", None), ("gas", "forward", "replied", "已上门更换阀门。")]
    with pytest.raises(PermissionDenied):  # the sub-unit does not answer the citizen
        lifecycle.resolve(session, received, gas, "已办结，经现场核实问题已解决")
    do(session, housing, received, "resolve", t0 + dt.timedelta(hours=7), reply="燃气公司已上门更换阀门。")
    session.commit()
    assert [a for a, _ in actions_of(session, received)] == [
        "receive", "transfer", "accept", "forward", "hand_back", "forward", "part_accept", "part_reply", "resolve"]
    assert public_view(session, received)["parts"] == []  # a sub-unit's answer went to its parent
    assert reports.recount_from_events(session) == []
    assert audit.verify(session)[1] == []


def test_a_lead_that_returns_the_ticket_takes_the_open_parts_with_it(session: Session, received: Ticket,
                                                                     operator: Actor) -> None:
    t0 = received.received_at
    lead, transport = unit_staff(session, "housing"), unit_staff(session, "transport")
    do(session, operator, received, "transfer", t0, unit="housing", co_units=["transport"])
    do(session, lead, received, "return", t0 + dt.timedelta(hours=1), reason="不属于本单位")
    assert owed(session, transport.unit_id) == []
    assert session.scalar(select(Transfer.outcome).where(Transfer.role == "co")) == "withdrawn"
    # Re-dispatched: the new lead's parts are its own.
    do(session, operator, received, "transfer", t0 + dt.timedelta(hours=2), unit="transport", co_units=["housing"])
    assert [p.unit_code for p in parts.part_views(session, received)] == ["housing"]


def test_each_unit_is_counted_for_its_own_part(session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    lead, transport, city_mgmt = (unit_staff(session, c) for c in ("housing", "transport", "urban-management"))
    do(session, operator, received, "transfer", t0, unit="housing", co_units=["transport", "urban-management"])
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, transport, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, city_mgmt, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, transport, received, "part_reply", t0 + dt.timedelta(hours=2), reply="已处理")
    late = received.deadline + dt.timedelta(hours=1)
    do(session, city_mgmt, received, "part_reply", late, reply="已处理（超期）")
    do(session, lead, received, "resolve", late + dt.timedelta(hours=1), reply="已修复，经现场核实问题已解决")
    session.commit()
    day = received.received_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    period = reports.Period(day, day + dt.timedelta(days=60))
    figures = {f.unit_code: f for f in reports.unit_figures(session, period, now=late + dt.timedelta(days=1))}
    got = {code: (f.received, f.accepted, f.returned, f.resolved, f.resolved_on_time)
           for code, f in figures.items()}
    assert got == {"housing": (1, 1, 0, 1, 0), "transport": (1, 1, 0, 1, 1), "urban-management": (1, 1, 0, 1, 0)}
    assert figures["transport"].as_dict()["on_time_rate"] == 1.0
    assert figures["urban-management"].as_dict()["on_time_rate"] == 0.0
    # The citizen-facing ticket figures count the ticket once, by its lead's transfer.
    assert reports.ticket_figures(session, period, now=late).transfers == 1
    kept = reports.unit_figures(session, period, now=late)
    rollup.rebuild(session)
    assert reports.unit_figures(session, period, now=late) == kept


def test_units_see_the_tickets_they_have_a_part_in(session: Session, received: Ticket, operator: Actor) -> None:
    do(session, operator, received, "transfer", received.received_at, unit="housing", co_units=["transport"])
    transport = unit_staff(session, "transport")
    assert staff_view(session, transport, received)["number"] == received.number
    with pytest.raises(NotFound):
        staff_view(session, unit_staff(session, "commerce"), received)


def forwarded_to_gas(session: Session, received: Ticket, operator: Actor) -> tuple[Actor, Actor]:
    """Transferred to housing at the ticket's receipt, accepted an hour later, forwarded to its
    sub-unit gas an hour after that: housing's and gas's staff."""
    t0 = received.received_at
    housing, gas = unit_staff(session, "housing"), unit_staff(session, "gas")
    do(session, operator, received, "transfer", t0, unit="housing")
    do(session, housing, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, housing, received, "forward", t0 + dt.timedelta(hours=2), unit="gas")
    return housing, gas


def test_a_parent_that_resolves_takes_back_the_part_its_sub_unit_has_not_answered(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    housing, gas = forwarded_to_gas(session, received, operator)
    do(session, housing, received, "resolve", t0 + dt.timedelta(hours=3), reply="本局已派人关阀检修。")
    session.commit()
    assert received.state == "resolved"
    assert [p.status for p in parts.part_views(session, received)] == ["withdrawn"]
    assert owed(session, gas.unit_id) == []
    # In the log, after the forward and before the resolution, naming the sub-unit.
    assert actions_of(session, received)[-2:] == [("withdraw_forward", "gas"), ("resolve", "housing")]
    told = {n.key.split(":")[0]: n for n in session.scalars(select(Notice).where(Notice.unit_id == gas.unit_id))}
    assert told["forwarded"].read_at is not None          # the part it gave is no longer owed
    assert told["forward_withdrawn"].read_at is None and received.number in told["forward_withdrawn"].text
    assert "已收回" in told["forward_withdrawn"].text
    with pytest.raises(PermissionDenied):                  # nothing left for the sub-unit to do
        do(session, gas, received, "accept", t0 + dt.timedelta(hours=4))
    assert reports.recount_from_events(session) == []
    assert audit.verify(session)[1] == []


def test_a_parent_resolving_after_its_sub_unit_answered_takes_nothing_back(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    housing, gas = forwarded_to_gas(session, received, operator)
    do(session, gas, received, "accept", t0 + dt.timedelta(hours=3))
    do(session, gas, received, "part_reply", t0 + dt.timedelta(hours=4), reply="已换阀门。")
    do(session, housing, received, "resolve", t0 + dt.timedelta(hours=5), reply="已换阀门，经现场核实问题已解决。")
    assert [p.status for p in parts.part_views(session, received)] == ["replied"]
    assert "withdraw_forward" not in [a for a, _ in actions_of(session, received)]


def test_a_unit_is_told_of_a_new_transfer_and_of_a_citizens_unsatisfied_reopen(
        session: Session, received: Ticket, operator: Actor) -> None:
    from dispatch import follow_up
    from dispatch.vocabulary import Rating

    t0 = received.received_at
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0, unit="housing")
    do(session, housing, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, housing, received, "resolve", t0 + dt.timedelta(hours=2), reply="已修好，经现场核实问题已解决。")
    follow_up.rate_as_citizen(session, received, Rating.UNSATISFIED, Actor.citizen("sms"),
                              now=t0 + dt.timedelta(hours=3))
    assert received.state == "reopened"
    told = list(session.scalars(select(Notice).where(Notice.unit_id == housing.unit_id).order_by(Notice.id)))
    assert [(n.kind, n.read_at) for n in told] == [("transferred", None), ("reopened", None)]
    assert all(received.number in n.text for n in told) and "不满意" in told[1].text


def test_the_lead_asks_to_resolve_first_and_a_supervisor_refuses_then_agrees(
        session: Session, received: Ticket, operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    lead, transport, commerce = (unit_staff(session, c) for c in ("housing", "transport", "commerce"))
    do(session, operator, received, "transfer", t0, unit="housing", co_units="transport")
    with pytest.raises(IllegalTransition):  # not before 签收
        do(session, lead, received, "request_override", t0, reason="交通局未答复")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    assert "request_override" in allowed_actions(session, lead, received)
    for who in (transport, supervisor, operator):  # only the lead unit asks
        assert "request_override" not in allowed_actions(session, who, received)
        with pytest.raises(PermissionDenied):
            do(session, who, received, "request_override", t0, reason="交通局未答复")
    with pytest.raises(NotFound):  # a unit with no part of the ticket does not see it
        do(session, commerce, received, "request_override", t0, reason="交通局未答复")
    with pytest.raises(InvalidInput) as blank:
        do(session, lead, received, "request_override", t0, reason="  ")
    assert blank.value.field == "reason"
    with pytest.raises(InvalidInput) as long:
        do(session, lead, received, "request_override", t0, reason="长" * (co_handling.MAX_OVERRIDE_REASON_CHARS + 1))
    assert long.value.field == "reason" and long.value.params["limit"] == co_handling.MAX_OVERRIDE_REASON_CHARS
    do(session, lead, received, "request_override", t0 + dt.timedelta(hours=2), reason="交通局三天未答复，路面已修好")
    assert "request_override" not in allowed_actions(session, lead, received)
    with pytest.raises(Conflict):  # one open request at a time
        do(session, lead, received, "request_override", t0 + dt.timedelta(hours=2), reason="再问一次")
    [(event, ticket, unit)] = co_handling.pending_override_requests(session)
    assert (ticket.number, unit.code, event.note) == (received.number, "housing", "交通局三天未答复，路面已修好")

    with pytest.raises(PermissionDenied):  # only supervisors decide
        do(session, lead, received, "refuse_override", t0 + dt.timedelta(hours=3), reason="不行")
    assert "refuse_override" in allowed_actions(session, supervisor, received)
    do(session, supervisor, received, "refuse_override", t0 + dt.timedelta(hours=3), reason="请再催交通局一天")
    assert co_handling.pending_override_requests(session) == []
    told = session.scalars(select(Notice).where(Notice.unit_id == lead.unit_id, Notice.kind == "override")).all()
    assert [n.text for n in told] == [f"工单{received.number}的先行办结申请未同意，请等待协办单位答复。意见：请再催交通局一天"]
    with pytest.raises(Conflict):  # nothing left to refuse
        do(session, supervisor, received, "refuse_override", t0 + dt.timedelta(hours=3), reason="不行")
    assert co_handling.override_request_news(session, received)[0] == "refused"  # type: ignore[index]

    # Asked again, and agreed through the existing 同意先行办结, which closes the request.
    do(session, lead, received, "request_override", t0 + dt.timedelta(hours=30), reason="交通局仍未答复")
    request = co_handling.open_override_request(session, received)
    assert request is not None
    do(session, supervisor, received, "override_parts", t0 + dt.timedelta(hours=31), reason="同意")
    assert co_handling.open_override_request(session, received) is None
    assert co_handling.pending_override_requests(session) == []
    assert co_handling.override_request_news(session, received) is None
    agreed = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == received.id,
                                                      TicketEvent.action == "override_parts"))
    assert agreed is not None and agreed.data == {"waived": ["transport"], "request": request.id}
    # The unit that asked hears the agreement as it heard the refusal.
    told = session.scalars(select(Notice).where(Notice.unit_id == lead.unit_id, Notice.kind == "override")
                           .order_by(Notice.id)).all()
    assert [n.text for n in told][1:] == [
        f"工单{received.number}的先行办结申请已同意，可不再等待协办单位答复，直接办结。意见：同意"]
    assert told[1].key == f"override:agreed:{agreed.id}" and told[1].ticket_id == received.id
    do(session, lead, received, "resolve", t0 + dt.timedelta(hours=32), reply="已修复")
    session.commit()
    assert [a for a, _ in actions_of(session, received)
            if a in ("request_override", "refuse_override", "override_parts")] == [
        "request_override", "refuse_override", "request_override", "override_parts"]
    assert audit.verify(session)[1] == []


def test_an_admin_asks_to_resolve_first_for_the_lead_unit_as_for_an_extension(
        session: Session, received: Ticket, operator: Actor, supervisor: Actor) -> None:
    """An admin acting for a unit may file its 延期申请 and 改派申请 (actors.require_unit); a
    先行办结申请 is the same kind of unit request."""
    t0 = received.received_at
    admin = Actor(label="admin-zhao", role=Role.ADMIN)
    lead = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0, unit="housing", co_units="transport")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    assert "request_override" in allowed_actions(session, admin, received)
    do(session, admin, received, "request_override", t0 + dt.timedelta(hours=2), reason="交通局三天未答复")
    [(event, _, unit)] = co_handling.pending_override_requests(session)
    assert (event.actor, unit.code) == ("admin-zhao", "housing")
    do(session, supervisor, received, "override_parts", t0 + dt.timedelta(hours=3), reason="同意")
    assert session.scalar(select(Notice.key).where(Notice.kind == "override")).startswith("override:agreed:")


def test_a_waiver_no_unit_asked_for_tells_no_one_of_a_request(session: Session, received: Ticket,
                                                               operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    lead = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0, unit="housing", co_units="transport")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, supervisor, received, "override_parts", t0 + dt.timedelta(hours=3), reason="督办同意")
    assert session.scalars(select(Notice).where(Notice.kind == "override")).all() == []


def test_a_request_to_resolve_first_lapses_when_the_co_unit_answers(session: Session, received: Ticket,
                                                                    operator: Actor, supervisor: Actor) -> None:
    t0 = received.received_at
    lead, transport = (unit_staff(session, c) for c in ("housing", "transport"))
    do(session, operator, received, "transfer", t0, unit="housing", co_units="transport")
    do(session, lead, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, transport, received, "accept", t0 + dt.timedelta(hours=1))
    do(session, lead, received, "request_override", t0 + dt.timedelta(hours=2), reason="交通局未答复")
    assert len(co_handling.pending_override_requests(session)) == 1
    do(session, transport, received, "part_reply", t0 + dt.timedelta(hours=3), reply="路面已恢复")
    assert co_handling.pending_override_requests(session) == []
    assert co_handling.open_override_request(session, received) is None
    assert "refuse_override" not in allowed_actions(session, supervisor, received)
    with pytest.raises(Conflict):
        do(session, supervisor, received, "refuse_override", t0 + dt.timedelta(hours=4), reason="不行")
    do(session, lead, received, "resolve", t0 + dt.timedelta(hours=4), reply="已修复，经现场核实问题已解决")
