"""交接班: what an operator going off shift is shown (their filed tickets still waiting, the
callbacks still open), the note they leave with the counts, and the next operator's 接班."""
from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import lifecycle, shift_handover, staff, telephony
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput, PermissionDenied, Reason
from dispatch.intake import IntakeRequest, IntakeRules, intake
from dispatch.models import ShiftHandover, StaffActivity, Ticket
from dispatch.units import City, import_units, unit_by_code
from dispatch.vocabulary import Channel, RequestType, Role
from tests.conftest import unit_staff
from tests.held import held

PASSWORD = "handover pass 1"
_phones = iter(range(13803920000, 13803930000))


def _operator(session: Session, username: str, role: Role = Role.OPERATOR) -> Actor:
    user = staff.create_user(session, username, PASSWORD, role, display_name=f"话务员 {username}")
    session.flush()
    return staff.actor_for(user)


def _filed(session: Session, actor: Actor, title: str, *, now: dt.datetime | None = None) -> Ticket:
    request = IntakeRequest(channel=Channel.PHONE, title=title, body=f"{title}，请尽快处理。", phone=str(next(_phones)),
                            request_type=RequestType.COMPLAINT, channel_ref=f"console:{title}")
    return intake(session, request, IntakeRules(), actor=actor, now=now).ticket


def _missed_call(session: Session, caller: str) -> int:
    now = utcnow()
    telephony.record_call(session, telephony.CallData(
        linkedid=f"1700000000.{caller[-4:]}", outcome="abandoned", caller=caller, dialed="12345",
        started_at=now - dt.timedelta(minutes=2), queue="hotline", entered_queue_at=now, ended_at=now))
    session.flush()
    return next(c.id for c in telephony.pending_callbacks(session) if c.caller and c.caller.endswith(caller))


