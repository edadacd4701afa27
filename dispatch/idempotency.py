"""Idempotency-Key on the POSTs that file a ticket (the public API's and Open311's): a client
that retries after a lost answer sends the same key, and gets the first answer again instead
of a second ticket. Keys are scoped to the caller (an Open311 client, an address for the
public API), so no one reads another's answer, and kept a day in the database, so a retry
that reaches another web process is known too.

A key is claimed in a transaction of its own before the work, and the answer recorded after:
the work (an intake, written with others in one batch) runs in between. A second request with
the key while the first is in progress gets 409; one whose first attempt failed goes ahead
(the claim is released); one whose process died in between goes ahead after IN_PROGRESS_FOR."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.errors import Conflict, InvalidInput, Reason
from dispatch.models import IdempotencyKey

KEEP_FOR = dt.timedelta(hours=24)
IN_PROGRESS_FOR = dt.timedelta(minutes=2)
MAX_KEY = 200
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Answer:
    status: int
    media_type: str
    body: str


def fingerprint(route: str, fields: Any) -> str:
    """What makes two requests the same: the route and the body's fields, however ordered."""
    text = json.dumps([route, fields], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def checked_key(raw: str | None) -> str | None:
    """The header's key, or None without one; printable ASCII of at most MAX_KEY characters."""
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY or not all(" " <= ch <= "~" for ch in key):
        raise InvalidInput(HEADER, Reason.BAD_IDEMPOTENCY_KEY, limit=MAX_KEY)
    return key


def claim(session: Session, scope: str, key: str, print_: str, *, now: dt.datetime | None = None) -> Answer | None:
    """The first answer to this key, when there is one for the same request; else None, the key
    now held for this request (the caller commits, works, then records or releases)."""
    now = now or utcnow()
    row = session.get(IdempotencyKey, (scope, key))
    if row is not None:
        stale = row.created_at < now - KEEP_FOR or (row.status is None and row.created_at < now - IN_PROGRESS_FOR)
        if stale:   # by its moment: of two processes that both found it stale, one deletes it
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                                                         IdempotencyKey.created_at == row.created_at))
            session.expunge(row)
        elif row.fingerprint != print_:
            raise InvalidInput(HEADER, Reason.IDEMPOTENCY_KEY_REUSED)
        elif row.status is None:
            raise Conflict(Reason.IDEMPOTENCY_IN_PROGRESS)
        else:
            return Answer(row.status, row.media_type or "application/json", row.body or "")
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(scope=scope, key=key, fingerprint=print_, created_at=now))
    except IntegrityError:   # another process claimed it between the read and the write
        raise Conflict(Reason.IDEMPOTENCY_IN_PROGRESS) from None
    return None


def record(session: Session, scope: str, key: str, answer: Answer) -> None:
    row = session.get(IdempotencyKey, (scope, key))
    if row is not None:
        row.status, row.media_type, row.body = answer.status, answer.media_type, answer.body


def release(session: Session, scope: str, key: str) -> None:
    """The first attempt failed: the key is free for a retry."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                                                 IdempotencyKey.status.is_(None)))


def prune(session: Session, *, now: dt.datetime | None = None) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < (now or utcnow()) - KEEP_FOR))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

