"""Supervisors' notices (dispatch.staff_notices): who is told what. The one who escalated hears
the unit's answer and the resolution; every supervisor hears of a request waiting for a
decision, which the decision settles; units and operators read none of them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import lifecycle, notices, staff, staff_notices
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.errors import PermissionDenied
from dispatch.models import Ticket
from dispatch.units import City
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket

HOUR = dt.timedelta(hours=1)


def do(session: Session, actor: Actor, ticket: Ticket, action: str, now: dt.datetime, **params: object) -> Ticket:
    return perform(session, actor, ticket.number, action, params, ActionContext(now=now))


def person(session: Session, username: str, role: Role = Role.SUPERVISOR) -> Actor:
    user = staff.create_user(session, username, "long enough 1", role, display_name=username)
    session.flush()
    return Actor(label=username, user_id=user.id, role=role)


def kinds(session: Session, actor: Actor) -> list[tuple[str, str | None]]:
    """The actor's notices, oldest first: (kind, ticket number)."""
    return [(n.kind, n.ticket_number) for n in reversed(staff_notices.latest(session, actor).notices)]


@pytest.fixture
def received(session: Session, units: City) -> Ticket:
    ticket = new_ticket(session, body="小区燃气管道漏气，路面也被挖开没有恢复，请住建和交通一起处理。",
                        name="王小明", phone="13800138000")
    session.commit()
    return ticket


