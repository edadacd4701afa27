"""Staff accounts with argon2 password hashes.

Checking a password is three steps so that the slow part holds no database lock (on
SQLite, all database work runs one step at a time): read the hash (credentials), verify it
with no session at all (verify_password, in a thread), then record the outcome.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import api_tokens, staff_sessions
from dispatch.actors import Actor
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, Reason
from dispatch.models import StaffUser, Unit
from dispatch.vocabulary import Role

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8

# The login form reads at most this much of a password: a longer one could never log in.
MAX_PASSWORD_LENGTH = 200

# The account whose username reads like a given one (its key, see _username_key).
_HOLDER_OF_KEY = select(StaffUser.username).where(StaffUser.username_key == bindparam("key"))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that it takes as long as a real
    check. Made on first use: an argon2 hash at import cost every `hotline` command 0.5 s."""
    return _hasher.hash("no such user, no such password")


def create_user(session: Session, username: str, password: str, role: Role, *,
                unit_code: str | None = None, display_name: str = "", phone_extension: str | None = None) -> StaffUser:
    username = username.strip()
    if not username:
        raise InvalidInput("username", Reason.REQUIRED)
    check_password_strength(password, username)
    extension = free_phone_extension(session, phone_extension)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise InvalidInput("username", Reason.USERNAME_TAKEN, username=username)
    key = _username_key(username)
    lookalike = session.scalar(_HOLDER_OF_KEY, {"key": key})
    if lookalike is not None:
        raise InvalidInput("username", Reason.USERNAME_LOOKALIKE, username=username, existing=lookalike)
    unit_id = None
    if role is Role.UNIT_STAFF:
        if not unit_code:
            raise InvalidInput("unit", Reason.UNIT_STAFF_NEED_UNIT)
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise InvalidInput("unit", Reason.UNKNOWN_UNIT, code=unit_code)
    elif unit_code:
        raise InvalidInput("unit", Reason.ONLY_UNIT_STAFF_HAVE_UNIT, role=role.value)
    user = StaffUser(username=username, username_key=key, display_name=display_name or username,
                     password_hash=_hasher.hash(password), role=role.value, unit_id=unit_id,
                     active=True, created_at=utcnow(), phone_extension=extension)
    try:
        with session.begin_nested():  # a refusal leaves the caller's transaction usable
            session.add(user)
            session.flush()
    except IntegrityError:
        refusal = _added_meanwhile(session, username, key)
        if refusal is None:
            raise
        raise refusal from None
    return user


# ---- the phone an operator answers at -----------------------------------------------------

_EXTENSION = re.compile(r"^[0-9A-Za-z_.+-]{1,40}$")


def extension_of(interface: str) -> str:
    """The extension of an agent interface as the PBX names it: PJSIP/7001 and SIP/7001 ->
    7001, Local/7001@agents/n -> 7001; an extension alone stays as it is."""
    _, slash, rest = interface.strip().partition("/")
    return (rest if slash else interface.strip()).split("@", 1)[0].split("/", 1)[0]


def free_phone_extension(session: Session, typed: str | None, user_id: int | None = None) -> str | None:
    """The extension an administrator typed ("7001", or the interface "PJSIP/7001"), as kept;
    None when blank. Refused when malformed, or when another account than `user_id` has it."""
    if not (typed or "").strip():
        return None
    extension = extension_of(typed or "")
    if not _EXTENSION.match(extension):
        raise InvalidInput("phone_extension", Reason.BAD_PHONE_EXTENSION)
    holder = session.execute(select(StaffUser.id, StaffUser.username)
                             .where(StaffUser.phone_extension == extension)).first()
    if holder is not None and holder.id != user_id:
        raise InvalidInput("phone_extension", Reason.PHONE_EXTENSION_TAKEN, extension=extension,
                           username=holder.username)
    return extension


def names_by_extension(session: Session) -> dict[str, str]:
    """The name of the account at each phone that has one now. Deactivating an account frees
    its extension (dispatch/staff_admin.set_active), so the calls taken at a freed phone are
    named by whoever holds it now, or by the phone alone; the activity log says who had it when."""
    rows = session.execute(select(StaffUser.phone_extension, StaffUser.display_name, StaffUser.username)
                           .where(StaffUser.phone_extension.is_not(None)))
    return {extension: name or username for extension, name, username in rows}


