"""The closed loop after resolution (回访, closing, merging, invalid, hand-over, disputes), as
people do it: each story checks the ticket, its audit log and the figures it feeds."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import disputes, flags, follow_up, handover, lifecycle, outbox, reports
from dispatch.actors import Actor
from dispatch.clock import CHINA, local_date, utcnow
from dispatch.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied, Reason
from dispatch.models import Dispute, OutboxMessage, Ticket, TicketEvent
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import CloseReason, EmergencyService, FollowUpOutcome, Rating
from tests.conftest import unit_staff
from tests.dispatch.helpers import new_ticket
from web.messages import describe

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)


def resolved_ticket(session: Session, operator: Actor, *, phone: str | None = None, body: str | None = None,
                    now: dt.datetime = T0) -> Ticket:
    ticket = new_ticket(session, phone=phone, body=body, now=now)
    staff = unit_staff(session, "housing")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator, now=now)
    lifecycle.accept(session, ticket, staff, now=now)
    lifecycle.resolve(session, ticket, staff, "已修复路灯，经现场查看已亮起", now=now + dt.timedelta(hours=2))
    return ticket


def actions_of(session: Session, ticket: Ticket) -> list[str]:
    return list(session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)))


def figures(session: Session) -> reports.TicketFigures:
    day = local_date(T0)
    return reports.ticket_figures(session, reports.Period(day, day), now=T0 + dt.timedelta(days=1))


def test_phone_follow_up_unsatisfied_reopens_then_satisfied_closes_rated_by_phone(
        session: Session, units: City, operator: Actor) -> None:
    ticket = resolved_ticket(session, operator)
    staff = unit_staff(session, "housing")
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNSATISFIED, note="路灯仍不亮")
    assert ticket.state == "reopened" and ticket.unit_id == unit_by_code(session, "housing").id
    lifecycle.accept(session, ticket, staff)
    lifecycle.resolve(session, ticket, staff, "已更换灯泡，经现场查看已亮起")
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.SATISFIED)
    assert (ticket.state, ticket.rating, ticket.rating_channel, ticket.close_reason) == \
        ("closed", "satisfied", "phone", "rated")
    f = figures(session)
    assert (f.rated, f.satisfied_or_partly, f.rated_phone, f.followed_up, f.resolved) == (1, 1, 1, 1, 1)
    assert f.satisfaction_rate == 1.0 and f.follow_up_rate == 1.0


def test_a_reopened_ticket_gets_a_new_handling_period(session: Session, units: City, operator: Actor) -> None:
    """Resolved on its last day and rated unsatisfied days later, 重办 must not come back
    overdue: the normal period (10 working days for a complaint) runs again from the reopening.
    A deadline still later than that stays."""
    from dispatch.deadlines import DeadlinePolicy
    from dispatch.vocabulary import RequestType, Urgency

    ticket = resolved_ticket(session, operator)
    first = ticket.deadline
    later = first + dt.timedelta(days=5)
    policy = DeadlinePolicy()
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNSATISFIED, now=later,
                        reopening=lifecycle.Reopening(policy))
    expected = policy.deadline(later, RequestType(ticket.request_type), Urgency(ticket.urgency))
    assert ticket.state == "reopened" and ticket.deadline == expected > later
    event = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                            .order_by(TicketEvent.id.desc())).first()
    assert event is not None and event.action == "reopen"
    assert event.data["deadline"]["old_deadline"] == first.isoformat()
    assert event.data["deadline"]["new_deadline"] == expected.isoformat()
    assert not lifecycle.is_overdue(ticket, now=later + dt.timedelta(days=1))
    # A deadline still later than a new period (extended far ahead) stays.
    staff = unit_staff(session, "housing")
    lifecycle.accept(session, ticket, staff, now=later)
    lifecycle.resolve(session, ticket, staff, "已更换灯泡，经现场查看已亮起", now=later + dt.timedelta(hours=1))
    far = ticket.deadline + dt.timedelta(days=60)
    ticket.deadline = far
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNSATISFIED, now=later + dt.timedelta(hours=2),
                        reopening=lifecycle.Reopening(policy))
    assert ticket.deadline == far


def test_a_reopened_urgent_ticket_gets_its_class_period_again(session: Session, units: City, operator: Actor) -> None:
    """An urgent ticket (1 working day) reopened gets one working day again, not the normal 10."""
    from dispatch.catalogue_file import DeadlineClass
    from dispatch.deadlines import DeadlinePolicy

    ticket = resolved_ticket(session, operator)
    ticket.deadline_class = "urgent"
    later = ticket.deadline + dt.timedelta(days=3)
    policy = DeadlinePolicy()
    classes = {"urgent": DeadlineClass("urgent", "紧急", 1)}
    lifecycle.rate(session, ticket, Rating.UNSATISFIED, Actor.citizen("sms"), now=later,
                   reopening=lifecycle.Reopening(policy, classes))
    assert ticket.deadline == policy.calendar.add_working_days(later, 1)


def test_unreachable_attempts_close_as_not_rated_outside_the_satisfaction_rate(
        session: Session, units: City, operator: Actor) -> None:
    policy = follow_up.FollowUpPolicy(max_attempts=2)
    ticket = resolved_ticket(session, operator)
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy)
    assert ticket.state == "resolved" and ticket.follow_up_attempts == 1
    f = figures(session)
    assert (f.followed_up, f.resolved, f.rated) == (1, 1, 0)
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy,
                        now=utcnow() + dt.timedelta(hours=2))   # tried again later
    assert (ticket.state, ticket.rating, ticket.close_reason) == ("closed", None, CloseReason.UNREACHABLE.value)
    assert actions_of(session, ticket)[-3:] == ["follow_up", "follow_up", "close"]
    f = figures(session)
    assert (f.rated, f.satisfaction_rate, f.follow_up_rate) == (0, None, 1.0)


def test_a_unit_may_not_record_a_follow_up(session: Session, units: City, operator: Actor) -> None:
    ticket = resolved_ticket(session, operator)
    with pytest.raises(PermissionDenied):
        follow_up.follow_up(session, ticket, unit_staff(session, "housing"), FollowUpOutcome.SATISFIED)


def test_follow_up_of_a_ticket_not_resolved_is_illegal(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session)
    with pytest.raises(IllegalTransition):
        follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE)


def test_queue_lists_resolved_tickets_oldest_first(session: Session, units: City, operator: Actor) -> None:
    later = resolved_ticket(session, operator, now=T0 + dt.timedelta(days=1), phone="13803912001")
    earlier = resolved_ticket(session, operator, now=T0, phone="13803912002")
    open_one = new_ticket(session, phone="13803912003")
    queue = [t.number for t in follow_up.due(session)]
    assert queue == [earlier.number, later.number] and open_one.number not in queue


def test_nobody_rates_within_the_window_closes_as_not_rated(session: Session, units: City, operator: Actor) -> None:
    policy = follow_up.FollowUpPolicy(close_after=dt.timedelta(days=7))
    old = resolved_ticket(session, operator, now=T0)
    fresh = resolved_ticket(session, operator, now=T0 + dt.timedelta(days=6))
    closed = follow_up.close_unrated_resolved(session, policy, now=T0 + dt.timedelta(days=7, hours=3))
    assert closed == [old.number]
    assert (old.state, old.close_reason, old.rating) == ("closed", "not_rated", None)
    assert fresh.state == "resolved"
    assert figures(session).satisfaction_rate is None


def test_web_rating_counts_on_the_web_channel(session: Session, units: City, operator: Actor) -> None:
    ticket = resolved_ticket(session, operator)
    assert follow_up.may_rate(session, ticket)
    follow_up.rate_as_citizen(session, ticket, Rating.PARTLY, Actor.citizen("web"))
    assert (ticket.state, ticket.rating_channel) == ("closed", "web")
    assert figures(session).rating_channels == {"phone": 0, "web": 1, "sms": 0}
    assert not follow_up.may_rate(session, ticket)


def test_only_a_supervisor_closes_a_resolved_ticket_and_must_say_why(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    ticket = resolved_ticket(session, operator)
    with pytest.raises(PermissionDenied):
        lifecycle.close(session, ticket, operator, "市民已搬走")
    with pytest.raises(InvalidInput):
        lifecycle.close(session, ticket, supervisor, "  ")
    lifecycle.close(session, ticket, supervisor, "市民已搬走，无法回访")
    assert (ticket.state, ticket.close_reason, ticket.rating) == ("closed", "supervisor", None)


def test_merged_citizen_is_told_when_the_main_ticket_is_resolved_and_may_rate_it(
        sessions: sessionmaker[Session], units: City, operator: Actor) -> None:
    outbox.install(sessions)
    with sessions() as session:
        main = new_ticket(session, phone="13800000001", body="济水大街和天坛路口的路灯坏了一周。", now=T0)
        duplicate = new_ticket(session, phone="13800000002", body="天坛路口路灯不亮好几天了", now=T0)
        lifecycle.merge(session, duplicate, main, operator)
        assert (duplicate.state, duplicate.merged_into_id) == ("merged", main.id)
        staff = unit_staff(session, "housing")
        lifecycle.transfer(session, main, unit_by_code(session, "housing"), operator)
        lifecycle.accept(session, main, staff)
        lifecycle.resolve(session, main, staff, "已更换路灯，经现场查看已亮起")
        session.flush()
        kinds = {(m.recipient, m.kind) for m in session.scalars(select(OutboxMessage))}
        assert ("+8613800000002", "merged") in kinds and ("+8613800000002", "main_resolved") in kinds
        assert ("+8613800000001", "resolved") in kinds
        assert "main_resolved" in actions_of(session, duplicate) and "merge_in" in actions_of(session, main)
        assert follow_up.may_rate(session, duplicate)
        follow_up.rate_as_citizen(session, duplicate, Rating.SATISFIED, Actor.citizen("sms"))
        assert duplicate.rating == "satisfied" and duplicate.state == "merged"
        with pytest.raises(InvalidInput):
            follow_up.rate_as_citizen(session, duplicate, Rating.SATISFIED, Actor.citizen("sms"))
        # One matter: the duplicate counts once, through its main ticket.
        f = figures(session)
        assert (f.received, f.merged, f.rated) == (1, 1, 0)


def test_merge_follows_a_chain_and_refuses_itself(session: Session, units: City, operator: Actor) -> None:
    a, b, c = new_ticket(session), new_ticket(session), new_ticket(session)
    lifecycle.merge(session, b, a, operator)
    lifecycle.merge(session, c, b, operator)
    assert c.merged_into_id == a.id
    with pytest.raises(IllegalTransition):  # already merged
        lifecycle.merge(session, b, a, operator)
    d = new_ticket(session)
    with pytest.raises(InvalidInput):
        lifecycle.merge(session, d, d, operator)


def test_invalid_needs_a_reason_and_a_flagged_number_shows_on_later_contacts(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    prank = new_ticket(session, phone="13900000009", now=T0)
    with pytest.raises(InvalidInput):
        lifecycle.invalidate(session, prank, operator, "")
    lifecycle.invalidate(session, prank, operator, "恶意骚扰，辱骂话务员")
    flags.flag(session, "139 0000 0009", operator, "多次辱骂话务员", ticket_id=prank.id)
    flag = flags.active_flag(session, "+8613900000009")
    assert flag is not None and (flag.reason, flag.flagged_by) == ("多次辱骂话务员", operator.label)
    with pytest.raises(PermissionDenied):
        flags.clear(session, "13900000009", operator)
    flags.clear(session, "13900000009", supervisor)
    assert flags.active_flag(session, "13900000009") is None
    assert figures(session).invalid == 1


def test_handover_records_the_service_and_closes(session: Session, units: City, operator: Actor) -> None:
    ticket = new_ticket(session, now=T0)
    with pytest.raises(InvalidInput) as bad:
        handover.handover(session, ticket, operator, handover.parse_service("999"))
    assert bad.value.field == "to"
    handover.handover(session, ticket, operator, EmergencyService.FIRE, note="厨房起火，已转119")
    assert (ticket.state, ticket.handover_to) == ("handed_over", "119")
    assert not lifecycle.is_overdue(ticket, T0 + dt.timedelta(days=60))
    day = local_date(T0)
    assert reports.handovers(session, reports.Period(day, day)) == {"110": 0, "119": 1, "120": 0, "122": 0}
    assert figures(session).handed_over == 1
    with pytest.raises(PermissionDenied):
        handover.handover(session, new_ticket(session), unit_staff(session, "housing"), EmergencyService.POLICE)


def accepted_ticket(session: Session, operator: Actor) -> Ticket:
    ticket = new_ticket(session, now=T0)
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), operator, now=T0)
    lifecycle.accept(session, ticket, unit_staff(session, "housing"), now=T0)
    return ticket


def test_dispute_upheld_sends_the_ticket_back_to_dispatch(session: Session, units: City, operator: Actor,
                                                          supervisor: Actor) -> None:
    ticket = accepted_ticket(session, operator)
    staff = unit_staff(session, "housing")
    disputes.raise_dispute(session, ticket, staff, "属于交通运输局职责", now=T0)
    with pytest.raises(Conflict):
        disputes.raise_dispute(session, ticket, staff, "再次申请", now=T0)
    with pytest.raises(PermissionDenied):
        disputes.decide_dispute(session, ticket, operator, approve=True, reason="同意")
    disputes.decide_dispute(session, ticket, supervisor, approve=True, reason="确属交通运输局")
    assert (ticket.state, ticket.unit_id, ticket.open_dispute_id) == ("returned", None, None)
    lifecycle.transfer(session, ticket, unit_by_code(session, "transport"), operator)
    assert ticket.state == "transferred"
    day = local_date(T0)
    [row] = disputes.figures(session, reports.Period(day, day).start, reports.Period(day, day).end)
    assert (row.unit_code, row.raised, row.upheld, row.refused) == ("housing", 1, 1, 0)


def test_dispute_refused_keeps_the_ticket_with_the_unit(session: Session, units: City, operator: Actor,
                                                        supervisor: Actor) -> None:
    ticket = accepted_ticket(session, operator)
    staff = unit_staff(session, "housing")
    with pytest.raises(PermissionDenied):
        disputes.raise_dispute(session, ticket, unit_staff(session, "qinyuan"), "不是我们的")
    disputes.raise_dispute(session, ticket, staff, "属于物业公司的事")
    disputes.decide_dispute(session, ticket, supervisor, approve=False, reason="小区公共设施，住建局督促物业")
    assert (ticket.state, ticket.unit_id) == ("in_progress", unit_by_code(session, "housing").id)
    assert actions_of(session, ticket)[-2:] == ["dispute", "refuse_dispute"]
    [row] = session.scalars(select(Dispute)).all()
    assert (row.status, row.decision_note) == ("refused", "小区公共设施，住建局督促物业")
    with pytest.raises(Conflict):
        disputes.decide_dispute(session, ticket, supervisor, approve=True, reason="改主意")


def test_rebuilt_totals_agree_with_the_running_ones_after_the_whole_loop(
        session: Session, units: City, operator: Actor, supervisor: Actor) -> None:
    from dispatch import rollup
    from dispatch.models import TicketRollup

    ticket = resolved_ticket(session, operator, phone="13800000003")
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE)
    other = new_ticket(session, now=T0)
    lifecycle.merge(session, other, ticket, operator)
    handover.handover(session, new_ticket(session, now=T0), operator, EmergencyService.POLICE)
    lifecycle.invalidate(session, new_ticket(session, now=T0), operator, "测试来电")
    session.flush()

    def snapshot() -> list[tuple]:
        columns = [getattr(TicketRollup, c) for c in ("day", "category", "unit_id", *rollup.TICKET_COUNTS)]
        rows = session.execute(select(*columns).order_by(TicketRollup.day, TicketRollup.category,
                                                         TicketRollup.unit_id))
        return [tuple(r) for r in rows if any(r[3:])]

    running = snapshot()
    rollup.rebuild(session)
    assert snapshot() == running
    assert reports.recount_from_events(session) == []


def test_unanswered_follow_up_calls_are_spread_over_time_before_the_ticket_closes(
        session: Session, units: City, operator: Actor) -> None:
    """Three 未接通 within one second would close the ticket as 回访3次未接通: each try after the
    first waits the policy's retry_after since the last, and is refused, saying until when, before."""
    policy = follow_up.FollowUpPolicy(max_attempts=3, retry_after=dt.timedelta(minutes=10))
    ticket = resolved_ticket(session, operator)
    first = utcnow()
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy, now=first)
    for too_soon in (dt.timedelta(seconds=1), dt.timedelta(minutes=9, seconds=59)):
        with pytest.raises(Conflict) as caught:
            follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy,
                                now=first + too_soon)
        assert caught.value.reason is Reason.FOLLOW_UP_TOO_SOON
    next_at = (first + dt.timedelta(minutes=10)).astimezone(CHINA).strftime("%H:%M")
    assert "两次未接通之间至少间隔 10 分钟" in describe(caught.value) and f"请于 {next_at} 后" in describe(caught.value)
    assert (ticket.state, ticket.follow_up_attempts) == ("resolved", 1)
    assert actions_of(session, ticket).count("follow_up") == 1     # nothing recorded of the refused tries
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy,
                        now=first + dt.timedelta(minutes=10))
    follow_up.follow_up(session, ticket, operator, FollowUpOutcome.UNREACHABLE, policy=policy,
                        now=first + dt.timedelta(hours=2))
    assert (ticket.state, ticket.close_reason) == ("closed", CloseReason.UNREACHABLE.value)
    # The citizen answering is recorded at once, however soon after a try nobody answered.
    other = resolved_ticket(session, operator)
    follow_up.follow_up(session, other, operator, FollowUpOutcome.UNREACHABLE, policy=policy, now=first)
    follow_up.follow_up(session, other, operator, FollowUpOutcome.SATISFIED, policy=policy,
                        now=first + dt.timedelta(minutes=1))
    assert other.state == "closed" and other.rating == "satisfied"
