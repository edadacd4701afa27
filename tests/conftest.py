"""Test databases: a fresh SQLite file by default, or TEST_DATABASE_URL (PostgreSQL in CI).

The schema is built by the real Alembic migrations once per run; every test starts from
empty tables.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dispatch import audit, db
from dispatch.actors import Actor
from dispatch.intake import IntakeRules
from dispatch.models import Base
from dispatch.units import DEMO_CITY, City, import_units, load_city
from dispatch.vocabulary import Role
from tests import snapshots


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = _database_url(Path(tmp))
        db.recreate_schema(url)
        yield url
        snapshots.close(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # SQLite's DELETE fires the append-only triggers: lifted for the wipe, in its transaction.
            with audit.guard_lifted(connection):
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(table.delete())


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
