"""Staff accounts as an administrator keeps them: list, add, change role, unit and the phone
extension an operator answers at, deactivate and reactivate, reset a password. Every change is written to the staff activity
log in the same transaction; passwords go through dispatch/staff.py, whose strength rule
the CLI uses too.

An administrator cannot deactivate or demote themselves, nor the last active administrator:
somebody must always be able to get in.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import staff
from dispatch.actors import Actor
from dispatch.errors import InvalidInput, NotFound, PermissionDenied, Reason
from dispatch.models import StaffSession, StaffUser, Unit
from dispatch.staff_activity import ActivityKind, record
from dispatch.vocabulary import EXTENSION_FREED_ZH, EXTENSION_TAKEN_OVER_ZH, Role

# Letters and digits nobody confuses when reading them out over the phone (no 0/O, 1/l/I).
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_USERNAME = re.compile(r"^[\w.@-]{2,80}$")
DISPLAY_NAME_CHARS = 200


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role: Role
    unit_code: str | None
    unit_name: str | None
    active: bool
    created_at: dt.datetime
    last_login: dt.datetime | None
    phone_extension: str | None = None


def require_admin(actor: Actor) -> None:
    """The CLI acts as the system; on the pages only administrators keep accounts and units."""
    if not actor.is_system and actor.role is not Role.ADMIN:
        raise PermissionDenied(Reason.ADMIN_ONLY, actor=actor.label)


def list_users(session: Session) -> list[UserRow]:
    """Every account, active ones first, by role and name; last login from the sessions."""
    last_login = (select(StaffSession.user_id, func.max(StaffSession.created_at).label("at"))
                  .group_by(StaffSession.user_id).subquery())
    rows = session.execute(select(StaffUser, Unit.code, Unit.name, last_login.c.at)
                           .outerjoin(Unit, Unit.id == StaffUser.unit_id)
                           .outerjoin(last_login, last_login.c.user_id == StaffUser.id)
                           .order_by(StaffUser.active.desc(), StaffUser.role, StaffUser.username))
    return [UserRow(u.id, u.username, u.display_name or u.username, Role(u.role), code, name, u.active,
                    u.created_at, _aware(at), u.phone_extension) for u, code, name, at in rows]


def _aware(moment: Any) -> dt.datetime | None:
    # An aggregate of a UTC column may come back without the column's type (naive, or text on SQLite).
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def user_row(session: Session, user_id: int) -> UserRow:
    found = next((row for row in list_users(session) if row.id == user_id), None)
    if found is None:
        raise NotFound(Reason.ACCOUNT_NOT_FOUND, user_id=user_id)
    return found


def generate_password() -> str:
    """16 random characters in four groups (about 93 bits), to be shown once."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def add_user(session: Session, actor: Actor, username: str, role: Role, *, display_name: str = "",
             unit_code: str | None = None, password: str | None = None,
             phone_extension: str | None = None) -> tuple[StaffUser, str | None]:
    """A new account; with no password given one is generated and returned (shown once)."""
    require_admin(actor)
    username = username.strip()
    if not _USERNAME.match(username):
        raise InvalidInput("username", Reason.BAD_USERNAME)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise InvalidInput("username", Reason.USERNAME_TAKEN, username=username)
    display_name = _display_name(display_name)
    unit = _unit_for(session, role, unit_code)
    _take_from_deactivated(session, actor, phone_extension, username)
    generated = None if password else generate_password()
    user = staff.create_user(session, username, password or generated or "", role,
                             unit_code=unit.code if unit else None, display_name=display_name,
                             phone_extension=phone_extension)
    record(session, ActivityKind.USER_ADDED, actor, target=user.username,
           detail={"role": role.value, "unit": unit.code if unit else None, "generated": generated is not None,
                   **({"phone_extension": user.phone_extension} if user.phone_extension else {})})
    return user, generated


def update_user(session: Session, actor: Actor, user_id: int, *, display_name: str, role: Role,
                unit_code: str | None, phone_extension: str | None) -> StaffUser:
    """Change the name shown, the role, the unit a unit staff member works for, or the phone
    extension (blank: none). The role and unit are read from the row on every request, so
    the change applies at once."""
    require_admin(actor)
    user = _get(session, user_id)
    if Role(user.role) is Role.ADMIN and role is not Role.ADMIN:
        _refuse_losing_admin(session, actor, user, "改为其他角色")
    unit = _unit_for(session, role, unit_code, kept_unit_id=user.unit_id)
    _take_from_deactivated(session, actor, phone_extension, user.username)
    extension = staff.free_phone_extension(session, phone_extension, user.id)
    before = {"display_name": user.display_name, "role": user.role, "unit": _unit_code(session, user.unit_id),
              "phone_extension": user.phone_extension}
    user.display_name = _display_name(display_name) or user.username
    user.role = role.value
    user.unit_id = unit.id if unit else None
    user.phone_extension = extension
    after = {"display_name": user.display_name, "role": user.role, "unit": unit.code if unit else None,
             "phone_extension": extension}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        session.flush()
        record(session, ActivityKind.USER_CHANGED, actor, target=user.username, detail=changes)
    return user


