"""Staff sessions kept in the database. The signed cookie carries only a session's random
id; the row decides whether it still opens anything, so logging out, changing the password
or deactivating the account ends it everywhere at once.

create / lookup / identify / revoke / revoke_all_for_user are the whole interface; a
session is one row (id, user, created, last seen, revoked).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import StaffSession, StaffUser, Unit

log = logging.getLogger(__name__)

ID_BYTES = 32
# Writing last_seen_at on every request would make every page view a write; a minute of
# slack in the idle timeout is worth far fewer writes.
TOUCH_AFTER = dt.timedelta(minutes=1)


def create(session: Session, user_id: int, now: dt.datetime | None = None) -> StaffSession:
    now = now or utcnow()
    row = StaffSession(id=secrets.token_urlsafe(ID_BYTES), user_id=user_id, created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return row


def lookup(session: Session, session_id: str, *, idle_timeout: dt.timedelta, max_age: dt.timedelta,
           now: dt.datetime | None = None) -> StaffSession | None:
    """The live session with this id (not revoked, not idle too long, not too old, its user
    still active), its last-seen time moved on; else None. The row of identify()'s answer."""
    if identify(session, session_id, idle_timeout=idle_timeout, max_age=max_age, now=now) is None:
        return None
    return session.get(StaffSession, session_id, populate_existing=True)


@dataclass(frozen=True)
class SessionUser:
    """Who a live session belongs to, as every staff page needs it."""

    user_id: int
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_name: str | None


def identify(session: Session, session_id: str, *, idle_timeout: dt.timedelta, max_age: dt.timedelta,
             now: dt.datetime | None = None, touch: bool = True) -> SessionUser | None:
    """Who the live session with this id belongs to (not revoked, not idle too long, not too
    old, its user still active), with their unit, in one statement (every staff page asks, so
    it costs one round trip and no ORM objects); its last-seen time moved on (unless `touch`
    is False: an open stream asking again is no sign of someone at the screen); else None."""
    now = now or utcnow()
    row = session.execute(_IDENTIFY, {"session_id": session_id}).first()
    if row is None:
        return None
    created_at, last_seen_at, revoked_at, active, *user = row
    if revoked_at is not None or not active:
        return None
    if now - last_seen_at > idle_timeout or now - created_at > max_age:
        return None
    if touch and now - last_seen_at > TOUCH_AFTER:
        session.execute(_TOUCH, {"session_id": session_id, "now": now})
    return SessionUser(*user)


# Built once: every staff page asks, and building a statement costs more Python than
# running it through SQLAlchemy's compiled cache.
_IDENTIFY = (select(StaffSession.created_at, StaffSession.last_seen_at, StaffSession.revoked_at, StaffUser.active,
                    StaffUser.id, StaffUser.username, StaffUser.display_name, StaffUser.role, StaffUser.unit_id,
                    Unit.name)
             .join(StaffUser, StaffUser.id == StaffSession.user_id)
             .outerjoin(Unit, Unit.id == StaffUser.unit_id)
             .where(StaffSession.id == bindparam("session_id")))
_TOUCH = (update(StaffSession).where(StaffSession.id == bindparam("session_id"))
          .values(last_seen_at=bindparam("now")).execution_options(synchronize_session=False))


def revoke(session: Session, session_id: str, now: dt.datetime | None = None) -> bool:
    """End one session (logout); False if it was not live."""
    result = session.execute(update(StaffSession)
                             .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow())
                             .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all_for_user(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    """End every live session of a user (new password, deactivation); how many ended."""
    result = session.execute(update(StaffSession)
                             .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow())
                             .execution_options(synchronize_session=False))
    ended = int(result.rowcount or 0)  # type: ignore[attr-defined]
    log.info("staff sessions revoked", extra={"event": "sessions_revoked", "user_id": user_id, "count": ended})
    return ended
