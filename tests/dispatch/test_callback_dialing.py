"""A 回拨 placed in the background: the mark that says it is being dialled, one call at a
time per missed call, and the outcome its row shows once it is recorded."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from dispatch import callback_dialing, telephony
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import Conflict, Reason
from dispatch.models import Callback


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
