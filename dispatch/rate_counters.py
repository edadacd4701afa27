"""Rate limits counted in the database, so that a limit holds across every web process and
worker: one row per (key, fixed window), bumped by an atomic upsert.

A fixed window lets a burst of at most twice the limit straddle a window's edge; that is
the price of one row and one statement per hit, and every limit here is generous enough
for real users and tight enough for a script. The statements are plain ones on the
session's connection, so a limit can be counted inside a flush hook (the SMS outbox).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.errors import RateLimited, Reason
from dispatch.models import RateCounter

log = logging.getLogger(__name__)

KEY_MAX = 200
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Rows are kept this long after their window ended, then pruned.
KEEP_AFTER_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per subject within each `window`; a limit of 0 is off.
    `offset` shifts the windows (a day counted from midnight in China, not in UTC)."""

    name: str
    limit: int
    window: dt.timedelta
    offset: dt.timedelta = dt.timedelta(0)

    @property
    def on(self) -> bool:
        return self.limit > 0

    def key(self, subject: str) -> str:
        key = f"{self.name}:{subject}"
        if len(key) > KEY_MAX:  # a long user name or address must not break the row
            key = f"{self.name}:sha256:{hashlib.sha256(subject.encode()).hexdigest()}"
        return key

    def window_start(self, now: dt.datetime) -> dt.datetime:
        seconds = self.window.total_seconds()
        elapsed = (now - _EPOCH + self.offset).total_seconds()
        return _EPOCH - self.offset + dt.timedelta(seconds=math.floor(elapsed / seconds) * seconds)

    def retry_after(self, now: dt.datetime) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        end = self.window_start(now) + self.window
        return max(1, math.ceil((end - now).total_seconds()))


def hit(session: Session, limit: Limit, subject: str, now: dt.datetime | None = None, *, hits: int = 1) -> int:
    """Count `hits` hits (one by default) and return the window's count including them (one
    atomic statement)."""
    now = now or utcnow()
    start = limit.window_start(now)
    connection = session.connection()
    row = connection.execute(_upsert(connection.dialect.name), {
        "key": limit.key(subject), "window_start": start, "count": hits,
        "expires_at": start + limit.window + KEEP_AFTER_WINDOW}).first()
    return int(row[0]) if row is not None else hits


def give_back(session: Session, limit: Limit, subject: str, hits: int, now: dt.datetime | None = None) -> None:
    """Uncount hits that hit() counted and that turned out not to count (refused, or given back)."""
    session.connection().execute(_GIVE_BACK, {"counter_key": limit.key(subject),
                                              "window": limit.window_start(now or utcnow()), "hits": hits})


def take(session: Session, limits: list[tuple[Limit, str]], reason: Reason, now: dt.datetime | None = None) -> None:
    """Count one hit on every (limit, subject) that is on, before the work they guard; past any
    of them, give them all back and raise RateLimited. Checking first and counting after the
    work lets a burst of parallel requests all pass the check; counted first, each request
    sees the ones before it. The caller gives the hits back (give_back_each) when the work
    turns out not to count (a right password, a right query code). The hits are given back
    on refusal even though the caller's rollback would undo them: a read() runs in
    autocommit, where nothing is rolled back."""
    now = now or utcnow()
    on = [(limit, subject) for limit, subject in limits if limit.on]
    counts = [hit(session, limit, subject, now) for limit, subject in on]  # in one order in every process
    over = [(limit, subject) for (limit, subject), n in zip(on, counts) if n > limit.limit]
    if over:
        give_back_each(session, on, now)
        refuse(over, reason, now)


def give_back_each(session: Session, limits: list[tuple[Limit, str]], now: dt.datetime | None = None) -> None:
    """Uncount the one hit take() counted on each (limit, subject) that is on; `now` as given
    to take(), so that a window ending in between is not the one given back to."""
    now = now or utcnow()
    for limit, subject in limits:
        if limit.on:
            give_back(session, limit, subject, 1, now)


def count(session: Session, limit: Limit, subject: str, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    found = session.connection().execute(_COUNT, {"key": limit.key(subject), "start": limit.window_start(now)})
    return int(found.scalar() or 0)


def reset(session: Session, limit: Limit, subject: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    session.connection().execute(_RESET, {"key": limit.key(subject), "start": limit.window_start(now)})


def refuse(used_up: list[tuple[Limit, str]], reason: Reason, now: dt.datetime) -> None:
    wait = max(limit.retry_after(now) for limit, _ in used_up)
    names = [limit.name for limit, _ in used_up]
    log.warning("rate limit reached", extra={"event": "rate_limited", "limits": names,
                                             "subjects": [subject for _, subject in used_up],
                                             "retry_after": wait})
    raise RateLimited(reason, retry_after=wait, limit=names[0])


def prune(session: Session, now: dt.datetime | None = None) -> int:
    """Forget windows that ended a while ago; returns how many rows went."""
    result = session.execute(delete(RateCounter).where(RateCounter.expires_at < (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_COUNT = select(RateCounter.count).where(RateCounter.key == bindparam("key"),
                                         RateCounter.window_start == bindparam("start"))
_GIVE_BACK = (update(RateCounter).where(RateCounter.key == bindparam("counter_key"),
                                        RateCounter.window_start == bindparam("window"))
              .values(count=RateCounter.count - bindparam("hits")))
_RESET = delete(RateCounter).where(RateCounter.key == bindparam("key"),
                                   RateCounter.window_start == bindparam("start"))


@functools.cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (key, window) DO UPDATE SET count = count + 1 RETURNING count,
    built once (as in rollup.py). SQLite has had RETURNING since 3.35."""
    table = RateCounter.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(key=bindparam("key"), window_start=bindparam("window_start"),
                                     count=bindparam("count"), expires_at=bindparam("expires_at"))
    return statement.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start],
        set_={"count": table.c.count + statement.excluded.count},
    ).returning(table.c.count)
