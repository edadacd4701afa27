"""Test databases: a fresh SQLite file by default, or TEST_DATABASE_URL (PostgreSQL in CI).

The schema is built by the real Alembic migrations once per run; every test starts from
empty tables. Under pytest-xdist (`-n 2`) each worker has its own:
a SQLite file in its own folder, or on PostgreSQL a database named after TEST_DATABASE_URL's
and the worker (test_gw0, test_gw1 beside test), created at the start and dropped at the end.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dispatch import db
from dispatch.actors import Actor
from dispatch.intake import IntakeRules
from dispatch.units import DEMO_CITY, City, import_units, load_city
from dispatch.vocabulary import Role
from tests import snapshots


@contextlib.contextmanager
def _database_url(tmp_dir: Path) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1... under pytest-xdist
    if not url:
        yield f"sqlite:///{tmp_dir / 'test.db'}"
    elif not worker:
        yield url
    else:
        with _worker_database(url, worker) as own:
            yield own


@contextlib.contextmanager
def _worker_database(url: str, worker: str) -> Iterator[str]:
    """A database of the worker's own on the server of `url`, named after it, created empty
    (one a killed run left behind is dropped first) and dropped when the run ends."""
    given = make_url(url)
    name = f"{given.database}_{worker}"
    server = create_engine(db.normalise_url(url), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with server.connect() as connection:  # FORCE: a server thread a test left may hold a connection
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield given.set(database=name).render_as_string(hide_password=False)
    finally:
        drop()
        server.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp, _database_url(Path(tmp)) as url:
        db.recreate_schema(url)
        yield url
        snapshots.close(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    # DELETE with the append-only triggers lifted, and sequences restarted on PostgreSQL.
    snapshots.empty(engine)


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    _empty_tables(engine)
    yield db.make_sessionmaker(engine)
    _empty_tables(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session
        session.rollback()


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(DEMO_CITY)


@pytest.fixture
def units(session: Session, city: City) -> City:
    """The demo city's units, committed."""
    import_units(session, city)
    session.commit()
    return city


@pytest.fixture
def rules() -> IntakeRules:
    return IntakeRules()


@pytest.fixture
def operator() -> Actor:
    return Actor(label="operator-wang", role=Role.OPERATOR)


@pytest.fixture
def supervisor() -> Actor:
    return Actor(label="supervisor-li", role=Role.SUPERVISOR)


def unit_staff(session: Session, code: str) -> Actor:
    from dispatch.units import unit_by_code

    return Actor(label=f"staff-{code}", role=Role.UNIT_STAFF, unit_id=unit_by_code(session, code).id)


@pytest.fixture(scope="session")
def small_model():  # type: ignore[no-untyped-def]
    """A classifier trained once per run on 1,500 shipped rows (a few seconds)."""
    import random

    from classifier.dataset import SHIPPED_DATA, read_examples
    from classifier.model import train
    from classifier.training import holdout_split

    dev = read_examples(SHIPPED_DATA[0])
    random.Random(7).shuffle(dev)  # dev.csv is ordered by label
    kept, _ = holdout_split(dev[:1500], fraction=0.2, seed=7)
    return train(kept)


@pytest.fixture
def minute_to_spare() -> None:
    """Per-minute limits count in fixed windows (dispatch/rate_counters.py), and a burst that
    straddles a window's edge is counted in two: a test that spends a limit starts with at
    least 20 seconds of its minute left."""
    left = 60 - time.time() % 60
    if left < 20:
        time.sleep(left + 0.05)

