"""Bearer tokens of the staff API: 32 random bytes given to the holder once, kept only as
their SHA-256 (a stolen database yields no usable token). A token stands for its user: the
role and unit come from the user row on each request, so a deactivated user's tokens stop
working at once. Tokens end when they expire or are revoked; none is ever deleted."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch import staff_activity
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import ApiToken, StaffUser

# last_used_at is written at most this often per token: not one write per request.
USE_RESOLUTION = dt.timedelta(minutes=1)
MAX_NAME_CHARS = 100
MAX_DAYS = 3650   # a token for a set time; a unit's system takes one valid until revoked


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(session: Session, user: StaffUser, name: str, *, lifetime: dt.timedelta | None,
           now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never stored.
    `lifetime` None: valid until revoked (a unit's own system)."""
    name = name.strip()
    if not name:
        raise InvalidInput("token_name", Reason.REQUIRED)
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput("token_name", Reason.TOO_LONG, limit=MAX_NAME_CHARS)
    if not user.active:
        raise InvalidInput("user", Reason.ACCOUNT_INACTIVE, username=user.username)
    if lifetime is not None and lifetime <= dt.timedelta(0):
        raise InvalidInput("days", Reason.NOT_POSITIVE)
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=token_hash(raw), created_at=now,
                   expires_at=now + lifetime if lifetime is not None else None)
    session.add(row)
    session.flush()
    return row, raw


def issue(session: Session, actor: Actor, user_id: int, name: str, *, days: int | None) -> tuple[ApiToken, str]:
    """A token an administrator makes for a unit's system or a script (valid until revoked, or
    for `days`), kept in the staff activity log; the row and the token, shown once."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(Reason.ACCOUNT_NOT_FOUND, user_id=user_id)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", Reason.OUT_OF_RANGE, low=1, high=MAX_DAYS)
    row, raw = create(session, user, name, lifetime=dt.timedelta(days=days) if days is not None else None)
    staff_activity.record(session, staff_activity.ActivityKind.TOKEN_CREATED, actor, target=f"token:{row.id}",
                          detail={"name": row.name, "user": user.username})
    return row, raw


def end(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Revoke a token at once, in the staff activity log."""
    token = revoke(session, token_id)
    staff_activity.record(session, staff_activity.ActivityKind.TOKEN_REVOKED, actor, target=f"token:{token_id}")
    return token


@dataclass(frozen=True)
class Authenticated:
    token_id: int
    user_id: int


def authenticate(session: Session, raw: str, *, now: dt.datetime | None = None) -> Authenticated | None:
    """The token's id and user if it is known, live, and its user active; else None (no hint why)."""
    if not raw:
        return None
    now = now or utcnow()
    row = session.execute(select(ApiToken, StaffUser.active).join(StaffUser, StaffUser.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == token_hash(raw))).first()
    if row is None:
        return None
    token, active = row
    if not active or token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        token.last_used_at = now
    return Authenticated(token.id, token.user_id)


def revoke(session: Session, token_id: int, *, now: dt.datetime | None = None) -> ApiToken:
    """End a token; revoking one already revoked keeps the first moment."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(Reason.TOKEN_NOT_FOUND, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.flush()
    return token


def revoke_all_for_user(session: Session, user_id: int, *, now: dt.datetime | None = None) -> list[int]:
    """End every live token of a user (new password, deactivation: reactivating the account
    must not bring old tokens back); the ids of those ended."""
    ended = list(session.scalars(select(ApiToken.id).where(ApiToken.user_id == user_id,
                                                           ApiToken.revoked_at.is_(None))))
    if ended:
        session.execute(update(ApiToken).where(ApiToken.id.in_(ended))
                        .values(revoked_at=now or utcnow()).execution_options(synchronize_session=False))
    return ended


def all_tokens(session: Session, limit: int | None = None) -> list[tuple[ApiToken, str]]:
    """Every token with its user's name, newest first (`hotline tokens list`; the admin page
    shows the newest `limit`)."""
    rows = session.execute(select(ApiToken, StaffUser.username).join(StaffUser, StaffUser.id == ApiToken.user_id)
                           .order_by(ApiToken.id.desc()).limit(limit))
    return [(token, username) for token, username in rows]
