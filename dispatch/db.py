"""Engines, sessions and schema upgrades. Nothing here runs at import: callers build what they need."""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import rollup
from dispatch.models import TicketEvent

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def display_url(url: str) -> str:
    """The database URL as it may be printed or logged: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("postgresql://"):
        # One driver for everything: psycopg 3.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Take control of transactions from pysqlite so BEGIN IMMEDIATE below is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # A deferred transaction that reads then writes can fail with "database is locked"
    # instead of waiting; taking the write lock up front makes concurrent writers queue.
    # Straight to the driver: it runs once per transaction, and the statement is fixed.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _forbid_event_changes)
    event.listen(factory, "before_flush", rollup.on_flush)
    return factory


def _forbid_event_changes(session: Session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TicketEvent):
            raise RuntimeError("ticket events are append-only")
    for obj in session.new:
        if isinstance(obj, TicketEvent) and obj.hash is None:
            raise RuntimeError("ticket events are written sealed (dispatch.audit.seal)")


def recreate_schema(url: str) -> None:
    """Drop every table and migrate afresh: for tests and benchmarks, never production data."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    elif engine.url.database:
        for suffix in ("", "-wal", "-shm"):
            Path(engine.url.database + suffix).unlink(missing_ok=True)
    engine.dispose()
    upgrade(url)


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to the newest migration (the same path on SQLite and PostgreSQL)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    log.info("schema upgraded", extra={"event": "db_upgrade", "revision": revision})
