"""The staff activity log: what staff did outside the tickets (logins, failed logins,
logouts, account, unit and routing rule changes, exports, API tokens, missed calls closed).

`record` is the one way in: one INSERT in the caller's transaction, so an activity is
logged exactly when its change is committed. The table is append-only like the tickets'
audit log (triggers from migration 0011, and `hotline db grant-app-role` lets the runtime
role only INSERT). No password ever goes in: `detail` refuses keys that name one.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from dispatch.actors import Actor
from dispatch.clock import local_day_start, utcnow
from dispatch.models import StaffActivity, StaffUser

PAGE_SIZE = 50
_ACTOR_CHARS, _TARGET_CHARS, _ADDRESS_CHARS = 100, 200, 64


class ActivityKind(str, enum.Enum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"       # failures for one user name from all addresses reached the cap
    LOGOUT = "logout"
    USER_ADDED = "user_added"
    USER_CHANGED = "user_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    PASSWORD_RESET = "password_reset"
    UNIT_ADDED = "unit_added"
    UNIT_CHANGED = "unit_changed"
    UNITS_IMPORTED = "units_imported"
    RULE_ADDED = "rule_added"
    RULE_REMOVED = "rule_removed"
    CATALOGUE_CHANGED = "catalogue_changed"
    EXPORT = "export"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    WEBHOOK_SET = "webhook_set"
    WEBHOOK_REMOVED = "webhook_removed"
    WEBHOOK_REDELIVERED = "webhook_redelivered"    # 重发: a given-up delivery sent again
    MODEL_SWAPPED = "model_swapped"     # a guarded retrain put its model in (detail: both scores)
    MODEL_KEPT = "model_kept"           # a guarded retrain refused its model (detail: both scores)
    KB_PUBLISHED = "kb_published"
    KB_RETIRED = "kb_retired"
    CALENDAR_DAYS_SET = "calendar_days_set"        # holidays / make-up workdays entered or imported
    CALENDAR_DAY_CLEARED = "calendar_day_cleared"  # a day back to the official calendar
    TEMPLATE_ADDED = "template_added"              # a reply template (常用语), a unit's or city-wide
    TEMPLATE_CHANGED = "template_changed"
    TEMPLATE_REMOVED = "template_removed"
    CALLBACK_DONE = "callback_done"                # a missed call closed: 已回拨 by hand, or reached calling back
    SHIFT_HANDED_OVER = "shift_handed_over"        # 交班: an operator's note for the next shift (detail: the counts)
    SHIFT_TAKEN_OVER = "shift_taken_over"          # 接班: another operator acknowledged it
    AGENT_PAUSED = "agent_paused"                  # 示忙 through the PBX (target: the interface; detail: reason)
    AGENT_UNPAUSED = "agent_unpaused"              # 示闲
    QUALITY_INSPECTED = "quality_inspected"        # 质检: a supervisor scored a ticket an operator filed


def record(session: Session, kind: ActivityKind, actor: Actor | str, *, target: str | None = None,
           address: str | None = None, detail: dict[str, Any] | None = None,
           now: dt.datetime | None = None) -> None:
    """Append one activity. `actor` is who acted (a staff Actor, or a bare name: the name a
    failed login tried, "cli" for the command line); `target` what it was done to."""
    if detail and any("password" in key.lower() or "secret" in key.lower() for key in detail):
        raise ValueError("passwords and secrets never go into the activity log")
    label = actor if isinstance(actor, str) else actor.label
    session.execute(insert(StaffActivity).values(
        at=now or utcnow(), kind=ActivityKind(kind).value, actor=label[:_ACTOR_CHARS],
        actor_id=None if isinstance(actor, str) else actor.user_id,
        target=target[:_TARGET_CHARS] if target else None,
        address=address[:_ADDRESS_CHARS] if address else None, detail=detail or None))


@dataclass(frozen=True)
class ActivityFilter:
    user: str | None = None          # who acted, or whom it was done to
    kind: ActivityKind | None = None
    since: dt.date | None = None     # China calendar days, both included
    until: dt.date | None = None


@dataclass(frozen=True)
class ActivityPage:
    rows: list[StaffActivity]
    page: int
    pages: int
    total: int


def search(session: Session, where: ActivityFilter, *, page: int = 1, per_page: int = PAGE_SIZE) -> ActivityPage:
    """Newest first, `per_page` a page; a page past the end gives the last one."""
    query = select(StaffActivity)
    if where.user:
        query = query.where(or_(StaffActivity.actor == where.user, StaffActivity.target == where.user))
    if where.kind is not None:
        query = query.where(StaffActivity.kind == where.kind.value)
    if where.since is not None:
        query = query.where(StaffActivity.at >= local_day_start(where.since))
    if where.until is not None:
        query = query.where(StaffActivity.at < local_day_start(where.until + dt.timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = list(session.scalars(query.order_by(StaffActivity.id.desc())
                                .limit(per_page).offset((page - 1) * per_page)))
    return ActivityPage(rows, page, pages, total)


UNKNOWN_NAME = "?"


def record_login_failure(session: Session, username: str, address: str | None, *, via: str = "page") -> None:
    """A failed login. The name tried is kept only when it is an account's: people type
    their password into the name field, and that must not land in the log."""
    known = session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None
    record(session, ActivityKind.LOGIN_FAILED, username if known else UNKNOWN_NAME,
           target=username if known else None, address=address,
           detail={"via": via} if known else {"via": via, "unknown_name": True})


def record_login_lock(session: Session, username: str, address: str | None, *, failures: int,
                      until: dt.datetime, via: str = "page") -> None:
    """A user name locked out of logins until `until` after `failures` failures from all
    addresses; `address` is the one refused first. The name only when it is an account's,
    as for a failed login."""
    known = session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None
    detail: dict[str, Any] = {"via": via, "failures": failures, "until": until.isoformat()}
    if not known:
        detail["unknown_name"] = True
    record(session, ActivityKind.LOGIN_LOCKED, username if known else UNKNOWN_NAME,
           target=username if known else None, address=address, detail=detail)
