"""The Alembic migrations build exactly the schema the models describe, on either database, and
upgrade a database that holds rows."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import db, staff, text_search
from dispatch.errors import InvalidInput, Reason
from dispatch.models import Base, StaffUser
from dispatch.vocabulary import Role


def _not_search_index(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    # The PostgreSQL-only search indexes live in dispatch/text_search.py, as the audit triggers
    # live in dispatch/audit.py: not in the models, which describe both databases.
    return not (kind == "index" and name in text_search.INDEXES)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_search_index})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_upgrade_keys_the_accounts_there_and_keeps_look_alikes_added_before(
        engine: Engine, database_url: str, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture) -> None:
    """A city that added Admin and ａｄｍｉｎ beside admin before look-alikes were refused: the
    upgrade must not fail, nor lock anyone out. The oldest keeps the key, the others none."""
    users = sa.table("staff_users", *(sa.column(name) for name in ("username", "display_name", "password_hash",
                                                                   "role", "active", "created_at")))
    names = ["admin", "Wang", "Admin", "ａｄｍｉｎ", "li"]
    command.downgrade(db.alembic_config(database_url), "0038")
    try:
        with engine.begin() as connection:
            connection.execute(users.insert(), [{"username": name, "display_name": name, "password_hash": "x",
                                                 "role": "operator", "active": True,
                                                 "created_at": dt.datetime(2026, 11, 1)} for name in names])
        with caplog.at_level(logging.WARNING, logger="dispatch.migrations"):
            db.upgrade(database_url)
    finally:
        db.upgrade(database_url)  # the schema back at the head for the tests that follow
        engine.dispose()

    with sessions() as session:
        keys = dict(session.execute(select(StaffUser.username, StaffUser.username_key)).all())
        assert keys == {"admin": "admin", "Wang": "wang", "Admin": None, "ａｄｍｉｎ": None, "li": "li"}
        assert "'Admin' reads like the older 'admin'" in caplog.text
        assert "'ａｄｍｉｎ' reads like the older 'admin'" in caplog.text
        with pytest.raises(InvalidInput) as refused:
            staff.create_user(session, "ADMIN", "long enough 1", Role.OPERATOR)
        assert refused.value.reason is Reason.USERNAME_LOOKALIKE and refused.value.params["existing"] == "admin"
        session.rollback()
