"""Engines, sessions and schema upgrades. Nothing here runs at import: callers build what they need."""
from __future__ import annotations

import functools
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import call_totals, rollup, routing_feedback
from dispatch.database_url import normalise as normalise_url
from dispatch.errors import Reason, StorageUnavailable
from dispatch.models import TicketEvent

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# PostgreSQL: threads of one process that do database work at once (web.services queues the
# rest on the event loop), and the pool that serves them with room for the connections the
# leader roles keep for their advisory locks (web/leadership.py). A pool smaller than that
# opened and closed a connection per request once the roles held their share.
DB_THREADS = 8
POOL_SIZE = DB_THREADS + 6
# A connection idle longer than this is pinged before use (one `SELECT 1`); a busy pool's
# connections are not, since a dead one then fails its request at once and is replaced.
PING_IDLE_SECONDS = 10.0
RECYCLE_SECONDS = 1800


def display_url(url: str) -> str:
    """The database URL as it may be printed or logged: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    # One driver for everything: psycopg 3, whether written postgres:// or postgresql://.
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    cache_long_statements()
    engine = create_engine(url, echo=echo, pool_size=POOL_SIZE, max_overflow=10, pool_recycle=RECYCLE_SECONDS)
    event.listen(engine.pool, "checkin", _note_idle_since)
    event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


def checkpoint(engine: Engine) -> None:
    """On SQLite, fold the write-ahead log back into the database file, so that a copy of
    the file alone, after a stop, holds everything (SQLite does so by itself only when the
    process's last connection closes, and uvicorn ends the process on SIGTERM before that)."""
    if engine.dialect.name != "sqlite":
        return
    # On the driver's connection, outside any transaction (SQLAlchemy's would begin one, and
    # a checkpoint inside a transaction is refused).
    connection = engine.raw_connection()
    try:
        busy, _, _ = connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error as exc:  # a stop must not fail over it: the log stays, and is read next time
        log.warning("could not fold the write-ahead log into the database at stop: %s", exc)
        return
    finally:
        connection.close()
    if busy:  # another connection was still reading or writing
        log.warning("could not fold the whole write-ahead log into the database at stop: it was in use")


# psycopg turns a statement's %(name)s placeholders into $n with a regex pass in Python, and
# keeps the result (an LRU cache of 128) only for statements under 4 KB with at most 50
# parameters. An intake batch's multi-row INSERTs (SQLAlchemy's insertmanyvalues: one text
# per batch size, 5-20 KB) were converted anew every batch, a sixth of its CPU. Raised, the
# cache keeps batches of up to about 28 tickets; a psycopg without these names is left as is.
LONG_STATEMENT_BYTES = 32 * 1024
LONG_STATEMENT_PARAMS = 1024


def cache_long_statements() -> bool:
    """Let psycopg keep the conversion of statements up to the sizes above; False when this
    psycopg has no such limits to raise."""
    from psycopg import _queries

    names = ("MAX_CACHED_STATEMENT_LENGTH", "MAX_CACHED_STATEMENT_PARAMS")
    if not all(isinstance(getattr(_queries, name, None), int) for name in names):
        return False
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONG_STATEMENT_BYTES)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, LONG_STATEMENT_PARAMS)
    return True


_IDLE_SINCE = "idle_since"


def _note_idle_since(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """pool_pre_ping for connections that sat idle: a ping on every checkout was one round
    trip in each request. DisconnectionError makes the pool drop it and connect anew."""
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError("idle connection failed its ping") from exc


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
    event.listen(factory, "before_flush", _move_running_totals)
    return factory


# Every table of running totals, moved by one pass over the flush's new and changed rows.
RUNNING_TOTALS = rollup.KEPT + (call_totals.CALLS, routing_feedback.OUTCOMES)


def _move_running_totals(session: Session, _context: object, _instances: object) -> None:
    rollup.move(session, RUNNING_TOTALS)


def _forbid_event_changes(session: Session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TicketEvent):
            raise RuntimeError("ticket events are append-only")
    for obj in session.new:
        if isinstance(obj, TicketEvent) and obj.hash is None:
            raise RuntimeError("ticket events are written sealed (dispatch.audit.seal)")


# SQLSTATEs and SQLite messages of a database that cannot take writes for now.
_PG_STATES = {"25006": Reason.READ_ONLY, "53100": Reason.DISK_FULL, "53200": Reason.OUT_OF_MEMORY,
              "57P03": Reason.UNREACHABLE, "08000": Reason.UNREACHABLE, "08001": Reason.UNREACHABLE,
              "08003": Reason.UNREACHABLE, "08006": Reason.UNREACHABLE}
_SQLITE_MESSAGES = (("readonly database", Reason.READ_ONLY), ("database or disk is full", Reason.DISK_FULL),
                    ("disk i/o error", Reason.DISK_FULL), ("unable to open database", Reason.UNREACHABLE))


def storage_fault(exc: BaseException) -> StorageUnavailable | None:
    """The StorageUnavailable a driver error means, or None for any other error (a bug)."""
    if isinstance(exc, StorageUnavailable):
        return exc
    if isinstance(exc, DBAPIError):
        original, invalidated = exc.orig, exc.connection_invalidated
    elif type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg"):
        original, invalidated = exc, False  # raised by a driver call outside a statement
    else:
        return None
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state in _PG_STATES:
        return StorageUnavailable(_PG_STATES[state], str(original).strip().splitlines()[0])
    message = str(original).lower()
    for needle, reason in _SQLITE_MESSAGES:
        if needle in message:
            return StorageUnavailable(reason, str(original))
    if invalidated or (state is None and "connection" in message):
        return StorageUnavailable(Reason.UNREACHABLE, str(original).strip().splitlines()[0])
    return None


def check_writable(engine: Engine) -> StorageUnavailable | None:
    """Try a write that changes nothing and is rolled back: None when writes work.

    Updating the migration marker in place takes the same path as any real write (SQLite's
    write lock and file permissions, PostgreSQL's read-only transactions); a full disk shows
    only when pages are written, so writes that fail later are reported by the caller too.
    """
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                transaction.rollback()
    except Exception as exc:
        fault = storage_fault(exc)
        if fault is None:
            raise
        return fault
    return None


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


@dataclass(frozen=True)
class Upgrade:
    """The migrations one upgrade() applied: from the revision the database had (None: empty)."""

    from_revision: str | None
    to_revision: str

    def __str__(self) -> str:
        return f"{self.from_revision or 'empty'} -> {self.to_revision}"


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code ships (what `hotline db upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str, revision: str = "head") -> Upgrade | None:
    """Bring the schema to the newest migration (the same path on SQLite and PostgreSQL).
    Returns what was applied, None when the database was already there; only then is the
    upgrade logged, so commands that merely check the schema stay quiet."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(url)
    script = ScriptDirectory.from_config(config)
    target = script.get_current_head() if revision == "head" else script.get_revision(revision).revision
    engine = make_engine(url)
    try:
        before = current_revision(engine)
    finally:
        engine.dispose()
    if before == target:
        return None
    command.upgrade(config, revision)
    applied = Upgrade(before, target or revision)
    log.info("schema upgraded %s", applied, extra={"event": "db_upgrade", "from_revision": before,
                                                   "revision": applied.to_revision})
    return applied
