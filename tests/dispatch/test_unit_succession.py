"""Retiring a unit: refused while it has open work and no successor (承接单位); with one, its
open tickets, owed parts and catalogue entries move there, each step in the logs."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import audit, catalogue, reports, rollup
from dispatch.actions import ActionContext, allowed_actions, perform
from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.models import Notice, StaffActivity, Ticket, TicketEvent, Transfer, Unit
from dispatch.unit_admin import update_unit
from dispatch.unit_succession import open_work
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

ADMIN = Actor("admin-zhou", user_id=None, role=Role.ADMIN)


def do(session: Session, actor: Actor, ticket: Ticket, action: str, now: dt.datetime, **params: object) -> None:
    perform(session, actor, ticket.number, action, params, ActionContext(now=now))


def retire(session: Session, code: str, **given: str | None) -> Unit:
    unit = unit_by_code(session, code)
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    return update_unit(session, ADMIN, unit.id, name=unit.name, kind=unit.kind,
                       parent_code=parent.code if parent else None, active=False, **given)  # type: ignore[arg-type]


@pytest.fixture
def busy_gas(session: Session, units: City, operator: Actor) -> tuple[Ticket, Ticket]:
    """燃气公司 leads one ticket (accepted) and owes a 协办 part in another, led by 住建局."""
    led = new_ticket(session, body="小区燃气表漏气，请燃气公司处理。")
    co = new_ticket(session, body="燃气管道施工后路面没有恢复。")
    t0 = led.received_at
    do(session, operator, led, "transfer", t0 + dt.timedelta(minutes=1), unit="gas")
    do(session, unit_staff(session, "gas"), led, "accept", t0 + dt.timedelta(minutes=2))
    do(session, operator, co, "transfer", t0 + dt.timedelta(minutes=3), unit="housing", co_units=["gas"])
    session.commit()
    return led, co


def test_a_unit_with_open_work_is_not_retired_without_a_successor(session: Session, busy_gas: tuple[Ticket, Ticket]) -> None:
    gas = unit_by_code(session, "gas")
    assert open_work(session, gas.id).tickets == 1 and open_work(session, gas.id).parts == 1
    with pytest.raises(InvalidInput) as refused:
        retire(session, "gas")
    assert refused.value.field == "successor" and refused.value.params["tickets"] == 1
    session.rollback()
    assert unit_by_code(session, "gas").active


def test_a_retired_units_work_and_catalogue_entries_go_to_its_successor(
        session: Session, units: City, busy_gas: tuple[Ticket, Ticket]) -> None:
    led, co = busy_gas
    assert catalogue.seed(session, units)
    session.commit()
    gas, water = unit_by_code(session, "gas"), unit_by_code(session, "water")
    entries_before = {e.code for e in catalogue.current_entries(session) if e.unit_code == "gas"}
    assert entries_before
    day = led.received_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    period = reports.Period(day, day + dt.timedelta(days=1))
    with pytest.raises(InvalidInput):      # a hand-over says why
        retire(session, "gas", successor_code="water", reason=" ")
    session.rollback()
    with pytest.raises(InvalidInput):      # not to itself
        retire(session, "gas", successor_code="gas", reason="并入")
    session.rollback()
    retire(session, "gas", successor_code="water", reason="燃气公司并入水务公司")
    session.commit()

    assert not unit_by_code(session, "gas").active
    assert led.unit_id == water.id and led.state == "in_progress"
    lead = session.scalar(select(Transfer).where(Transfer.ticket_id == led.id))
    assert lead is not None and lead.unit_id == water.id
    part = session.scalar(select(Transfer).where(Transfer.ticket_id == co.id, Transfer.role == "co"))
    assert part is not None and part.unit_id == water.id and part.outcome == "pending"
    # The successor's staff act on both; nothing is left with the retired unit.
    water_staff = unit_staff(session, "water")
    assert "resolve" in allowed_actions(session, water_staff, led)
    assert "accept" in allowed_actions(session, water_staff, co)
    assert open_work(session, gas.id).tickets == open_work(session, gas.id).parts == 0
    for ticket in (led, co):
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id.desc())).first()
        assert event is not None and event.action == "succession" and event.note == "燃气公司并入水务公司"
        assert event.data["from"] == "gas" and event.data["to"] == "water" and event.unit_id == water.id
    told = session.scalars(select(Notice).where(Notice.unit_id == water.id).order_by(Notice.id)).all()
    assert [(n.kind, n.ticket_id) for n in told] == [("transferred", led.id), ("transferred", co.id)]
    assert told[0].text.startswith("「济源市燃气公司」已停用，工单" + led.number + "移交贵单位办理")
    after = {e.code: e.unit_code for e in catalogue.current_entries(session)}
    assert all(after[code] == "water" for code in entries_before)
    assert "gas" not in after.values()
    logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "unit_changed")).all()
    assert logged[-1].detail["successor"] == "water" and logged[-1].detail["tickets_moved"] == 1
    assert audit.verify(session)[1] == [] and reports.recount_from_events(session) == []
    # The running totals moved with the rows: as a rebuild from the rows counts them.
    kept = [f for f in reports.unit_figures(session, period, now=led.received_at) if f.received]
    by_code = {f.unit_code: f.received for f in kept}
    assert by_code.get("gas", 0) == 0 and by_code["water"] == 2
    rollup.rebuild(session)
    assert [f for f in reports.unit_figures(session, period, now=led.received_at) if f.received] == kept


def test_a_part_the_successor_leads_is_withdrawn_not_doubled(session: Session, busy_gas: tuple[Ticket, Ticket]) -> None:
    _, co = busy_gas
    retire(session, "gas", successor_code="housing", reason="并入住建局")
    session.commit()
    part = session.scalar(select(Transfer).where(Transfer.ticket_id == co.id, Transfer.role == "co"))
    assert part is not None and part.unit_id == unit_by_code(session, "gas").id and part.outcome == "withdrawn"
    assert co.unit_id == unit_by_code(session, "housing").id


def test_a_retired_units_finished_tickets_go_to_its_successor_and_a_reopened_one_is_handled_there(
        session: Session, units: City, operator: Actor) -> None:
    from dispatch import lifecycle, staff_view
    from dispatch.vocabulary import Rating

    gas_staff = unit_staff(session, "gas")
    waiting, closed = new_ticket(session, body="小区燃气表漏气，请燃气公司处理。"), new_ticket(session, body="燃气管道施工后路面没有恢复。")
    t0 = waiting.received_at
    for i, ticket in enumerate((waiting, closed)):
        do(session, operator, ticket, "transfer", t0 + dt.timedelta(minutes=1 + i), unit="gas")
        do(session, gas_staff, ticket, "accept", t0 + dt.timedelta(minutes=3 + i))
        do(session, gas_staff, ticket, "resolve", t0 + dt.timedelta(minutes=5 + i), reply="已更换燃气表并检测无漏气。")
    lifecycle.rate(session, closed, Rating.SATISFIED, operator, now=t0 + dt.timedelta(minutes=8))
    session.commit()
    day = t0.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    period = reports.Period(day, day + dt.timedelta(days=1))
    gas, water = unit_by_code(session, "gas"), unit_by_code(session, "water")
    assert open_work(session, gas.id).blocks_retiring is False

    retire(session, "gas", successor_code="water", reason="燃气公司并入水务公司")
    session.commit()

    # The successor answers for them: it sees both, as its own, not as tickets that left it.
    water_staff = unit_staff(session, "water")
    for ticket in (waiting, closed):
        assert ticket.unit_id == water.id
        assert staff_view.visible_ticket(session, water_staff, ticket.number) is ticket
        assert not staff_view.has_left(session, water_staff, ticket)
        event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id.desc())).first()
        assert event is not None and event.action == "succession" and event.note == "燃气公司并入水务公司"
        assert event.data == {"from": "gas", "to": "water", "history": True}
    # The transfers still say who received and handled them: the transfer figures stay the retired unit's.
    assert {t.unit_id for t in session.scalars(select(Transfer))} == {gas.id}
    assert {f.unit_code: f.received for f in reports.unit_figures(session, period, now=t0) if f.received} == {"gas": 2}
    logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "unit_changed")).all()
    assert logged[-1].detail["history_moved"] == 2 and logged[-1].detail["tickets_moved"] == 0

    # 回访: unsatisfied, it goes back to the successor, which takes it and handles it anew.
    reopened = lifecycle.rate(session, waiting, Rating.UNSATISFIED, operator, now=t0 + dt.timedelta(minutes=20))
    session.commit()
    assert waiting.state == "reopened" and waiting.unit_id == water.id
    assert reopened.unit_id == water.id and reopened.data["succeeded"] == "gas"
    lead = session.scalar(select(Transfer).where(Transfer.ticket_id == waiting.id))
    assert lead is not None and lead.unit_id == water.id
    assert "accept" in allowed_actions(session, water_staff, waiting)
    assert "accept" not in allowed_actions(session, gas_staff, waiting)
    do(session, water_staff, waiting, "accept", t0 + dt.timedelta(minutes=21))
    do(session, water_staff, waiting, "resolve", t0 + dt.timedelta(minutes=22), reply="水务公司已上门复查并修复。")
    session.commit()
    assert audit.verify(session)[1] == [] and reports.recount_from_events(session) == []
    kept = [f for f in reports.unit_figures(session, period, now=t0) if f.received]
    assert {f.unit_code: f.received for f in kept} == {"gas": 1, "water": 1}
    rollup.rebuild(session)
    assert [f for f in reports.unit_figures(session, period, now=t0) if f.received] == kept


def test_a_reopened_ticket_of_a_unit_retired_without_a_successor_goes_to_manual_triage_not_to_it(
        sessions: sessionmaker[Session], session: Session, units: City, operator: Actor) -> None:
    """燃气公司 resolved two tickets and was retired with no successor while they waited for
    回访 (nothing open held it back). One citizen is unsatisfied; dispatch reopens the other.
    Neither goes back to the retired unit, which nobody works for any more: each waits in the
    operators' queue with the reason in its log, and an operator transfers it anew."""
    from dispatch import lifecycle, notifications, queries, webhooks
    from dispatch.models import UnitWebhook, WebhookDelivery
    from dispatch.vocabulary import Rating

    gas_staff = unit_staff(session, "gas")
    rated, reopened = (new_ticket(session, body="小区燃气表漏气，请燃气公司处理。"),
                       new_ticket(session, body="燃气管道施工后路面没有恢复。"))
    t0 = rated.received_at
    for i, ticket in enumerate((rated, reopened)):
        do(session, operator, ticket, "transfer", t0 + dt.timedelta(minutes=1 + i), unit="gas")
        do(session, gas_staff, ticket, "accept", t0 + dt.timedelta(minutes=3 + i))
        do(session, gas_staff, ticket, "resolve", t0 + dt.timedelta(minutes=5 + i), reply="已更换燃气表并检测无漏气。")
    gas = unit_by_code(session, "gas")
    session.add(UnitWebhook(unit_id=gas.id, url="https://gas.example.org/hook", secret="whsec_x",
                            created_at=t0, updated_at=t0))
    session.commit()
    assert open_work(session, gas.id).blocks_retiring is False
    retire(session, "gas")   # no successor: allowed, it holds nothing open
    session.commit()
    webhooks.install(sessions)   # the retired unit's system would hear of a reopen

    event = lifecycle.rate(session, rated, Rating.UNSATISFIED, operator, note="燃气表还在漏",
                           now=t0 + dt.timedelta(minutes=20))
    lifecycle.reopen(session, reopened, operator, "路面仍未恢复，市民再次来电", now=t0 + dt.timedelta(minutes=21))
    session.commit()

    reason = "原承办单位「{}」已停用且未指定承接单位，重办工单转人工分派，请重新转办".format(gas.name)
    for ticket in (rated, reopened):
        assert (ticket.state, ticket.unit_id) == ("returned", None)
        steps = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)).all()
        reopen, triage = steps[-2:]
        assert (reopen.action, reopen.to_state, reopen.unit_id) == ("reopen", "reopened", None)
        assert (triage.action, triage.from_state, triage.to_state) == ("triage", "reopened", "returned")
        assert (triage.note, triage.unit_id, triage.data) == (reason, gas.id, {"retired": "gas"})
    assert event.data["rating"] == "unsatisfied" and rated.rating == "unsatisfied"
    # The retired unit hears nothing of it, in its inbox or its system; the operators' queue has both.
    assert session.scalars(select(Notice).where(Notice.unit_id == gas.id, Notice.kind == "reopened")).all() == []
    assert session.scalars(select(WebhookDelivery)).all() == []
    queued = {t.number for t in queries.dispatch_queue(session).tickets}
    assert {rated.number, reopened.number} <= queued
    assert "accept" not in allowed_actions(session, gas_staff, rated)
    assert "已交承办单位重新办理" in notifications.reply_rated(rated, "unsatisfied")

    # An operator sends it to the unit that handles gas now; it is handled there as any transfer.
    do(session, operator, rated, "transfer", t0 + dt.timedelta(minutes=30), unit="water")
    water_staff = unit_staff(session, "water")
    do(session, water_staff, rated, "accept", t0 + dt.timedelta(minutes=31))
    do(session, water_staff, rated, "resolve", t0 + dt.timedelta(minutes=32), reply="水务公司已上门更换燃气表。")
    session.commit()
    assert audit.verify(session)[1] == [] and reports.recount_from_events(session) == []

