"""Staff accounts with argon2 password hashes."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput
from dispatch.models import StaffUser, Unit
from dispatch.vocabulary import Role

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def create_user(session: Session, username: str, password: str, role: Role, *,
                unit_code: str | None = None, display_name: str = "") -> StaffUser:
    username = username.strip()
    if not username:
        raise InvalidInput("username", "must not be empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise InvalidInput("username", f"{username!r} already exists")
    unit_id = None
    if role is Role.UNIT_STAFF:
        if not unit_code:
            raise InvalidInput("unit", "unit staff must belong to a unit")
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise InvalidInput("unit", f"no unit with code {unit_code!r}")
    elif unit_code:
        raise InvalidInput("unit", "only unit staff belong to a unit")
    user = StaffUser(username=username, display_name=display_name or username,
                     password_hash=_hasher.hash(password), role=role.value, unit_id=unit_id,
                     active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The user if the password is right, else None (no hint which part was wrong)."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def actor_for(user: StaffUser) -> Actor:
    return Actor(label=user.username, user_id=user.id, role=Role(user.role), unit_id=user.unit_id)
