"""A 回拨 placed in the background: the mark that says it is being dialled, one call at a
time per missed call, and the outcome its row shows once it is recorded."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import callback_dialing, staff, telephony
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import Conflict, Reason
from dispatch.models import Callback, CallbackAttempt
from dispatch.vocabulary import Role


def _missed_call(session: Session, caller: str = "13803910055") -> int:
    now = utcnow()
    telephony.record_call(session, telephony.CallData(
        linkedid=f"1700000000.{caller[-2:]}", outcome="abandoned", caller=caller, dialed="12345",
        started_at=now - dt.timedelta(minutes=2), queue="hotline", entered_queue_at=now, ended_at=now))
    session.flush()
    return next(c.id for c in telephony.pending_callbacks(session) if c.caller and c.caller.endswith(caller))


def test_a_missed_call_being_dialled_is_not_dialled_twice_until_the_mark_is_stale(
        session: Session, operator: Actor) -> None:
    callback_id = _missed_call(session)
    now = utcnow()
    assert callback_dialing.begin(session, callback_id, operator, now=now) == "13803910055"
    assert callback_dialing.state(session, callback_id, now=now).dialing
    with pytest.raises(Conflict) as twice:
        callback_dialing.begin(session, callback_id, operator, now=now + dt.timedelta(seconds=30))
    assert twice.value.reason is Reason.CALLBACK_DIALING
    # A process that stopped mid-call left its mark: past the longest call, it may be dialled again.
    later = now + callback_dialing.DIALING_FOR + dt.timedelta(seconds=1)
    assert not callback_dialing.state(session, callback_id, now=later).dialing
    callback_dialing.begin(session, callback_id, operator, now=later)


def test_the_outcome_recorded_is_what_the_row_shows(session: Session, operator: Actor) -> None:
    callback_id = _missed_call(session)
    callback_dialing.begin(session, callback_id, operator)
    telephony.record_callback_attempt(session, callback_id, operator, "dial_busy (originate reason 4)", reached=False)
    state = callback_dialing.state(session, callback_id)
    assert (state.dialing, state.done, state.attempts, state.result) == (False, False, 1, "dial_busy")
    callback_dialing.begin(session, callback_id, operator)
    telephony.record_callback_attempt(session, callback_id, operator, "dial_answered (originate reason 4)",
                                      reached=True)
    state = callback_dialing.state(session, callback_id)
    assert (state.dialing, state.done, state.attempts, state.result) == (False, True, 2, "dial_answered")
    with pytest.raises(Conflict) as done:
        callback_dialing.begin(session, callback_id, operator)
    assert done.value.reason is Reason.CALLBACK_DONE
    assert session.get_one(Callback, callback_id).status == "done"


def test_each_attempt_keeps_who_placed_it_and_the_row_names_the_last_one(session: Session) -> None:
    """Two operators try the same missed call: each try is theirs in the log, and the row
    says whose the latest was, when, and what came of it."""
    users = [staff.create_user(session, "wang", "callback pass 1", Role.OPERATOR, display_name="话务员 王芳"),
             staff.create_user(session, "li", "callback pass 1", Role.OPERATOR)]
    session.flush()
    wang, li = (staff.actor_for(user) for user in users)
    callback_id = _missed_call(session)
    first = utcnow()
    telephony.record_callback_attempt(session, callback_id, wang, "dial_no_answer (originate reason 3)",
                                      reached=False, now=first)
    state = callback_dialing.state(session, callback_id)
    assert (state.last_by, state.last_at, state.result) == ("话务员 王芳", first, "dial_no_answer")

    later = first + dt.timedelta(minutes=20)
    telephony.record_callback_attempt(session, callback_id, li, "dial_busy (originate reason 5)",
                                      reached=False, now=later)
    tries = session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
                            .order_by(CallbackAttempt.id)).all()
    assert [(t.staff_id, t.at, t.result.split()[0], t.reached) for t in tries] == [
        (wang.user_id, first, "dial_no_answer", False), (li.user_id, later, "dial_busy", False)]
    callback = session.get_one(Callback, callback_id)
    # No display name: the username stands for it.
    assert callback_dialing.states(session, [callback])[callback_id].last_by == "li"
    assert callback.last_attempt_by == li.user_id
