"""A catalogue entry's deadline class (紧急 1 working day, 快办 3) sets the ticket's deadline
from the dispatch, in the transfer's audited event; re-dispatching moves it again; the unit
figures (lead and co-handling parts) judge on-time by it, and rebuilding them agrees."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, catalogue, reports, rollup
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.catalogue import EntryChange
from dispatch.deadlines import DeadlinePolicy
from dispatch.models import Ticket, TicketEvent, Unit
from dispatch.units import City
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

GAS = "城乡建设/城市建设和市政管理/燃气供应"          # urgent in the city file
ROADS = "交通运输/出租车管理/运价监管"            # no class: the normal deadline
RECEIVED = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)  # Monday 09:00 China time
POLICY = DeadlinePolicy()


@pytest.fixture
def seeded(session: Session, units: City) -> City:
    assert catalogue.seed(session, units)
    session.commit()
    return units


@pytest.fixture
def complaint(session: Session, seeded: City) -> Ticket:
    ticket = new_ticket(session, body="小区燃气管道漏气，闻到很重的煤气味，请马上派人处理。", now=RECEIVED)
    session.commit()
    assert ticket.request_type == "complaint"
    return ticket


def do(session: Session, seeded: City, actor: Actor, ticket: Ticket, action: str, now: dt.datetime,
       **params: object) -> None:
    perform(session, actor, ticket.number, action, params, ActionContext(city=seeded, deadlines=POLICY, now=now))


def _transfer_data(session: Session, ticket: Ticket) -> list[dict]:
    return [e.data.get("deadline") for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "transfer")
        .order_by(TicketEvent.id))]


def test_an_urgent_entry_sets_one_working_day_from_dispatch(session: Session, seeded: City, complaint: Ticket,
                                                            operator: Actor) -> None:
    normal = complaint.deadline
    assert normal == POLICY.calendar.add_working_days(RECEIVED, 10)
    # Dispatched on Friday afternoon: the one working day is Monday.
    friday = dt.datetime(2026, 3, 6, 7, 0, tzinfo=dt.timezone.utc)
    do(session, seeded, operator, complaint, "transfer", friday, category=GAS)
    session.commit()
    monday_end = dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert complaint.deadline == monday_end and complaint.deadline_class == "urgent"
    assert complaint.deadline < normal
    # The transfer's event keeps the class and both deadlines, in the sealed log.
    assert _transfer_data(session, complaint) == [{"deadline_class": "urgent", "old_deadline": normal.isoformat(),
                                                   "new_deadline": monday_end.astimezone(dt.timezone.utc).isoformat()}]
    assert audit.verify(session)[1] == []


def test_confirming_the_proposal_applies_its_entrys_class(session: Session, seeded: City, complaint: Ticket,
                                                           operator: Actor) -> None:
    """Transferred to the proposed unit with no category named: the proposal's entry is the
    one confirmed, so its class sets the deadline; another unit does not confirm it."""
    entry = catalogue.find_current(session, GAS)
    gas_unit = session.get_one(Unit, entry.unit_id).code
    complaint.routing = {"unit_code": gas_unit, "entry": {"code": entry.code, "entry_id": entry.id}}
    complaint.catalogue_entry_id = entry.id
    session.commit()
    friday = dt.datetime(2026, 3, 6, 7, 0, tzinfo=dt.timezone.utc)
    do(session, seeded, operator, complaint, "transfer", friday, unit=gas_unit)
    session.commit()
    assert complaint.deadline_class == "urgent"
    assert complaint.deadline == dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert _transfer_data(session, complaint)[0]["deadline_class"] == "urgent"


def test_a_proposal_sent_elsewhere_keeps_the_normal_deadline(session: Session, seeded: City, complaint: Ticket,
                                                             operator: Actor) -> None:
    entry = catalogue.find_current(session, GAS)
    complaint.routing = {"unit_code": "not-this-one", "entry": {"code": entry.code, "entry_id": entry.id}}
    complaint.catalogue_entry_id = entry.id
    session.commit()
    normal = complaint.deadline
    do(session, seeded, operator, complaint, "transfer", dt.datetime(2026, 3, 6, 7, 0, tzinfo=dt.timezone.utc),
       unit="housing")
    session.commit()
    assert complaint.deadline_class is None and complaint.deadline == normal


def test_re_dispatch_moves_the_deadline_and_a_normal_entry_restores_it(session: Session, seeded: City,
                                                                       complaint: Ticket, operator: Actor,
                                                                       supervisor: Actor) -> None:
    normal = complaint.deadline
    do(session, seeded, operator, complaint, "transfer", RECEIVED, category=GAS)
    first = complaint.deadline
    assert first == POLICY.calendar.add_working_days(RECEIVED, 1)
    gas = unit_staff(session, "gas")
    do(session, seeded, gas, complaint, "return", RECEIVED + dt.timedelta(hours=2), reason="不是燃气问题")
    assert complaint.deadline == first                       # a return alone moves nothing
    # Re-dispatched two days later under the same class: one working day from then.
    later = RECEIVED + dt.timedelta(days=2)
    do(session, seeded, operator, complaint, "transfer", later, unit="gas")
    assert complaint.deadline == POLICY.calendar.add_working_days(later, 1) and complaint.deadline_class == "urgent"
    do(session, seeded, gas, complaint, "return", later + dt.timedelta(hours=1), reason="属出租车运价")
    # Under an entry of the normal class: back to the deadline by type, from receipt.
    do(session, seeded, operator, complaint, "transfer", later + dt.timedelta(hours=2), category=ROADS)
    assert complaint.deadline == normal and complaint.deadline_class is None
    # A quick class the supervisor gives the entry applies to the next dispatch only.
    catalogue.edit_entry(session, seeded, catalogue.find_current(session, ROADS).code,
                         EntryChange(unit_code="transport", local=False, terms_text="出租车运价", deadline_class="quick"),
                         supervisor)
    session.commit()
    assert complaint.deadline == normal
    classes = [d["deadline_class"] if d else None for d in _transfer_data(session, complaint)]
    assert classes == ["urgent", "urgent", None]


def test_on_time_figures_follow_the_class_deadline_and_rebuild_agrees(session: Session, seeded: City,
                                                                      complaint: Ticket, operator: Actor) -> None:
    do(session, seeded, operator, complaint, "transfer", RECEIVED, category=GAS, co_units=["urban-management"])
    gas, city_mgmt = unit_staff(session, "gas"), unit_staff(session, "urban-management")
    do(session, seeded, gas, complaint, "accept", RECEIVED + dt.timedelta(hours=1))
    do(session, seeded, city_mgmt, complaint, "accept", RECEIVED + dt.timedelta(hours=1))
    # Three days on: well inside a complaint's ten days, but past the urgent class's one.
    late = RECEIVED + dt.timedelta(days=3)
    assert complaint.deadline < late
    do(session, seeded, city_mgmt, complaint, "part_reply", late, reply="已配合处理")
    do(session, seeded, gas, complaint, "resolve", late + dt.timedelta(hours=1), reply="已修复漏气管道，经现场核实问题已解决")
    session.commit()
    assert complaint.resolved_on_time is False
    day = RECEIVED.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    period = reports.Period(day, day + dt.timedelta(days=30))
    kept = reports.unit_figures(session, period, now=late + dt.timedelta(days=1))
    got = {f.unit_code: (f.resolved, f.resolved_on_time) for f in kept}
    assert got == {"gas": (1, 0), "urban-management": (1, 0)}
    assert reports.recount_from_events(session) == []
    rollup.rebuild(session)
    assert reports.unit_figures(session, period, now=late + dt.timedelta(days=1)) == kept


def _upheld_dispute(session: Session, seeded: City, complaint: Ticket, operator: Actor, supervisor: Actor,
                    policy: DeadlinePolicy) -> dt.datetime:
    """Dispatched to housing at receipt (the normal ten working days), accepted, then found not
    housing's only after its deadline: the centre upholds housing's 改派申请. Returns when."""
    context = ActionContext(city=seeded, deadlines=policy, now=RECEIVED)
    perform(session, operator, complaint.number, "transfer", {"unit": "housing"}, context)
    housing = unit_staff(session, "housing")
    perform(session, housing, complaint.number, "accept", {}, context)
    upheld = complaint.deadline + dt.timedelta(days=1)
    perform(session, housing, complaint.number, "dispute", {"reason": "燃气管道属燃气公司"},
            ActionContext(city=seeded, deadlines=policy, now=upheld - dt.timedelta(hours=2)))
    perform(session, supervisor, complaint.number, "decide_dispute", {"approve": True, "reason": "同意改派"},
            ActionContext(city=seeded, deadlines=policy, now=upheld))
    session.commit()
    assert complaint.state == "returned"
    return upheld


def test_a_ticket_dispatched_again_after_an_upheld_dispute_gets_a_fresh_handling_time(
        session: Session, seeded: City, complaint: Ticket, operator: Actor, supervisor: Actor) -> None:
    normal = complaint.deadline
    upheld = _upheld_dispute(session, seeded, complaint, operator, supervisor, POLICY)
    assert complaint.deadline == normal                     # upholding alone moves nothing
    # Dispatched again the next morning: ten working days from then, on the same calendar.
    again = upheld + dt.timedelta(hours=10)
    do(session, seeded, operator, complaint, "transfer", again, unit="transport")
    fresh = POLICY.calendar.add_working_days(again, 10)
    assert complaint.deadline == fresh > again and complaint.received_at == RECEIVED
    assert _transfer_data(session, complaint)[-1] == {
        "deadline_class": None, "old_deadline": normal.isoformat(), "new_deadline": fresh.isoformat(),
        "counted_from": "redispatch"}
    # Transport returns it before accepting (a plain 退单): the next dispatch keeps that deadline.
    transport = unit_staff(session, "transport")
    do(session, seeded, transport, complaint, "return", again + dt.timedelta(hours=1), reason="不是出租车问题")
    do(session, seeded, operator, complaint, "transfer", again + dt.timedelta(hours=2), unit="gas")
    assert complaint.deadline == fresh and _transfer_data(session, complaint)[-1] is None
    gas = unit_staff(session, "gas")
    do(session, seeded, gas, complaint, "accept", again + dt.timedelta(hours=3))
    do(session, seeded, gas, complaint, "resolve", again + dt.timedelta(days=3), reply="已修复漏气管道，经现场核实问题已解决")
    session.commit()
    assert complaint.resolved_on_time is True and audit.verify(session)[1] == []
    # The figures still count the ticket by its receipt: in the period of its receipt day, not
    # of the day it was dispatched again; on time by the gas unit's deadline.
    day = RECEIVED.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    received_period = reports.Period(day, day)
    assert reports.ticket_figures(session, received_period).received == 1
    units = {f.unit_code: (f.received, f.resolved, f.resolved_on_time)
             for f in reports.unit_figures(session, received_period)}
    assert units == {"housing": (1, 0, 0), "transport": (1, 0, 0), "gas": (1, 1, 1)}
    later_day = (again.astimezone(dt.timezone(dt.timedelta(hours=8)))).date()
    assert reports.ticket_figures(session, reports.Period(later_day, later_day)).received == 0
    rollup.rebuild(session)
    assert {f.unit_code: (f.received, f.resolved, f.resolved_on_time)
            for f in reports.unit_figures(session, received_period)} == units


def test_a_city_that_turns_the_restart_off_keeps_the_deadline_from_receipt(
        session: Session, seeded: City, complaint: Ticket, operator: Actor, supervisor: Actor) -> None:
    kept = DeadlinePolicy(redispatch_restarts=False)
    normal = complaint.deadline
    upheld = _upheld_dispute(session, seeded, complaint, operator, supervisor, kept)
    perform(session, operator, complaint.number, "transfer", {"unit": "transport"},
            ActionContext(city=seeded, deadlines=kept, now=upheld + dt.timedelta(hours=1)))
    assert complaint.deadline == normal < upheld   # the new unit receives it overdue, as before
    assert _transfer_data(session, complaint)[-1] is None


def test_a_classed_ticket_after_an_upheld_dispute_under_a_normal_entry_counts_from_the_new_dispatch(
        session: Session, seeded: City, complaint: Ticket, operator: Actor, supervisor: Actor) -> None:
    do(session, seeded, operator, complaint, "transfer", RECEIVED, category=GAS)
    gas = unit_staff(session, "gas")
    do(session, seeded, gas, complaint, "accept", RECEIVED + dt.timedelta(hours=1))
    do(session, seeded, gas, complaint, "dispute", RECEIVED + dt.timedelta(days=5), reason="属出租车运价")
    do(session, seeded, supervisor, complaint, "decide_dispute", RECEIVED + dt.timedelta(days=6),
       approve=True, reason="同意改派")
    again = RECEIVED + dt.timedelta(days=7)
    do(session, seeded, operator, complaint, "transfer", again, category=ROADS)
    # Not back to ten working days from receipt (a plain re-dispatch's rule): from this dispatch.
    assert complaint.deadline == POLICY.calendar.add_working_days(again, 10) and complaint.deadline_class is None
    assert _transfer_data(session, complaint)[-1]["counted_from"] == "redispatch"