def set_phone_extension(session: Session, actor: Actor, user_id: int, phone_extension: str | None) -> StaffUser:
    """The phone an operator answers at (blank: none), alone (`hotline users set-extension`)."""
    require_admin(actor)
    user = _get(session, user_id)
    _take_from_deactivated(session, actor, phone_extension, user.username)
    extension = staff.free_phone_extension(session, phone_extension, user.id)
    if extension != user.phone_extension:
        changes = {"phone_extension": [user.phone_extension, extension]}
        user.phone_extension = extension
        session.flush()
        record(session, ActivityKind.USER_CHANGED, actor, target=user.username, detail=changes)
    return user


def set_active(session: Session, actor: Actor, user_id: int, active: bool) -> StaffUser:
    """Deactivate (every session and API token of the account ends) or reactivate (the
    account logs in again with its password; old sessions and tokens stay ended)."""
    require_admin(actor)
    user = _get(session, user_id)
    if user.active == active:
        return user
    if active:
        user.active = True
        session.flush()
    else:
        if Role(user.role) is Role.ADMIN:
            _refuse_losing_admin(session, actor, user, "停用")
        elif actor.user_id == user.id:
            raise InvalidInput("user", Reason.CANNOT_DEACTIVATE_SELF)
        staff.deactivate(session, user.username)
    detail = None
    if not active and user.phone_extension:
        # The extension is the seat's: whoever sits there next takes it (the call figures of
        # the calls already taken keep the name they were counted under in the log).
        detail = {"phone_extension": [user.phone_extension, None], "note": EXTENSION_FREED_ZH}
        user.phone_extension = None
        session.flush()
    record(session, ActivityKind.USER_REACTIVATED if active else ActivityKind.USER_DEACTIVATED, actor,
           target=user.username, detail=detail)
    return user


def _take_from_deactivated(session: Session, actor: Actor, typed: str | None, taker: str) -> None:
    """A deactivated account that still holds the typed extension (deactivated before
    deactivating freed it) gives it up to `taker`, in the activity log; an active one keeps it
    (staff.free_phone_extension refuses)."""
    if not (typed or "").strip():
        return
    extension = staff.extension_of(typed or "")
    holder = session.scalar(select(StaffUser).where(StaffUser.phone_extension == extension,
                                                    StaffUser.active.is_(False), StaffUser.username != taker))
    if holder is None:
        return
    holder.phone_extension = None
    session.flush()
    record(session, ActivityKind.USER_CHANGED, actor, target=holder.username,
           detail={"phone_extension": [extension, None], "note": EXTENSION_TAKEN_OVER_ZH.format(username=taker)})


def reset_password(session: Session, actor: Actor, user_id: int, password: str | None = None) -> str | None:
    """A new password (given, or generated and returned to be shown once); every session and
    API token of the account ends."""
    require_admin(actor)
    user = _get(session, user_id)
    generated = None if password else generate_password()
    staff.set_password(session, user.username, password or generated or "")
    record(session, ActivityKind.PASSWORD_RESET, actor, target=user.username,
           detail={"generated": generated is not None})
    return generated


def _refuse_losing_admin(session: Session, actor: Actor, user: StaffUser, what: str) -> None:
    if actor.user_id == user.id:
        raise InvalidInput("user", Reason.OWN_ADMIN_ACCOUNT, what=what)
    # Locked, so that two administrators demoting each other at once leave one standing.
    admins = session.scalars(select(StaffUser.id).where(StaffUser.role == Role.ADMIN.value,
                                                        StaffUser.active.is_(True)).with_for_update()).all()
    if [i for i in admins if i != user.id] == []:
        raise InvalidInput("user", Reason.LAST_ADMIN, username=user.username, what=what)


def _get(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(Reason.ACCOUNT_NOT_FOUND, user_id=user_id)
    return user


def _display_name(value: str) -> str:
    value = (value or "").strip()
    if len(value) > DISPLAY_NAME_CHARS:
        raise InvalidInput("display_name", Reason.TOO_LONG, limit=DISPLAY_NAME_CHARS)
    return value


def _unit_for(session: Session, role: Role, unit_code: str | None, kept_unit_id: int | None = None) -> Unit | None:
    """The unit an account is given. `kept_unit_id`: the unit it has now, which it may keep
    after the unit was retired (its name or role still edited); no account joins a retired one."""
    if role is not Role.UNIT_STAFF:
        # Only unit staff belong to a unit: a unit picked for another role is refused, not
        # dropped, so that nobody believes a supervisor now watches one unit.
        if unit_code:
            raise InvalidInput("unit", Reason.ONLY_UNIT_STAFF_HAVE_UNIT, role=role.value)
        return None
    if not unit_code:
        raise InvalidInput("unit", Reason.UNIT_STAFF_NEED_UNIT)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or (not unit.active and unit.id != kept_unit_id):
        raise InvalidInput("unit", Reason.NO_ACTIVE_UNIT, code=unit_code)
    return unit


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    return None if unit_id is None else session.scalar(select(Unit.code).where(Unit.id == unit_id))
