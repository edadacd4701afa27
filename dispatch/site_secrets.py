"""Secrets the site keeps for itself in its database when none is configured.

The key that signs staff cookies must outlive a restart and be the same in every web
process, or each restart logs everyone out. Made once, written insert-if-absent: of several
processes starting at once, the first insert wins and every process reads that one back."""
from __future__ import annotations

import secrets
from typing import Callable

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch.clock import utcnow
from dispatch.models import SiteSecret

SESSION_KEY = "session_key"


def new_key() -> str:
    return secrets.token_urlsafe(48)


def stored_secret(session: Session, name: str, make: Callable[[], str] = new_key) -> tuple[str, bool]:
    """The secret called `name`, and whether this call made it. Read first: a database that
    refuses writes still serves the secret it holds."""
    found = session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    if found is not None:
        return found, False
    candidate = make()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(SiteSecret.__table__).values(name=name, value=candidate, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["name"]))
    value = session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    assert value is not None  # inserted above or by someone before
    return value, value == candidate  # a fresh random candidate matches only if ours went in


def read_without_writing(engine: Engine, name: str) -> str | None:
    """The stored secret from a SQLite file that refuses writes, where even a read fails: every
    transaction here begins with BEGIN IMMEDIATE (dispatch/db.py), so read in autocommit on the
    driver's own connection. None elsewhere (PostgreSQL reads in a read-only transaction)."""
    if engine.dialect.name != "sqlite":
        return None
    raw = engine.raw_connection()
    try:
        row = raw.cursor().execute("SELECT value FROM site_secrets WHERE name = ?", (name,)).fetchone()
    except Exception:  # no table yet, or no file
        return None
    finally:
        raw.close()
    return None if row is None else str(row[0])
