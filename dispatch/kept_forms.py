"""Forms kept across an expired login: a staff member's typed reply must not be lost because
their session ended while they typed. The fields wait under a random token; the first
staff member to log in with the token claims them and gets the form back filled in."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import KeptForm

# Long enough to find a password and log in again; short enough that typed text about
# citizens does not linger.
KEEP_FOR = dt.timedelta(hours=2)
# Fields never kept: tokens of the old page, and anything that looks like a password.
NOT_KEPT = frozenset({"csrf_token", "expected_version", "form_id"})
MAX_VALUE_CHARS = 20_000
MAX_FIELDS = 50


def keepable(items: list[tuple[str, Any]]) -> dict[str, str]:
    """The fields worth keeping: text values, no tokens, no passwords, bounded."""
    kept: dict[str, str] = {}
    for name, value in items:
        if not isinstance(value, str) or name in NOT_KEPT or "password" in name.lower() or name in kept:
            continue
        if len(kept) >= MAX_FIELDS:
            break
        kept[name[:100]] = value[:MAX_VALUE_CHARS]
    return kept


def keep(session: Session, *, action: str, page: str, fields: dict[str, str], user_id: int | None = None,
         now: dt.datetime | None = None) -> str:
    """Keep a form's fields; `user_id` when the poster is known (already claimed)."""
    token = secrets.token_urlsafe(24)
    session.add(KeptForm(token=token, action=action[:300], page=page[:300], fields=fields,
                         created_at=now or utcnow(), user_id=user_id))
    session.flush()
    return token


def _fresh(session: Session, token: str, now: dt.datetime) -> KeptForm | None:
    if not token or len(token) > 64:
        return None
    kept = session.get(KeptForm, token)
    if kept is None or kept.created_at < now - KEEP_FOR:
        return None
    return kept


def claim(session: Session, token: str, user_id: int, *, now: dt.datetime | None = None) -> KeptForm | None:
    """At login: the kept form becomes this user's (unless another user claimed it first)."""
    kept = _fresh(session, token, now or utcnow())
    if kept is None or kept.user_id not in (None, user_id):
        return None
    kept.user_id = user_id
    session.flush()
    return kept


def claimed(session: Session, token: str, user_id: int, *, now: dt.datetime | None = None) -> KeptForm | None:
    """The form this user claimed, to fill the page in again (a reload fills it again too)."""
    kept = _fresh(session, token, now or utcnow())
    return kept if kept is not None and kept.user_id == user_id else None


def prune(session: Session, *, now: dt.datetime | None = None) -> int:
    result = session.execute(delete(KeptForm).where(KeptForm.created_at < (now or utcnow()) - KEEP_FOR))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