def _username_key(username: str) -> str:
    """What a username looks like to people: "Admin" and "ａｄｍｉｎ" (full-width) read as
    "admin". Stored with the account (staff_users.username_key, unique): beside "admin", an
    "Admin" could pass for it in the activity log, on a ticket's timeline or in a phishing
    message."""
    return unicodedata.normalize("NFKC", username).casefold()



def _added_meanwhile(session: Session, username: str, key: str) -> InvalidInput | None:
    """The refusal for an account another admin added after the checks above, the same name
    or one reading like it, whose key refused the insert (PostgreSQL refuses it only once
    their transaction has committed, so their account can be read now); None if no account
    holds the key."""
    holder = session.scalar(_HOLDER_OF_KEY, {"key": key})
    if holder is None:
        return None
    if holder == username:
        return InvalidInput("username", Reason.USERNAME_TAKEN, username=username)
    return InvalidInput("username", Reason.USERNAME_LOOKALIKE, username=username, existing=holder)


@dataclass(frozen=True)
class Credentials:
    user_id: int
    password_hash: str


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    new_hash: str | None = None   # the same password under the hasher's current parameters


def credentials(session: Session, username: str) -> Credentials | None:
    """The active user's stored hash (a short read), or None."""
    row = session.execute(select(StaffUser.id, StaffUser.password_hash, StaffUser.active)
                          .where(StaffUser.username == username)).first()
    if row is None or not row.active:
        return None
    return Credentials(user_id=row.id, password_hash=row.password_hash)


def verify_password(found: Credentials | None, password: str) -> PasswordCheck:
    """The argon2 check, tens of milliseconds of CPU: no database, run it in a thread."""
    if found is None:
        try:
            _hasher.verify(_dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            pass
        return PasswordCheck(ok=False)
    try:
        _hasher.verify(found.password_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(found.password_hash) else None
    return PasswordCheck(ok=True, new_hash=new_hash)


def confirm_login(session: Session, found: Credentials, check: PasswordCheck) -> StaffUser | None:
    """The user, if still active with the hash that was checked (a password changed or an
    account deactivated meanwhile wins); stores a rehash."""
    user = session.get(StaffUser, found.user_id)
    if user is None or not user.active or user.password_hash != found.password_hash or not check.ok:
        return None
    if check.new_hash is not None:
        user.password_hash = check.new_hash
        session.flush()
    return user


def check_password_strength(password: str, username: str = "") -> None:
    """The one rule for every new password, from the CLI and the admin pages alike."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", Reason.PASSWORD_TOO_SHORT, limit=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password", Reason.PASSWORD_TOO_LONG, limit=MAX_PASSWORD_LENGTH)
    if len(set(password)) < 3:
        raise InvalidInput("password", Reason.PASSWORD_TOO_SIMPLE)
    if username and password.strip().lower() == username.strip().lower():
        raise InvalidInput("password", Reason.PASSWORD_IS_USERNAME)


def set_password(session: Session, username: str, password: str) -> StaffUser:
    """A new password; every session and API token of the account ends."""
    user = _user(session, username)
    check_password_strength(password, user.username)
    user.password_hash = _hasher.hash(password)
    session.flush()
    staff_sessions.revoke_all_for_user(session, user.id)
    api_tokens.revoke_all_for_user(session, user.id)
    return user


def deactivate(session: Session, username: str) -> StaffUser:
    """The account can no longer log in; every session and API token of it ends."""
    user = _user(session, username)
    user.active = False
    session.flush()
    staff_sessions.revoke_all_for_user(session, user.id)
    api_tokens.revoke_all_for_user(session, user.id)
    return user


def _user(session: Session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip()))
    if user is None:
        raise InvalidInput("username", Reason.UNKNOWN_ACCOUNT, username=username)
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The user if the password is right, else None (no hint which part was wrong); the three
    steps in one session, for callers that hold no shared lock (the CLI, scripts)."""
    found = credentials(session, username)
    check = verify_password(found, password)
    return confirm_login(session, found, check) if found is not None else None


def actor_for(user: StaffUser) -> Actor:
    return Actor(label=user.username, user_id=user.id, role=Role(user.role), unit_id=user.unit_id)
