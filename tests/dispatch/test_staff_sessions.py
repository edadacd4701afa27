"""A staff session and its user, read in one statement on every staff page."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch import staff_sessions
from dispatch.clock import utcnow
from dispatch.models import StaffSession, StaffUser
from dispatch.units import City, unit_by_code
from dispatch.vocabulary import Role
from tests.statements import statements_sent

IDLE, MAX_AGE = dt.timedelta(hours=2), dt.timedelta(hours=12)


def _user(session: Session, unit_id: int | None) -> StaffUser:
    user = StaffUser(username="wang", display_name="王", password_hash="x", role=Role.UNIT_STAFF.value,
                     unit_id=unit_id, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def _identify(session: Session, session_id: str, now: dt.datetime) -> staff_sessions.SessionUser | None:
    return staff_sessions.identify(session, session_id, idle_timeout=IDLE, max_age=MAX_AGE, now=now)


def test_a_live_session_names_its_user_and_unit_in_one_statement(session: Session, units: City) -> None:
    housing = unit_by_code(session, "housing")
    user = _user(session, housing.id)
    start = utcnow()
    live = staff_sessions.create(session, user.id, now=start)
    with statements_sent(session.connection()) as statements:
        found = _identify(session, live.id, start + dt.timedelta(seconds=30))
    assert found == staff_sessions.SessionUser(user.id, "wang", "王", Role.UNIT_STAFF.value, housing.id, housing.name)
    assert len(statements) == 1   # not touched within a minute


def test_a_revoked_idle_old_or_deactivated_session_opens_nothing(session: Session, units: City) -> None:
    user = _user(session, None)
    start = utcnow()
    live = staff_sessions.create(session, user.id, now=start)
    assert _identify(session, live.id, start + IDLE + dt.timedelta(seconds=1)) is None
    assert _identify(session, "no-such-session", start) is None
    touched = _identify(session, live.id, start + dt.timedelta(minutes=90))
    assert touched is not None and touched.unit_name is None
    seen = session.scalar(select(StaffSession.last_seen_at).where(StaffSession.id == live.id))
    assert seen == start + dt.timedelta(minutes=90)
    assert _identify(session, live.id, start + MAX_AGE + dt.timedelta(seconds=1)) is None
    session.execute(update(StaffUser).where(StaffUser.id == user.id).values(active=False))
    assert _identify(session, live.id, start + dt.timedelta(minutes=91)) is None
    session.execute(update(StaffUser).where(StaffUser.id == user.id).values(active=True))
    assert _identify(session, live.id, start + dt.timedelta(minutes=91)) is not None
    staff_sessions.revoke(session, live.id)
    assert _identify(session, live.id, start + dt.timedelta(minutes=92)) is None