def test_a_ticket_filed_then_transferred_drops_off_the_outgoing_operators_list(
        session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    kept = _filed(session, wang, "小区路灯不亮")
    sent = _filed(session, wang, "道路积水严重")
    _filed(session, _operator(session, "zhao"), "别人受理的工单")   # another operator's: not Wang's to hand over

    listed = shift_handover.shift_summary(session, wang)
    assert [t.number for t in listed.tickets] == [kept.number, sent.number] and listed.ticket_count == 2

    lifecycle.transfer(session, sent, unit_by_code(session, "housing"), wang)
    listed = shift_handover.shift_summary(session, wang)
    assert [t.number for t in listed.tickets] == [kept.number] and listed.ticket_count == 1


def test_a_ticket_a_unit_returned_is_listed_again_for_the_operator_who_filed_it(
        session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    ticket = _filed(session, wang, "噪音扰民")
    lifecycle.transfer(session, ticket, unit_by_code(session, "housing"), wang)
    assert shift_handover.shift_summary(session, wang).ticket_count == 0
    lifecycle.return_ticket(session, ticket, unit_staff(session, "housing"), "不属于本单位职责")
    listed = shift_handover.shift_summary(session, wang)
    assert [(t.number, t.state) for t in listed.tickets] == [(ticket.number, "returned")]


def test_the_shift_starts_at_the_last_handover_and_reaches_back_twelve_hours_at_most(
        session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    now = utcnow()
    _filed(session, wang, "昨天受理的工单", now=now - dt.timedelta(hours=13))
    before = _filed(session, wang, "交班前受理", now=now - dt.timedelta(hours=2))
    assert [t.number for t in shift_handover.shift_summary(session, wang, now=now).tickets] == [before.number]

    shift_handover.hand_over(session, wang, "无", now=now - dt.timedelta(hours=1))
    after = _filed(session, wang, "交班后受理", now=now)
    assert [t.number for t in shift_handover.shift_summary(session, wang, now=now).tickets] == [after.number]


def test_a_callback_closed_drops_off_and_those_tried_without_reaching_anyone_come_first(
        session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    tried = _missed_call(session, "13803910001")
    closed = _missed_call(session, "13803910002")
    untried = _missed_call(session, "13803910003")
    telephony.record_callback_attempt(session, tried, wang, "dial_no_answer (originate reason 3)", reached=False)

    listed = shift_handover.shift_summary(session, wang)
    assert [c.id for c in listed.callbacks][0] == tried and {c.id for c in listed.callbacks} == {tried, closed, untried}
    assert (listed.callback_count, listed.unreached_count) == (3, 1)
    assert listed.callbacks[0].result == "dial_no_answer" and listed.callbacks[0].caller == "13803910001"

    telephony.mark_callback_done(session, closed, wang, "市民已再次来电")
    listed = shift_handover.shift_summary(session, wang)
    assert {c.id for c in listed.callbacks} == {tried, untried} and listed.callback_count == 2


def test_handing_over_keeps_the_note_and_the_counts_and_logs_it(session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    ticket = _filed(session, wang, "小区路灯不亮")
    _missed_call(session, "13803910001")
    now = utcnow()
    handover = shift_handover.hand_over(session, wang, "  路灯一件待转办，回拨一件未接通。 ", now=now)
    assert handover.note == "路灯一件待转办，回拨一件未接通。" and handover.staff_label == "话务员 wang"
    assert (handover.waiting_tickets, handover.open_callbacks, handover.unreached_callbacks) == (1, 1, 0)
    assert handover.listed["tickets"] == [ticket.number] and handover.created_at == now
    logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "shift_handed_over")).one()
    assert logged.actor == "wang" and logged.actor_id == wang.user_id
    assert logged.target == f"shift_handover:{handover.id}" and logged.detail["waiting_tickets"] == 1


@pytest.mark.parametrize(("note", "reason"),
                         [("   ", Reason.REQUIRED), ("长" * 1001, Reason.TOO_LONG), (3, Reason.NOT_TEXT)])
def test_a_note_left_empty_or_too_long_is_refused(session: Session, units: City, note: object, reason: Reason) -> None:
    wang = _operator(session, "wang")
    with pytest.raises(InvalidInput) as refused:
        shift_handover.hand_over(session, wang, note)
    assert refused.value.field == "handover_note" and refused.value.reason is reason


def test_acknowledging_removes_the_handover_from_pending_once_and_not_by_its_writer(
        session: Session, units: City) -> None:
    wang, li, zhao = (_operator(session, name) for name in ("wang", "li", "zhao"))
    handover = shift_handover.hand_over(session, wang, "三号线回拨两次未接通，请继续回拨。")
    pending = shift_handover.pending(session, li)
    assert [h.id for h in pending.handovers] == [handover.id] and pending.count == 1

    with pytest.raises(PermissionDenied) as own:
        shift_handover.acknowledge(session, wang, handover.id)
    assert own.value.reason is Reason.OWN_HANDOVER

    now = utcnow()
    taken = shift_handover.acknowledge(session, li, handover.id, now=now)
    assert (taken.acknowledged_at, taken.acknowledged_by, taken.acknowledged_label) == (now, li.user_id, "话务员 li")
    assert shift_handover.pending(session, zhao).count == 0
    with pytest.raises(Conflict) as twice:
        shift_handover.acknowledge(session, zhao, handover.id)
    assert twice.value.reason is Reason.HANDOVER_TAKEN and twice.value.params["by"] == "话务员 li"
    logged = session.scalars(select(StaffActivity).where(StaffActivity.kind == "shift_taken_over")).one()
    assert logged.actor == "li" and logged.detail == {"handed_over_by": "话务员 wang"}


def test_supervisors_read_the_history_newest_first(session: Session, units: City) -> None:
    wang, li = _operator(session, "wang"), _operator(session, "li")
    chief = _operator(session, "chief", Role.SUPERVISOR)
    first = shift_handover.hand_over(session, wang, "早班交班")
    shift_handover.acknowledge(session, li, first.id)
    second = shift_handover.hand_over(session, li, "中班交班")
    listed = shift_handover.history(session, chief)
    assert [(h.id, h.acknowledged_by) for h in listed.items] == [(second.id, None), (first.id, "话务员 li")]
    with pytest.raises(PermissionDenied):
        shift_handover.history(session, wang)


def test_a_unit_can_neither_see_nor_hand_over_nor_take_over_a_shift(session: Session, units: City) -> None:
    wang = _operator(session, "wang")
    handover = shift_handover.hand_over(session, wang, "无")
    unit = unit_staff(session, "housing")
    for attempt in (lambda: shift_handover.shift_summary(session, unit),
                    lambda: shift_handover.pending(session, unit),
                    lambda: shift_handover.hand_over(session, unit, "无"),
                    lambda: shift_handover.acknowledge(session, unit, handover.id),
                    lambda: shift_handover.history(session, unit)):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.reason is Reason.ROLE_NOT_ALLOWED


def test_two_operators_taking_over_the_same_handover_at_once_take_it_once(
        sessions: sessionmaker[Session], engine: Engine, city: City) -> None:
    with sessions() as session:
        import_units(session, city)
        wang, li, zhao = (_operator(session, name) for name in ("wang", "li", "zhao"))
        handover_id = shift_handover.hand_over(session, wang, "请继续回拨").id
        session.commit()

    def take(actor: Actor) -> str:
        with sessions() as session:
            try:
                shift_handover.acknowledge(session, actor, handover_id)
                session.commit()
                return "taken"
            except Conflict as exc:
                session.rollback()
                return str(exc.params["by"])

    # Each reads the handover before either marks it: the one statement that checks and marks decides.
    reads = re.compile(r"FROM shift_handovers\s+WHERE shift_handovers.id =")
    with held(engine, lambda statement: reads.search(statement) is not None, 2), ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(take, (li, zhao)))
    assert sorted(answers) in (["taken", "话务员 li"], ["taken", "话务员 zhao"])
    with sessions() as session:
        row = session.get_one(ShiftHandover, handover_id)
        assert row.acknowledged_label == ("话务员 li" if answers[0] == "taken" else "话务员 zhao")
        assert session.scalar(select(func.count()).select_from(StaffActivity)
                              .where(StaffActivity.kind == "shift_taken_over")) == 1


def test_the_callbacks_the_operator_tried_without_reaching_anyone_come_before_the_others_tries(
        session: Session, units: City) -> None:
    """Wang tried one missed call, Li a newer one, nobody the newest: Wang's list starts with
    the one Wang tried (whose story Wang knows), Li's with Li's; each row says who tried last."""
    wang, li = _operator(session, "wang"), _operator(session, "li")
    wangs = _missed_call(session, "13803910011")
    lis = _missed_call(session, "13803910012")
    untried = _missed_call(session, "13803910013")
    telephony.record_callback_attempt(session, wangs, wang, "dial_no_answer (originate reason 3)", reached=False)
    telephony.record_callback_attempt(session, lis, li, "dial_busy (originate reason 5)", reached=False)

    listed = shift_handover.shift_summary(session, wang)
    assert [(c.id, c.own, c.last_by) for c in listed.callbacks] == [
        (wangs, True, "话务员 wang"), (lis, False, "话务员 li"), (untried, False, None)]
    assert (listed.unreached_count, listed.own_count) == (2, 1)
    assert [c.id for c in shift_handover.shift_summary(session, li).callbacks] == [lis, wangs, untried]
    # Li tries Wang's too: it stays Wang's own (Wang tried it and nobody was reached), now with Li's try last.
    telephony.record_callback_attempt(session, wangs, li, "dial_no_answer (originate reason 3)", reached=False)
    first = shift_handover.shift_summary(session, wang).callbacks[0]
    assert (first.id, first.own, first.last_by) == (wangs, True, "话务员 li")
    assert first.as_dict()["own"] is True and first.as_dict()["last_attempt_by"] == "话务员 li"


def test_a_note_nobody_takes_over_within_a_day_is_no_longer_pending_but_stays_in_the_history_marked(
        session: Session, units: City) -> None:
    wang, li = _operator(session, "wang"), _operator(session, "li")
    chief = _operator(session, "chief", Role.SUPERVISOR)
    now = utcnow()
    old = shift_handover.hand_over(session, wang, "前天的交班", now=now - dt.timedelta(hours=25))
    recent = shift_handover.hand_over(session, wang, "昨晚的交班", now=now - dt.timedelta(hours=23))

    pending = shift_handover.pending(session, li, now=now)
    assert [h.id for h in pending.handovers] == [recent.id] and pending.count == 1
    with pytest.raises(Conflict) as late:
        shift_handover.acknowledge(session, li, old.id, now=now)
    assert late.value.reason is Reason.HANDOVER_EXPIRED and late.value.params == {"hours": 24}
    assert session.get_one(ShiftHandover, old.id).acknowledged_at is None

    listed = {h.id: h for h in shift_handover.history(session, chief).items}
    assert listed[old.id].expired and listed[old.id].as_dict()["expired"] is True
    assert not listed[recent.id].expired
    # Taken over in time: never marked, however old.
    shift_handover.acknowledge(session, li, recent.id, now=now)
    assert not shift_handover.view(session.get_one(ShiftHandover, recent.id),
                                   now + dt.timedelta(days=3)).expired
