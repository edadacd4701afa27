"""A 回拨 placed in the background: the console's click marks the missed call as being
dialled and returns at once; the call centre dials (the operator's phone, then the citizen,
up to a minute and a half) and records the outcome with telephony.record_callback_attempt.
The mark is kept on the row, so a reloaded console still shows 正在回拨… and a second click
(or another operator's) does not dial the citizen twice."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dispatch.actors import DISPATCH_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.errors import Conflict, NotFound, Reason
from dispatch.models import Callback, StaffUser
from dispatch.phone import national_form
from dispatch.telephony import CALLBACK_DONE, CALLBACK_PENDING
from dispatch.vocabulary import DialResult

DIALING = "dialing"   # Callback.last_result while the call is placed
# Longer than any call placed takes (ring 30 s, the citizen's leg up to 65 s, the PBX's
# answer): a mark older than this is a process that stopped mid-call, and may be dialled again.
DIALING_FOR = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class CallbackState:
    """What the console shows of a missed call being called back."""

    callback_id: int
    dialing: bool
    done: bool
    attempts: int
    result: str | None   # the last attempt's DialResult value, once there is one
    # When the last attempt ended and who placed it (display name; None for attempts made
    # before they were recorded, or by the system).
    last_at: dt.datetime | None = None
    last_by: str | None = None


def begin(session: Session, callback_id: int, actor: Actor, *, now: dt.datetime | None = None) -> str:
    """Mark the missed call as being dialled; the number to dial. One statement that checks
    and marks, so two clicks at once place one call (Conflict for the other)."""
    require_role(actor, DISPATCH_ROLES, "call citizens back")
    now = now or utcnow()
    callback = session.get(Callback, callback_id)
    if callback is None or not callback.caller:
        raise NotFound(Reason.CALLBACK_NOT_FOUND, callback_id=callback_id)
    marked = session.execute(
        update(Callback).where(Callback.id == callback_id, Callback.status == CALLBACK_PENDING,
                               or_(Callback.last_result.is_(None), Callback.last_result != DIALING,
                                   Callback.last_attempt_at < now - DIALING_FOR))
        .values(last_result=DIALING, last_attempt_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not marked:
        session.refresh(callback)
        raise Conflict(Reason.CALLBACK_DONE if callback.status != CALLBACK_PENDING else Reason.CALLBACK_DIALING,
                       callback_id=callback_id)
    session.refresh(callback)
    return national_form(callback.caller)


def dialing(callback: Callback, now: dt.datetime | None = None) -> bool:
    return (callback.last_result == DIALING and callback.last_attempt_at is not None
            and (now or utcnow()) - callback.last_attempt_at < DIALING_FOR)


def last_result(callback: Callback) -> str | None:
    """The DialResult value the last attempt ended with (its row keeps it before the PBX's
    reason), None before any or while dialling."""
    first = (callback.last_result or "").split(" ", 1)[0]
    return first if first in {r.value for r in DialResult} else None


def state(session: Session, callback_id: int, *, now: dt.datetime | None = None) -> CallbackState:
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise NotFound(Reason.CALLBACK_NOT_FOUND, callback_id=callback_id)
    return state_of(callback, now, by=placed_by(session, [callback]).get(callback.id))


def states(session: Session, callbacks: Sequence[Callback], now: dt.datetime | None = None) -> dict[int, CallbackState]:
    """The rows of a page of the callback list, their callers' names read at once."""
    names = placed_by(session, callbacks)
    return {c.id: state_of(c, now, by=names.get(c.id)) for c in callbacks}


def placed_by(session: Session, callbacks: Sequence[Callback]) -> dict[int, str]:
    """callback id -> the display name (else the username) of who placed its last attempt."""
    staff_ids = {c.last_attempt_by for c in callbacks if c.last_attempt_by is not None}
    if not staff_ids:
        return {}
    names = {row.id: row.display_name or row.username for row in session.execute(
        select(StaffUser.id, StaffUser.display_name, StaffUser.username).where(StaffUser.id.in_(staff_ids)))}
    return {c.id: names[c.last_attempt_by] for c in callbacks if c.last_attempt_by in names}


def state_of(callback: Callback, now: dt.datetime | None = None, *, by: str | None = None) -> CallbackState:
    result = last_result(callback)
    return CallbackState(callback.id, dialing(callback, now), callback.status == CALLBACK_DONE, callback.attempts,
                         result, callback.last_attempt_at if result else None, by if result else None)
