"""Staff actions by name (dispatch.actions.perform): each action legal and illegal, its
parameters parsed into typed values, tickets out of sight told like unknown ones."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import actions, chasing, flags, lifecycle
from dispatch.actions import ActionContext, allowed_actions, perform
from dispatch.actors import Actor
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import Dispute, ExtensionRequest, Ticket, TicketEvent
from dispatch.units import City
from dispatch.vocabulary import Role
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from web.messages import describe

pytestmark = pytest.mark.usefixtures("units")


@pytest.fixture
def housing(session: Session) -> Actor:
    return unit_staff(session, "housing")


@pytest.fixture
def context(city: City) -> ActionContext:
    return ActionContext(city=city)


def act(session: Session, actor: Actor, ticket: Ticket, action: str, context: ActionContext | None = None,
        **params: Any) -> Ticket:
    return perform(session, actor, ticket.number, action, params, context or ActionContext())


def last_event(session: Session, ticket: Ticket) -> TicketEvent:
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                           .order_by(TicketEvent.id.desc()).limit(1)).one()


def in_progress(session: Session, operator: Actor, housing: Actor, **kw: Any) -> Ticket:
    ticket = new_ticket(session, **kw)
    act(session, operator, ticket, "transfer", unit="housing")
    act(session, housing, ticket, "accept")
    return ticket


def resolved(session: Session, operator: Actor, housing: Actor, **kw: Any) -> Ticket:
    ticket = in_progress(session, operator, housing, **kw)
    act(session, housing, ticket, "resolve", reply="已修复路灯，经现场核实问题已解决")
    return ticket


def test_transfer_accept_resolve_by_name(session: Session, operator: Actor, housing: Actor,
                                         context: ActionContext) -> None:
    ticket = new_ticket(session)
    assert act(session, operator, ticket, "transfer", context, unit="housing", note="请尽快").state == "transferred"
    assert act(session, housing, ticket, "accept").state == "in_progress"
    assert act(session, housing, ticket, "resolve", reply="已修复，经现场核实问题已解决").state == "resolved"
    assert ticket.reply == "已修复，经现场核实问题已解决"


def test_transfer_to_an_unknown_unit_names_the_field(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, ticket, "transfer", unit="no-such-unit")
    assert caught.value.field == "unit"
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, ticket, "transfer")
    assert caught.value.field == "unit" and caught.value.reason is Reason.UNIT_REQUIRED
    assert ticket.state == "received"


def test_unknown_action_and_unknown_ticket_are_not_found(session: Session, operator: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(NotFound):
        act(session, operator, ticket, "teleport")
    with pytest.raises(NotFound):
        perform(session, operator, "20990101-9999", "accept", {}, ActionContext())


def test_another_units_ticket_is_told_like_an_unknown_one(session: Session, operator: Actor,
                                                          housing: Actor) -> None:
    ticket = new_ticket(session)
    act(session, operator, ticket, "transfer", unit="housing")
    stranger = unit_staff(session, "education")
    with pytest.raises(NotFound) as theirs:
        act(session, stranger, ticket, "accept")
    with pytest.raises(NotFound) as unknown:
        perform(session, stranger, "20990101-0001", "accept", {}, ActionContext())
    assert theirs.value.message == unknown.value.message.replace("20990101-0001", ticket.number)
    assert ticket.state == "transferred"


def test_a_stale_version_is_a_conflict_and_changes_nothing(session: Session, operator: Actor,
                                                           housing: Actor) -> None:
    ticket = new_ticket(session)
    seen = ticket.version
    act(session, operator, ticket, "transfer", unit="housing", expected_version=seen)
    with pytest.raises(Conflict):
        act(session, housing, ticket, "accept", expected_version=seen)
    assert ticket.state == "transferred"
    with pytest.raises(InvalidInput) as caught:
        act(session, housing, ticket, "accept", expected_version="v2")
    assert caught.value.field == "expected_version"
    assert act(session, housing, ticket, "accept", expected_version=ticket.version).state == "in_progress"


def test_answer_only_at_intake(session: Session, operator: Actor, housing: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, ticket, "answer", reply="  ")
    assert caught.value.field == "reply"
    assert act(session, operator, ticket, "answer", reply="营业时间为每天9点至17点").state == "answered"
    busy = in_progress(session, operator, housing)
    with pytest.raises(IllegalTransition):
        act(session, operator, busy, "answer", reply="x")


def test_return_needs_a_reason_and_only_the_unit_may(session: Session, operator: Actor, housing: Actor) -> None:
    ticket = new_ticket(session)
    act(session, operator, ticket, "transfer", unit="housing")
    with pytest.raises(InvalidInput) as caught:
        act(session, housing, ticket, "return")
    assert caught.value.field == "reason"
    with pytest.raises(PermissionDenied):
        act(session, operator, ticket, "return", reason="不归我们")
    assert act(session, housing, ticket, "return", reason="不属于本单位").state == "returned"
    with pytest.raises(IllegalTransition):
        act(session, Actor(label="admin", role=Role.ADMIN), ticket, "accept")


def test_extension_requested_and_decided(session: Session, operator: Actor, housing: Actor,
                                         supervisor: Actor) -> None:
    ticket = in_progress(session, operator, housing)
    before = ticket.deadline
    for bad in (0, 61, "三", True):
        with pytest.raises(InvalidInput) as caught:
            act(session, housing, ticket, "request_extension", days=bad, reason="需要协调")
        assert caught.value.field == "days"
    act(session, housing, ticket, "request_extension", days=3, reason="需要协调")
    with pytest.raises(PermissionDenied):
        act(session, housing, ticket, "decide_extension", approve=True)
    with pytest.raises(InvalidInput) as caught:
        act(session, supervisor, ticket, "decide_extension", approve="maybe")
    assert caught.value.field == "approve"
    act(session, supervisor, ticket, "decide_extension", approve=True, reason="同意")
    assert ticket.deadline is not None and before is not None and ticket.deadline > before
    with pytest.raises(Conflict):
        act(session, supervisor, ticket, "decide_extension", approve=False)


def test_an_escalation_sent_twice_from_the_same_page_chases_once(session: Session, operator: Actor, housing: Actor,
                                                                  supervisor: Actor) -> None:
    """The back button and a second click resend the 督办 form: the same words from the same
    person within minutes are refused, not a second chase; other words are a new 督办, once
    confirmed (it is within the hour)."""
    ticket = in_progress(session, operator, housing)
    shown = str(ticket.version)
    act(session, supervisor, ticket, "escalate", note="请尽快办理", expected_version=shown)
    with pytest.raises(Conflict) as caught:
        act(session, supervisor, ticket, "escalate", note="请尽快办理", expected_version=shown)
    assert caught.value.reason is Reason.ALREADY_ESCALATED
    events = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)).all()
    assert events.count("escalate") == 1
    act(session, supervisor, ticket, "escalate", note="再次督办", again="1", expected_version=shown)


def test_the_page_form_spelling_still_works(session: Session, operator: Actor, housing: Actor) -> None:
    """The ticket page posts `extend`, `unit_code`, `working_days` and one `text` box."""
    ticket = new_ticket(session)
    act(session, operator, ticket, "transfer", unit_code="housing", text="", expected_version=str(ticket.version))
    act(session, housing, ticket, "accept")
    act(session, housing, ticket, "extend", working_days="2", text="需要现场勘查")
    request = session.scalars(select(ExtensionRequest).where(ExtensionRequest.ticket_id == ticket.id)).one()
    assert (request.working_days, request.reason) == (2, "需要现场勘查")
    assert actions.canonical("extend") == "request_extension"


def test_escalate_only_open_tickets_by_supervisors(session: Session, operator: Actor, housing: Actor,
                                                   supervisor: Actor) -> None:
    ticket = in_progress(session, operator, housing)
    with pytest.raises(PermissionDenied):
        act(session, operator, ticket, "escalate", note="请加快")
    act(session, supervisor, ticket, "escalate", note="请加快")
    assert last_event(session, ticket).action == "escalate"
    act(session, housing, ticket, "resolve", reply="已办理，经现场核实问题已解决")
    with pytest.raises(IllegalTransition):
        act(session, supervisor, ticket, "escalate", note="再催")


def test_follow_up_unsatisfied_reopens_and_satisfied_closes(session: Session, operator: Actor,
                                                            housing: Actor) -> None:
    ticket = resolved(session, operator, housing)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, ticket, "follow_up", rating="great")
    assert caught.value.field == "rating"
    with pytest.raises(PermissionDenied):
        act(session, housing, ticket, "follow_up", rating="satisfied")
    assert act(session, operator, ticket, "follow_up", rating="unsatisfied", note="灯还是不亮").state == "reopened"
    assert ticket.rating_channel == "phone"
    act(session, housing, ticket, "accept")
    with pytest.raises(IllegalTransition):
        act(session, operator, ticket, "follow_up", rating="satisfied")
    act(session, housing, ticket, "resolve", reply="已更换灯泡，经现场核实问题已解决")
    assert act(session, operator, ticket, "follow_up", rating="satisfied").state == "closed"
    assert ticket.close_reason == "rated"


def test_unreachable_follow_ups_close_as_not_rated(session: Session, operator: Actor, housing: Actor,
                                                   city: City) -> None:
    from dispatch.follow_up import FollowUpPolicy

    context = ActionContext(city=city, follow_up=FollowUpPolicy(max_attempts=2))
    ticket = resolved(session, operator, housing)
    assert act(session, operator, ticket, "follow_up", context, rating="unreachable").state == "resolved"
    later = ActionContext(city=city, follow_up=FollowUpPolicy(max_attempts=2),
                          now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))   # tried again later
    assert act(session, operator, ticket, "follow_up", later, rating="unreachable").state == "closed"
    assert (ticket.close_reason, ticket.rating) == ("unreachable", None)


def test_close_is_for_supervisors_on_resolved_tickets(session: Session, operator: Actor, housing: Actor,
                                                      supervisor: Actor) -> None:
    ticket = in_progress(session, operator, housing)
    with pytest.raises(IllegalTransition):
        act(session, supervisor, ticket, "close", note="已核实")
    act(session, housing, ticket, "resolve", reply="已办理，经现场核实问题已解决")
    with pytest.raises(PermissionDenied):
        act(session, operator, ticket, "close", note="已核实")
    with pytest.raises(InvalidInput) as caught:
        act(session, supervisor, ticket, "close")
    assert caught.value.field == "note"
    assert act(session, supervisor, ticket, "close", note="市民已搬离").state == "closed"
    assert ticket.close_reason == "supervisor"


def test_merge_into_a_main_ticket(session: Session, operator: Actor, housing: Actor) -> None:
    main, duplicate = new_ticket(session), new_ticket(session)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, duplicate, "merge", into="20990101-0001")
    assert caught.value.field == "into"
    with pytest.raises(NotFound):  # unit staff never saw the ticket
        act(session, housing, duplicate, "merge", into=main.number)
    assert act(session, operator, duplicate, "merge", into=main.number).state == "merged"
    assert duplicate.merged_into_id == main.id
    assert last_event(session, main).action == "merge_in"
    busy = in_progress(session, operator, housing)
    with pytest.raises(IllegalTransition):
        act(session, operator, busy, "merge", into=main.number)


def test_invalidate_and_flag_the_number(session: Session, operator: Actor, housing: Actor) -> None:
    ticket = new_ticket(session, phone="13812345678")
    assert act(session, operator, ticket, "invalidate", reason="恶意骚扰", flag_number=True).state == "invalid"
    flagged = flags.active_flag(session, ticket.phone)
    assert flagged is not None and flagged.reason == "恶意骚扰" and flagged.ticket_id == ticket.id
    quiet = new_ticket(session, phone="13900001111")
    act(session, operator, quiet, "invalidate", reason="无声电话")
    assert flags.active_flag(session, quiet.phone) is None
    anonymous = new_ticket(session)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, anonymous, "invalidate", reason="骚扰", flag_number=True)
    assert caught.value.field == "flag_number" and anonymous.state == "received"
    busy = in_progress(session, operator, housing)
    with pytest.raises(IllegalTransition):
        act(session, operator, busy, "invalidate", reason="骚扰")


def test_handover_to_an_emergency_service(session: Session, operator: Actor, housing: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(InvalidInput) as caught:
        act(session, operator, ticket, "handover", to="999")
    assert caught.value.field == "to"
    act(session, operator, ticket, "transfer", unit="housing")
    act(session, housing, ticket, "return", reason="不属于本单位")
    with pytest.raises(PermissionDenied):  # the unit saw it, but hand-overs are for dispatch
        act(session, housing, ticket, "handover", to="119")
    assert act(session, operator, ticket, "handover", to="119", note="厨房起火").state == "handed_over"
    assert ticket.handover_to == "119"
    busy = in_progress(session, operator, housing)
    with pytest.raises(IllegalTransition):
        act(session, operator, busy, "handover", to="110")


def test_dispute_upheld_goes_back_to_dispatch(session: Session, operator: Actor, housing: Actor,
                                              supervisor: Actor) -> None:
    ticket = new_ticket(session)
    act(session, operator, ticket, "transfer", unit="housing")
    with pytest.raises(IllegalTransition):
        act(session, housing, ticket, "dispute", reason="应由城管处理")
    act(session, housing, ticket, "accept")
    act(session, housing, ticket, "dispute", reason="应由城管处理")
    with pytest.raises(Conflict):
        act(session, housing, ticket, "dispute", reason="再申请一次")
    with pytest.raises(PermissionDenied):
        act(session, operator, ticket, "decide_dispute", approve=True, reason="同意")
    with pytest.raises(InvalidInput) as caught:
        act(session, supervisor, ticket, "decide_dispute", reason="同意")
    assert caught.value.field == "approve"
    assert act(session, supervisor, ticket, "decide_dispute", approve=True, reason="同意改派").state == "returned"
    assert act(session, operator, ticket, "transfer", unit="urban-management").state == "transferred"
    assert session.scalars(select(Dispute.status)).all() == ["upheld"]


def test_dispute_refused_stays_with_the_unit(session: Session, operator: Actor, housing: Actor,
                                             supervisor: Actor) -> None:
    ticket = in_progress(session, operator, housing)
    act(session, housing, ticket, "dispute", reason="不是我们的")
    act(session, supervisor, ticket, "decide_dispute", approve=False, reason="属于住建职责")
    assert ticket.state == "in_progress" and ticket.open_dispute_id is None
    event = last_event(session, ticket)
    assert (event.action, event.note) == ("refuse_dispute", "属于住建职责")
    with pytest.raises(Conflict):
        act(session, supervisor, ticket, "decide_dispute", approve=True, reason="再看")


def test_allowed_actions_follow_state_and_role(session: Session, operator: Actor, housing: Actor,
                                               supervisor: Actor) -> None:
    ticket = new_ticket(session)
    assert allowed_actions(session, operator, ticket) == ["transfer", "answer", "merge", "invalidate", "handover", "correct"]
    assert "escalate" in allowed_actions(session, supervisor, ticket)
    act(session, operator, ticket, "transfer", unit="housing")
    assert allowed_actions(session, housing, ticket) == ["accept", "return"]
    assert allowed_actions(session, unit_staff(session, "education"), ticket) == []
    act(session, housing, ticket, "accept")
    # 住建局 has a sub-unit (the gas company) it may forward to; 教育局 has none.
    assert allowed_actions(session, housing, ticket) == ["request_extension", "resolve", "dispute", "forward", "progress"]
    act(session, housing, ticket, "dispute", reason="不是我们的")
    assert "decide_dispute" in allowed_actions(session, supervisor, ticket)
    assert "dispute" not in allowed_actions(session, housing, ticket)
    admin = Actor(label="admin", role=Role.ADMIN)
    act(session, supervisor, ticket, "decide_dispute", approve=False, reason="属于住建职责")
    act(session, housing, ticket, "resolve", reply="已办理，经现场核实问题已解决")
    assert allowed_actions(session, operator, ticket) == ["follow_up"]
    assert allowed_actions(session, admin, ticket) == ["follow_up", "close"]


def test_a_second_escalation_within_the_hour_of_the_schedulers_takes_a_confirmation(
        session: Session, operator: Actor, housing: Actor, supervisor: Actor) -> None:
    """The scheduler chased the ticket; a supervisor pressing 督办 nine minutes later is told
    when it was chased and how often, and chases again only when confirming."""
    ticket = in_progress(session, operator, housing)
    chased_at = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.timezone.utc)
    lifecycle.escalate(session, ticket, chasing.CHASER, "超期1个工作日，请尽快办理", now=chased_at, again=True)
    with pytest.raises(Conflict) as caught:
        lifecycle.escalate(session, ticket, supervisor, "请尽快办理并答复市民。", now=chased_at + dt.timedelta(minutes=9))
    assert caught.value.reason is Reason.ESCALATED_RECENTLY
    assert describe(caught.value) == \
        "工单「%s」已于 12-07 09:00 督办过（共 1 次），一小时内再次督办请勾选“确认再次督办”后提交。" % ticket.number
    lifecycle.escalate(session, ticket, supervisor, "请尽快办理并答复市民。", now=chased_at + dt.timedelta(minutes=10),
                       again=True)
    lifecycle.escalate(session, ticket, supervisor, "仍未办理，请今日答复。", now=chased_at + dt.timedelta(minutes=71))
    so_far = lifecycle.escalations(session, [ticket.id])[ticket.id]
    assert so_far.count == 3
    assert so_far.last_at.replace(tzinfo=dt.timezone.utc) == chased_at + dt.timedelta(minutes=71)


def test_answering_words_that_point_to_an_emergency_needs_the_operators_confirmation(
        session: Session, operator: Actor) -> None:
    ticket = new_ticket(session, body="楼下着火了，冒了很多烟")
    with pytest.raises(InvalidInput) as refused:
        act(session, operator, ticket, "answer", reply="经核实为邻居家做饭油烟，无火情")
    assert refused.value.reason is Reason.EMERGENCY_NOT_ANSWERED and refused.value.params["numbers"] == ["119"]
    with pytest.raises(InvalidInput) as unreadable:
        act(session, operator, ticket, "answer", reply="经核实为邻居家做饭油烟，无火情", answer_confirmed="maybe")
    assert unreadable.value.field == "answer_confirmed" and "确认不是紧急情况" in describe(unreadable.value)
    assert ticket.state == "received"
    assert act(session, operator, ticket, "answer", reply="经核实为邻居家做饭油烟，无火情",
               answer_confirmed="1").state == "answered"
