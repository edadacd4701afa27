"""Forms kept across an expired login: a staff member's typed reply must not be lost because
their session ended while they typed. The fields wait under a random token; the first
staff member to log in with the token claims them and gets the form back filled in.

A form the ticket page refused (an empty reason, a reply too short, a stale page) is kept
the same way, with the refusal's words and already claimed by its poster: the page
redirects to itself with the token (Post/Redirect/Get), so a reload shows the form again,
filled in, instead of posting it again."""
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


def keepable(items: list[tuple[str, Any]]) -> dict[str, str | list[str]]:
    """The fields worth keeping: text values, no tokens, no passwords, bounded. A name posted
    more than once (several 协办 units chosen) keeps its values as a list."""
    kept: dict[str, str | list[str]] = {}
    for name, value in items:
        if not isinstance(value, str) or name in NOT_KEPT or "password" in name.lower():
            continue
        key, value = name[:100], value[:MAX_VALUE_CHARS]
        if key in kept:
            before = kept[key]
            if isinstance(before, list):
                if len(before) < MAX_FIELDS:
                    before.append(value)
            else:
                kept[key] = [before, value]
            continue
        if len(kept) >= MAX_FIELDS:
            break
        kept[key] = value
    return kept


def values_of(fields: dict[str, Any]) -> dict[str, list[str]]:
    """Every kept field as a list of its values, for a page to tick boxes and choose options."""
    return {name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
            for name, value in fields.items()}


def keep(session: Session, *, action: str, page: str, fields: dict[str, str | list[str]],
         user_id: int | None = None, error: str | None = None, now: dt.datetime | None = None) -> str:
    """Keep a form's fields; `user_id` when the poster is known (already claimed), `error`
    when the page refused the form (what it said)."""
    token = secrets.token_urlsafe(24)
    session.add(KeptForm(token=token, action=action[:300], page=page[:300], fields=fields,
                         created_at=now or utcnow(), user_id=user_id, error=error))
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