def test_the_supervisor_who_escalated_hears_the_answer_and_the_resolution_and_nobody_else_does(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0, number = received.received_at, received.number
    li, zhang, admin = person(session, "li"), person(session, "zhang"), person(session, "root", Role.ADMIN)
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing")
    do(session, housing, received, "accept", t0 + 2 * HOUR)
    # The scheduler's 督办 answered: nobody to tell.
    lifecycle.escalate(session, received, Actor.system("system:chasing"), "超期自动督办", now=t0 + 3 * HOUR)
    do(session, housing, received, "progress", t0 + 4 * HOUR, text="已安排维修。")
    assert kinds(session, li) == kinds(session, zhang) == []

    do(session, li, received, "escalate", t0 + 5 * HOUR, note="请说明维修时间")
    do(session, housing, received, "progress", t0 + 6 * HOUR, text="明天上午9点维修，预计中午完成。")
    do(session, housing, received, "progress", t0 + 7 * HOUR, text="材料已到。")   # answers nothing new
    assert kinds(session, li) == [("escalation_answered", number)]
    (told,) = staff_notices.latest(session, li).notices
    assert "明天上午9点维修" in told.text and "住房" in told.text and told.unit_id is None
    assert staff_notices.unread(session, li).value == 1
    assert kinds(session, zhang) == kinds(session, admin) == []     # addressed to li alone

    do(session, zhang, received, "escalate", t0 + 30 * HOUR, note="仍未完成，请加快", again=True)
    do(session, housing, received, "progress", t0 + 31 * HOUR, text="今天完成。")
    assert kinds(session, zhang) == [("escalation_answered", number)]
    assert kinds(session, li) == [("escalation_answered", number)]

    do(session, housing, received, "resolve", t0 + 32 * HOUR, reply="管道已修复，路面已恢复，已回访居民确认。")
    assert kinds(session, li) == [("escalation_answered", number), ("escalated_resolved", number)]
    assert kinds(session, zhang) == [("escalation_answered", number), ("escalated_resolved", number)]
    assert kinds(session, admin) == []

    # Not in the unit's inbox, nor in the units' notices a supervisor lists through the API.
    unit_kinds = {n.kind for n in notices.latest(session, housing.unit_id).notices}
    assert unit_kinds.isdisjoint(k.value for k in staff_notices.KINDS)
    every_units = notices.listed(session, unit_id=None).items
    assert every_units and all(n.unit_id is not None for n in every_units)

    # Marked read by li: li's alone.
    assert staff_notices.mark_read(session, li) == 2
    assert staff_notices.unread(session, li).value == 0
    assert staff_notices.unread(session, zhang).value == 2


def test_every_supervisor_hears_of_a_request_waiting_and_its_decision_settles_it(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0, number = received.received_at, received.number
    li, zhang, admin = person(session, "li"), person(session, "zhang"), person(session, "root", Role.ADMIN)
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing", co_units=["transport"])
    do(session, housing, received, "accept", t0 + 2 * HOUR)

    do(session, housing, received, "request_extension", t0 + 3 * HOUR, days=3, reason="需要等待燃气公司配合")
    assert kinds(session, li) == kinds(session, zhang) == kinds(session, admin) == [("extension_request", number)]
    assert "3个工作日" in staff_notices.latest(session, li).notices[0].text
    do(session, zhang, received, "decide_extension", t0 + 4 * HOUR, approve=True)
    # One supervisor decided: nothing left for any of them (read for all, as a unit's notice is).
    assert staff_notices.unread(session, li).value == staff_notices.unread(session, zhang).value == 0

    do(session, housing, received, "request_override", t0 + 5 * HOUR, reason="交通局一直未答复")
    do(session, housing, received, "dispute", t0 + 6 * HOUR, reason="燃气管道归燃气公司，不属本单位")
    assert kinds(session, li)[-2:] == [("override_request", number), ("dispute_request", number)]
    assert staff_notices.unread(session, li).value == 2
    do(session, li, received, "refuse_override", t0 + 7 * HOUR, reason="请再催交通局")
    assert [n.kind for n in staff_notices.latest(session, zhang).notices if n.read_at is None] == ["dispute_request"]
    do(session, li, received, "decide_dispute", t0 + 8 * HOUR, approve=False, reason="属本单位职责")
    assert staff_notices.unread(session, zhang).value == 0

    # The unit's own notices of the decisions are still the unit's.
    assert {"extension", "override", "dispute"} <= {n.kind for n in notices.latest(session, housing.unit_id).notices}


def test_units_and_operators_read_no_supervisors_notices_and_supervisors_mark_no_units(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    li = person(session, "li")
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing")
    do(session, housing, received, "accept", t0 + 2 * HOUR)
    do(session, li, received, "escalate", t0 + 3 * HOUR, note="请尽快处理")
    (unit_notice,) = [n for n in notices.latest(session, housing.unit_id).notices if n.kind == "escalation"]
    for someone in (housing, person(session, "wang", Role.OPERATOR)):
        with pytest.raises(PermissionDenied):
            staff_notices.latest(session, someone)
        with pytest.raises(PermissionDenied):
            staff_notices.mark_read(session, someone)
    assert staff_notices.mark_read(session, li, [unit_notice.id]) == 0   # not theirs to mark
    assert notices.latest(session, housing.unit_id).unread.value >= 1
    with pytest.raises(ValueError):   # one addressee, always
        staff_notices.tell(session, notices.NoticeKind.ESCALATION_ANSWERED, "k", "x")


def test_a_request_left_waiting_when_the_ticket_is_resolved_asks_nothing_more(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    li = person(session, "li")
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing")
    do(session, housing, received, "accept", t0 + 2 * HOUR)
    do(session, housing, received, "request_extension", t0 + 3 * HOUR, days=3, reason="需要等待燃气公司配合")
    assert staff_notices.unread(session, li).value == 1
    do(session, housing, received, "resolve", t0 + 4 * HOUR, reply="管道已修复，路面已恢复，已回访居民确认。")
    assert staff_notices.unread(session, li).value == 0
    assert kinds(session, li) == [("extension_request", received.number)]   # still listed, as read


def test_a_request_left_waiting_when_the_unit_retires_and_hands_over_asks_nothing_more(
        session: Session, received: Ticket, operator: Actor) -> None:
    from dispatch.unit_admin import update_unit
    from dispatch.units import unit_by_code

    t0 = received.received_at
    li = person(session, "li")
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing")
    do(session, housing, received, "accept", t0 + 2 * HOUR)
    do(session, housing, received, "request_extension", t0 + 3 * HOUR, days=3, reason="需要等待燃气公司配合")
    assert staff_notices.unread(session, li).value == 1
    unit = unit_by_code(session, "housing")
    update_unit(session, Actor("admin-zhou", role=Role.ADMIN), unit.id, name=unit.name, kind=unit.kind,
                parent_code=None, active=False, successor_code="water", reason="机构改革，职责并入水务局")
    session.commit()
    assert received.unit_id == unit_by_code(session, "water").id
    assert staff_notices.unread(session, li).value == 0   # the request waits for nobody now
    assert kinds(session, li) == [("extension_request", received.number)]   # still listed, as read


@pytest.mark.parametrize("leaves", ["return", "transfer", "merge"])
def test_a_request_notice_lapses_when_the_ticket_is_returned_sent_elsewhere_or_merged(
        session: Session, received: Ticket, operator: Actor, leaves: str) -> None:
    """However a request came to be left waiting on the ticket, the step that takes the ticket
    from the unit (退单, a transfer, 合并) leaves its notice asking nothing more."""
    t0 = received.received_at
    li = person(session, "li")
    housing = unit_staff(session, "housing")
    if leaves == "return":
        do(session, operator, received, "transfer", t0 + HOUR, unit="housing")
    # The request's notice, as a unit's request on this ticket told it.
    staff_notices.tell(session, notices.NoticeKind.EXTENSION_REQUEST, "extension_request:request:test",
                       "住建局申请延期", role=staff_notices.DECIDERS, ticket=received, now=t0 + HOUR)
    staff_notices.tell(session, notices.NoticeKind.ESCALATED_RESOLVED, "escalated_resolved:test", "督办件已办结",
                       staff_id=li.user_id, ticket=received, now=t0 + HOUR)
    assert staff_notices.unread(session, li).value == 2
    if leaves == "return":
        do(session, housing, received, "return", t0 + 2 * HOUR, reason="不属于本单位职责")
    elif leaves == "transfer":
        do(session, operator, received, "transfer", t0 + 2 * HOUR, unit="transport")
    else:
        main = new_ticket(session, body="同一处燃气管道漏气，路面未恢复。")
        do(session, operator, received, "merge", t0 + 2 * HOUR, into=main.number)
    assert staff_notices.unread(session, li).value == 1   # the request's, not the supervisor's own
    assert [n.kind for n in staff_notices.latest(session, li).notices if n.read_at is None] == ["escalated_resolved"]


def test_a_decided_request_says_who_decided_it_and_a_lapsed_one_says_it_lapsed(
        session: Session, received: Ticket, operator: Actor) -> None:
    t0 = received.received_at
    li, zhang = person(session, "li"), person(session, "zhang")
    housing = unit_staff(session, "housing")
    do(session, operator, received, "transfer", t0 + HOUR, unit="housing", co_units=["transport"])
    do(session, housing, received, "accept", t0 + 2 * HOUR)
    do(session, housing, received, "request_extension", t0 + 3 * HOUR, days=3, reason="需要等待燃气公司配合")
    assert staff_notices.mark_read(session, li) == 1          # read while it waits: not done with
    (waiting,) = staff_notices.latest(session, li).notices
    assert waiting.read_at is not None and waiting.settled is None and waiting.settled_by is None
    do(session, zhang, received, "decide_extension", t0 + 4 * HOUR, approve=True)
    do(session, housing, received, "request_override", t0 + 5 * HOUR, reason="交通局一直未答复")
    do(session, housing, received, "dispute", t0 + 6 * HOUR, reason="燃气管道归燃气公司，不属本单位")
    do(session, li, received, "refuse_override", t0 + 7 * HOUR, reason="请再催交通局")
    do(session, housing, received, "request_override", t0 + 8 * HOUR, reason="交通局仍未答复")
    # The dispute upheld: the ticket is taken back, and the second request, still waiting, lapses.
    do(session, zhang, received, "decide_dispute", t0 + 9 * HOUR, approve=True, reason="属燃气公司，改派")

    seen = [(n.kind, n.settled, n.settled_by, n.read_at is not None) for n in staff_notices.latest(session, li).notices]
    assert seen == [("override_request", "lapsed", None, True), ("dispute_request", "decided", "zhang", True),
                    ("override_request", "decided", "li", True), ("extension_request", "decided", "zhang", True)]
    # The extension's notice keeps when li read it, not when zhang decided.
    (extension,) = [n for n in staff_notices.listed(session, li).items if n.kind == "extension_request"]
    assert extension.read_at == waiting.read_at and extension.settled_by == "zhang"
