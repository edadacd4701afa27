"""Every legal and illegal move of the ticket lifecycle, and who may make it."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import disputes, handover, lifecycle, queries
from dispatch.actions import ActionContext, perform
from dispatch.actors import Actor
from dispatch.deadlines import DeadlinePolicy
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied
from dispatch.models import ExtensionRequest, Ticket, TicketEvent, Transfer
from dispatch.states import TRANSITIONS, Action, State
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import EmergencyService, Rating, Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket


def events_of(session: Session, ticket: Ticket) -> list[tuple[str, str | None, str]]:
    rows = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
    return [(e.action, e.from_state, e.to_state) for e in rows]


def bring_to(session: Session, ticket: Ticket, state: State, operator: Actor, unit_code: str = "housing") -> Actor:
    """Walk a fresh ticket to `state` by legal moves; return the unit's actor."""
    unit = unit_by_code(session, unit_code)
    staff = unit_staff(session, unit_code)
    path = {
        State.RECEIVED: [],
        State.ANSWERED: [lambda: lifecycle.answer(session, ticket, operator, "已当场答复市民的咨询问题")],
        State.INVALID: [lambda: lifecycle.invalidate(session, ticket, operator, "骚扰电话")],
        State.MERGED: [lambda: lifecycle.merge(session, ticket, new_ticket(session), operator)],
        State.HANDED_OVER: [lambda: handover.handover(session, ticket, operator, EmergencyService.FIRE)],
        State.TRANSFERRED: [lambda: lifecycle.transfer(session, ticket, unit, operator)],
        State.RETURNED: [lambda: lifecycle.transfer(session, ticket, unit, operator),
                         lambda: lifecycle.return_ticket(session, ticket, staff, "不属于本单位职责")],
        State.IN_PROGRESS: [lambda: lifecycle.transfer(session, ticket, unit, operator),
                            lambda: lifecycle.accept(session, ticket, staff)],
        State.RESOLVED: [lambda: lifecycle.transfer(session, ticket, unit, operator),
                         lambda: lifecycle.accept(session, ticket, staff),
                         lambda: lifecycle.resolve(session, ticket, staff, "已修复，经现场核实问题已解决")],
        State.REOPENED: [lambda: lifecycle.transfer(session, ticket, unit, operator),
                         lambda: lifecycle.accept(session, ticket, staff),
                         lambda: lifecycle.resolve(session, ticket, staff, "已修复，经现场核实问题已解决"),
                         lambda: lifecycle.rate(session, ticket, Rating.UNSATISFIED, Actor.citizen("web"))],
        State.CLOSED: [lambda: lifecycle.transfer(session, ticket, unit, operator),
                       lambda: lifecycle.accept(session, ticket, staff),
                       lambda: lifecycle.resolve(session, ticket, staff, "已修复，经现场核实问题已解决"),
                       lambda: lifecycle.rate(session, ticket, Rating.SATISFIED, Actor.citizen("web"))],
    }[state]
    for step in path:
        step()
    assert ticket.state == state.value
    return staff


def redispatch(session: Session, ticket: Ticket, staff: Actor) -> None:
    """A dispute upheld; raised first where the state allows one."""
    if State(ticket.state) in disputes.DISPUTABLE_STATES:
        disputes.raise_dispute(session, ticket, staff, "该事项属于交通运输局")
    disputes.decide_dispute(session, ticket, SUPERVISOR, approve=True, reason="同意改派")


SUPERVISOR = Actor(label="supervisor-li", role=Role.SUPERVISOR)


def attempt(session: Session, ticket: Ticket, action: Action, operator: Actor, staff: Actor) -> None:
    unit = unit_by_code(session, "housing")
    {
        Action.ANSWER: lambda: lifecycle.answer(session, ticket, operator, "答复：已按规定办理完毕。"),
        Action.TRANSFER: lambda: lifecycle.transfer(session, ticket, unit, operator),
        Action.ACCEPT: lambda: lifecycle.accept(session, ticket, staff),
        Action.RETURN: lambda: lifecycle.return_ticket(session, ticket, staff, "理由"),
        Action.RESOLVE: lambda: lifecycle.resolve(session, ticket, staff, "答复：已按规定办理完毕。"),
        Action.CLOSE: lambda: lifecycle.close(session, ticket, SUPERVISOR, "市民表示无需回访"),
        Action.REOPEN: lambda: lifecycle.reopen(session, ticket, operator, "市民不认可"),
        Action.INVALIDATE: lambda: lifecycle.invalidate(session, ticket, operator, "无效"),
        Action.MERGE: lambda: lifecycle.merge(session, ticket, new_ticket(session), operator),
        Action.HANDOVER: lambda: handover.handover(session, ticket, operator, EmergencyService.AMBULANCE),
        Action.REDISPATCH: lambda: redispatch(session, ticket, staff),
        Action.TRIAGE: lambda: lifecycle.triage(session, ticket, operator, "原承办单位已停用"),
    }[action]()


