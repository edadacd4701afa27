"""Snapshots of the test database's rows: a state that is slow to make (the demo city with its
staff, knowledge base and sample tickets, ~1.5 s through the real intake) is made once, copied
aside, and copied back for every later test that asks for it (a few milliseconds).

The copy lives beside the data: a `snapshot_<name>` schema on PostgreSQL, a file made by
VACUUM INTO on SQLite. Restoring empties every table and refills it from the copy with
INSERT ... SELECT in one transaction, with PostgreSQL's sequences put back where they were, so
ids and everything else are what a fresh run of the same code gives. The schema itself is never
copied: the migrations made it once for the run.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Callable, Hashable

from sqlalchemy import Connection, Engine, event, text

from dispatch import audit, db
from dispatch.models import Base

# A snapshot's rows carry the time they were made (tickets "5 hours ago" and so on): one older
# than this is made afresh, so a test never sees a clock more than a minute behind its own.
MAX_AGE_SECONDS = 60.0


@dataclasses.dataclass
class _Snapshot:
    key: Hashable
    made: float
    sequences: dict[str, tuple[int, bool]]


def _table_names() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]


def _columns(table: str) -> str:
    return ", ".join(f'"{c.name}"' for c in Base.metadata.tables[table].columns)


class Snapshots:
    """The snapshots of one database (one per test run, or per xdist worker)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = db.make_engine(url)
        self._made: dict[str, _Snapshot] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._restorer: Engine | None = None
        if self._engine.dialect.name == "sqlite":
            self._folder = tempfile.TemporaryDirectory(prefix="hotline-snapshots-")
            self._restorer = db.make_engine(url)
            # Every snapshot file is attached when a restoring connection opens (ATTACH cannot
            # run inside the BEGIN IMMEDIATE that every transaction starts with).
            event.listen(self._restorer, "connect", self._attach_all)

    # -- public --------------------------------------------------------------------------

    def is_empty(self) -> bool:
        """No row in any table (what the `sessions` fixture leaves)."""
        probes = " UNION ALL ".join(f"SELECT 1 FROM (SELECT 1 FROM {t} LIMIT 1) AS {t}_rows"
                                    for t in _table_names())
        with self._engine.connect() as connection:
            found = connection.execute(text(f"SELECT count(*) FROM ({probes}) AS rows_found")).scalar()
            connection.rollback()
        return not found

    def state(self, name: str, key: Hashable, make: Callable[[], object]) -> None:
        """Bring an empty database to the named state: from its snapshot when one was made
        with the same key less than MAX_AGE_SECONDS ago, else by `make()`, which is then
        snapshotted. `key` names whatever `make` depends on besides the code (the city, the
        password hasher's cost...)."""
        kept = self._made.get(name)
        if kept is not None and kept.key == key and time.monotonic() - kept.made < MAX_AGE_SECONDS:
            self._restore(name, kept)
            return
        make()
        self._take(name, key)

    def close(self) -> None:
        if self._engine.dialect.name == "postgresql":
            with self._engine.begin() as connection:
                for name in self._made:
                    connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {_schema(name)} CASCADE")
        self._made.clear()
        if self._restorer is not None:
            self._restorer.dispose()
        self._engine.dispose()
        if self._folder is not None:
            self._folder.cleanup()

    # -- making and restoring ------------------------------------------------------------

    def _take(self, name: str, key: Hashable) -> None:
        sequences: dict[str, tuple[int, bool]] = {}
        if self._engine.dialect.name == "postgresql":
            schema = _schema(name)
            with self._engine.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
                for table in _table_names():
                    connection.exec_driver_sql(
                        f"CREATE TABLE {schema}.{table} AS SELECT {_columns(table)} FROM public.{table}")
                sequences = _sequence_values(connection)
        else:
            path = self._file(name)
            path.unlink(missing_ok=True)
            with self._engine.connect() as connection:
                # VACUUM cannot run in a transaction: straight to the driver, outside one.
                connection.connection.driver_connection.execute("VACUUM INTO ?", (str(path),))
            assert self._restorer is not None
            self._restorer.dispose()  # the next restoring connection attaches the new file
        self._made[name] = _Snapshot(key=key, made=time.monotonic(), sequences=sequences)

    def _restore(self, name: str, kept: _Snapshot) -> None:
        tables = _table_names()
        postgres = self._engine.dialect.name == "postgresql"
        engine = self._engine if postgres else self._restorer
        assert engine is not None
        source = _schema(name)
        target = "public" if postgres else "main"
        with engine.begin() as connection:
            with audit.guard_lifted(connection):
                _delete_all(connection, target)
            statements = []
            for table in tables:
                columns = _columns(table)
                statements.append(f"INSERT INTO {target}.{table} ({columns}) SELECT {columns} FROM {source}.{table}")
            _run_all(connection, statements)
            for sequence, (value, called) in kept.sequences.items():
                connection.execute(text("SELECT setval(:s, :v, :c)"), {"s": sequence, "v": value, "c": called})

    def _file(self, name: str) -> Path:
        assert self._folder is not None
        return Path(self._folder.name) / f"{name}.db"

    def _attach_all(self, dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        for name in self._made:
            dbapi_connection.execute(f"ATTACH DATABASE ? AS {_schema(name)}", (str(self._file(name)),))


def empty(engine: Engine) -> None:
    """Delete every row and restart PostgreSQL's id sequences, as TRUNCATE ... RESTART IDENTITY
    does, but in ~50 ms instead of ~1.2 s (TRUNCATE makes new files for each of ~40 tables and
    syncs them at commit). The append-only tables' triggers are lifted for the transaction."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        with audit.guard_lifted(connection):
            _delete_all(connection, "public" if postgres else "main")
        if postgres:
            connection.execute(text(_RESTART_SEQUENCES), {"tables": _table_names()})


# The sequences owned by the given tables' columns (serial ids), back to their start.
_RESTART_SEQUENCES = """
SELECT setval(s.oid::regclass, q.seqstart, false)
FROM pg_class s
JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)
"""


def _delete_all(connection: Connection, schema: str) -> None:
    _run_all(connection, [f"DELETE FROM {schema}.{table}" for table in reversed(_table_names())])


def _run_all(connection: Connection, statements: list[str]) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("; ".join(statements))  # one round trip: no parameters
    else:
        for statement in statements:  # sqlite3 runs one statement a call
            connection.exec_driver_sql(statement)


def _schema(name: str) -> str:
    assert name.isidentifier(), name
    return f"snapshot_{name}"


def _sequence_values(connection: Connection) -> dict[str, tuple[int, bool]]:
    """Every sequence of the public schema: (last_value, is_called), as setval takes them."""
    names = connection.execute(text(
        "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'")).scalars().all()
    values = {}
    for name in names:
        last, called = connection.execute(text(f"SELECT last_value, is_called FROM public.{name}")).one()
        values[f"public.{name}"] = (last, called)
    return values


_open: dict[str, Snapshots] = {}


def of(url: str) -> Snapshots:
    """The snapshots of the database at `url`, made on first use in this process."""
    if url not in _open:
        _open[url] = Snapshots(url)
    return _open[url]


def close(url: str) -> None:
    """Drop the snapshots of `url` (the run's end: its database goes too)."""
    snapshots = _open.pop(url, None)
    if snapshots is not None:
        snapshots.close()
