"""Numbers flagged as malicious (恶意来电): a prank or abusive caller's later contacts show the
flag to the operator. A flag is never deleted; clearing it keeps who cleared it and when."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import lifecycle
from dispatch.actors import DISPATCH_ROLES, SUPERVISING_ROLES, Actor, require_role
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import FlaggedNumber, StaffUser
from dispatch.phone import normalise_phone


def flag(session: Session, phone: str, actor: Actor, reason: str, *, ticket_id: int | None = None,
         now: dt.datetime | None = None) -> FlaggedNumber:
    require_role(actor, DISPATCH_ROLES, "flag numbers")
    reason = lifecycle.required_text("reason", reason)
    phone = normalise_phone(phone)
    existing = active_flag(session, phone)
    if existing is not None:
        return existing
    row = FlaggedNumber(phone=phone, reason=reason, flagged_by=actor.label, flagged_at=now or utcnow(),
                        ticket_id=ticket_id)
    session.add(row)
    session.flush()
    return row


def clear(session: Session, phone: str, actor: Actor, *, now: dt.datetime | None = None) -> FlaggedNumber:
    require_role(actor, SUPERVISING_ROLES, "clear flagged numbers")
    found = active_flag(session, normalise_phone(phone))
    if found is None:
        raise NotFound(Reason.NOT_FLAGGED, phone=phone)
    found.cleared_by, found.cleared_at = actor.label, now or utcnow()
    session.flush()
    return found


def active_flag(session: Session, phone: str | None) -> FlaggedNumber | None:
    if not phone:
        return None
    try:
        phone = normalise_phone(phone)
    except InvalidInput:
        pass
    return session.scalar(select(FlaggedNumber).where(FlaggedNumber.phone == phone,
                                                      FlaggedNumber.cleared_at.is_(None)).limit(1))


def flagger_name(session: Session, row: FlaggedNumber) -> str:
    """Who flagged it, by the name colleagues know them by (as on a ticket's timeline); the
    login when the account has no name or is gone."""
    return session.scalar(select(StaffUser.display_name).where(StaffUser.username == row.flagged_by)) \
        or row.flagged_by