REACHABLE = list(State)


@pytest.mark.parametrize("state", REACHABLE, ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_action_from_every_state_follows_the_table(session: Session, units: City, operator: Actor,
                                                         state: State, action: Action) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, state, operator)
    before = (ticket.state, len(events_of(session, ticket)), ticket.version)
    expected = TRANSITIONS.get((state, action))
    unit_action = action in (Action.ACCEPT, Action.RETURN, Action.RESOLVE)
    if expected is None:
        # A unit acting on a ticket that is not with it is refused before its state is told.
        refused_for_unit = unit_action and ticket.unit_id != staff.unit_id
        with pytest.raises(PermissionDenied if refused_for_unit else IllegalTransition) as caught:
            attempt(session, ticket, action, operator, staff)
        if isinstance(caught.value, IllegalTransition):
            assert caught.value.state == state.value and caught.value.action == action.value
        session.expire_all()
        assert (ticket.state, len(events_of(session, ticket)), ticket.version) == before
    else:
        attempt(session, ticket, action, operator, staff)
        assert ticket.state == expected.value
        assert events_of(session, ticket)[-1] == (action.value, state.value, expected.value)


def test_a_full_case_leaves_one_event_per_change(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    bring_to(session, ticket, State.CLOSED, operator)
    assert events_of(session, ticket) == [
        ("receive", None, "received"), ("transfer", "received", "transferred"),
        ("accept", "transferred", "in_progress"), ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed")]
    assert ticket.rating == "satisfied"


def test_unit_cannot_accept_ticket_of_another_unit(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    bring_to(session, ticket, State.TRANSFERRED, operator, unit_code="housing")
    with pytest.raises(PermissionDenied):
        lifecycle.accept(session, ticket, unit_staff(session, "qinyuan"))
    assert ticket.state == "transferred"


def test_unit_cannot_resolve_ticket_of_another_unit(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    bring_to(session, ticket, State.IN_PROGRESS, operator, unit_code="housing")
    with pytest.raises(PermissionDenied):
        lifecycle.resolve(session, ticket, unit_staff(session, "transport"), "已处理，经现场核实问题已解决")
    assert ticket.state == "in_progress"


def test_unit_cannot_resolve_what_it_has_not_accepted(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, State.TRANSFERRED, operator)
    with pytest.raises(IllegalTransition):
        lifecycle.resolve(session, ticket, staff, "已处理，经现场核实问题已解决")


def test_return_needs_a_reason(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, State.TRANSFERRED, operator)
    with pytest.raises(InvalidInput) as caught:
        lifecycle.return_ticket(session, ticket, staff, "   ")
    assert caught.value.field == "reason"
    assert ticket.state == "transferred"


def test_returned_ticket_goes_back_to_dispatch_and_can_be_transferred_again(
        session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    bring_to(session, ticket, State.RETURNED, operator)
    assert ticket.unit_id is None
    lifecycle.transfer(session, ticket, unit_by_code(session, "urban-management"), operator)
    outcomes = session.scalars(select(Transfer.outcome).where(Transfer.ticket_id == ticket.id)
                               .order_by(Transfer.id)).all()
    assert outcomes == ["returned", "pending"]
    assert (ticket.transfer_count, ticket.return_count) == (2, 1)


def test_operator_cannot_accept_and_unit_cannot_transfer(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = unit_staff(session, "housing")
    with pytest.raises(PermissionDenied):
        lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), staff)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator)
    with pytest.raises(PermissionDenied):
        lifecycle.accept(session, ticket, operator)


def test_unsatisfied_rating_reopens_with_the_same_unit_who_resumes_it(
        session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, State.REOPENED, operator)
    assert ticket.resolved_at is None and ticket.unit_id == staff.unit_id
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "再次处理完毕，经现场核实已无问题")
    lifecycle.rate(session, ticket, Rating.PARTLY, Actor.citizen("sms"))
    assert ticket.state == "closed" and ticket.rating == "partly"
    # Reopening did not count as a second acceptance of a transfer.
    assert ticket.accepted_transfer_count == 1


def test_events_are_append_only(session: Session, units: City) -> None:
    ticket = new_ticket(session)
    session.commit()
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
    event.note = "rewritten history"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()
    session.delete(session.get(TicketEvent, event.id))
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


def test_acting_on_a_stale_view_is_a_conflict(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    seen = ticket.version
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator, expected_version=seen)
    with pytest.raises(Conflict):
        lifecycle.transfer(session, ticket, unit_by_code(session, "transport"), operator, expected_version=seen)


def test_concurrent_double_transfer_one_wins_the_other_gets_a_conflict(
        sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    with sessions.begin() as session:
        ticket = new_ticket(session)
        number, version = ticket.number, ticket.version
    barrier = threading.Barrier(2)
    results: list[str] = []

    def operator_transfers(unit_code: str) -> None:
        try:
            with sessions.begin() as session:
                ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
                unit = unit_by_code(session, unit_code)
                try:
                    barrier.wait(timeout=2)
                except threading.BrokenBarrierError:
                    pass  # SQLite serialises whole transactions: the second waits for the first
                lifecycle.transfer(session, ticket, unit, operator, expected_version=version)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=operator_transfers, args=(code,)) for code in ("housing", "transport")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    with sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.transfer_count == 1
        assert session.scalar(select(func.count()).select_from(Transfer).where(Transfer.ticket_id == ticket.id)) == 1
        assert [a for a, _, _ in events_of(session, ticket)] == ["receive", "transfer"]


def test_one_extension_asks_for_at_most_the_policys_working_days(
        session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
    with pytest.raises(InvalidInput) as refused:   # 15 working days by default
        lifecycle.request_extension(session, ticket, staff, 16, "需要协调多个部门")
    assert (refused.value.field, refused.value.params) == ("working_days", {"low": 1, "high": 15})
    # The ticket page and the staff API go through the actions, which read the city's ceiling.
    longer = ActionContext(deadlines=DeadlinePolicy(extension_max_working_days=20))
    with pytest.raises(InvalidInput) as refused:
        perform(session, staff, ticket.number, "request_extension", {"days": 21, "reason": "需协调"}, longer)
    assert refused.value.params == {"low": 1, "high": 20}
    perform(session, staff, ticket.number, "request_extension", {"days": 20, "reason": "需协调"}, longer)
    assert queries.pending_extension_of(session, ticket.id).working_days == 20  # type: ignore[union-attr]


def test_extension_approved_moves_the_deadline_by_working_days(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    received = dt.datetime(2026, 9, 21, 2, 0, tzinfo=dt.timezone.utc)  # Monday 10:00 in China
    ticket = new_ticket(session, now=received)
    staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
    old = ticket.deadline
    request = lifecycle.request_extension(session, ticket, staff, 3, "需要协调多个部门")
    with pytest.raises(Conflict):
        lifecycle.request_extension(session, ticket, staff, 2, "再申请一次")
    with pytest.raises(PermissionDenied):
        lifecycle.decide_extension(session, request, staff, approve=True, policy=DeadlinePolicy())
    lifecycle.decide_extension(session, request, supervisor, approve=True, policy=DeadlinePolicy(),
                               now=received + dt.timedelta(days=1))
    assert request.status == "approved"
    assert ticket.deadline == DeadlinePolicy().extend(old, 3)
    assert ticket.deadline > old


def test_an_extension_approved_after_the_deadline_runs_from_the_approval(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    received = dt.datetime(2026, 9, 21, 2, 0, tzinfo=dt.timezone.utc)
    ticket = new_ticket(session, now=received)
    staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
    late = ticket.deadline + dt.timedelta(days=5)
    request = lifecycle.request_extension(session, ticket, staff, 2, "需要协调供电公司", now=late)
    lifecycle.decide_extension(session, request, supervisor, approve=True, policy=DeadlinePolicy(), now=late)
    assert ticket.deadline == DeadlinePolicy().extend(late, 2) > late
    assert not lifecycle.is_overdue(ticket, now=late)


def test_extension_refused_keeps_the_deadline(session: Session, units: City, operator: Actor,
                                              supervisor: Actor) -> None:
    ticket = new_ticket(session)
    staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
    old = ticket.deadline
    request = lifecycle.request_extension(session, ticket, staff, 5, "材料未齐")
    lifecycle.decide_extension(session, request, supervisor, approve=False, policy=DeadlinePolicy(),
                               note="请按期办结")
    assert (request.status, ticket.deadline) == ("refused", old)
    with pytest.raises(Conflict):
        lifecycle.decide_extension(session, request, supervisor, approve=True, policy=DeadlinePolicy())
    assert session.scalar(select(func.count()).select_from(ExtensionRequest)) == 1


def test_a_request_left_behind_by_a_resolution_waits_for_nobody(session: Session, units: City, operator: Actor,
                                                                 supervisor: Actor) -> None:
    from dispatch import chasing_lists, queries

    waiting, resolved = (new_ticket(session, body=f"小区路灯坏了，请尽快修理。{n}") for n in (1, 2))
    requests = {}
    for ticket in (waiting, resolved):
        staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
        requests[ticket.id] = lifecycle.request_extension(session, ticket, staff, 3, "需要协调多个部门")
    lifecycle.resolve(session, resolved, staff, "已修好，经现场核实问题已解决")
    session.flush()
    assert [p.ticket.id for p in chasing_lists.extensions_page(session).items] == [waiting.id]
    assert chasing_lists.lengths(session).extensions == 1
    assert queries.pending_extension_of(session, resolved.id) is None
    assert queries.pending_extension_of(session, waiting.id) is requests[waiting.id]
    deadline = resolved.deadline
    with pytest.raises(Conflict) as moot:
        lifecycle.decide_extension(session, requests[resolved.id], supervisor, approve=True, policy=DeadlinePolicy())
    assert moot.value.reason.value == "extension_moot"
    assert (requests[resolved.id].status, resolved.deadline) == ("pending", deadline)


def test_overdue_ticket_is_escalated_by_a_supervisor_only(session: Session, units: City, operator: Actor,
                                                          supervisor: Actor) -> None:
    long_ago = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.timezone.utc)
    ticket = new_ticket(session, now=long_ago)
    staff = bring_to(session, ticket, State.IN_PROGRESS, operator)
    assert lifecycle.is_overdue(ticket)
    with pytest.raises(PermissionDenied):
        lifecycle.escalate(session, ticket, operator, "请尽快办理")
    lifecycle.escalate(session, ticket, supervisor, "已超期，请尽快办理")
    assert events_of(session, ticket)[-1] == ("escalate", "in_progress", "in_progress")
    lifecycle.resolve(session, ticket, staff, "已办理，经现场核实问题已解决")
    assert not lifecycle.is_overdue(ticket)
    assert ticket.resolved_on_time is False


def test_merged_ticket_points_at_the_one_it_joined(session: Session, units: City, operator: Actor) -> None:
    first, second = new_ticket(session), new_ticket(session)
    lifecycle.merge(session, second, first, operator)
    assert second.state == "merged" and second.merged_into_id == first.id
    with pytest.raises(InvalidInput):
        lifecycle.merge(session, first, first, operator)


def test_role_names_are_those_of_the_design() -> None:
    assert {r.value for r in Role} == {"operator", "unit_staff", "supervisor", "admin"}


def test_every_step_accepts_the_version_the_page_showed(session: Session, units: City, operator: Actor) -> None:
    from dispatch.units import load_city, DEMO_CITY

    ticket = new_ticket(session)
    ticket.routing = {"unit_code": "transport", "category": "交通运输"}
    staff = unit_staff(session, "housing")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator,
                       expected_version=ticket.version, learn_from=load_city(DEMO_CITY))
    lifecycle.accept(session, ticket, staff, expected_version=ticket.version)
    lifecycle.resolve(session, ticket, staff, "已修复，经现场核实问题已解决", expected_version=ticket.version)
    assert ticket.state == "resolved"
