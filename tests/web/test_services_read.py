"""Services.read: a page's reads without BEGIN and COMMIT on PostgreSQL, writes kept."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select, text

from dispatch.clock import utcnow
from dispatch.models import SiteSecret
from web.services import Services


def test_what_a_read_writes_is_kept(services: Services) -> None:
    def write(session) -> None:  # type: ignore[no-untyped-def]
        session.add(SiteSecret(name="read-test", value="kept", created_at=utcnow()))

    asyncio.run(services.read(write))
    assert services.run_sync(lambda s: s.scalar(select(SiteSecret.value).where(SiteSecret.name == "read-test"))) \
        == "kept"


def test_on_postgresql_each_statement_of_a_read_is_its_own_transaction(services: Services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: read() is run(), one transaction under the one lock")
    def two_moments(session) -> tuple[object, object]:  # type: ignore[no-untyped-def]
        first = session.scalar(select(func.now()))
        time.sleep(0.01)
        return first, session.scalar(select(func.now()))

    in_run = asyncio.run(services.run(two_moments))
    assert in_run[0] == in_run[1]   # now() is the transaction's start
    in_read = asyncio.run(services.read(two_moments))
    assert in_read[0] != in_read[1]
    level = services.run_sync(lambda s: s.scalar(text("SHOW transaction_isolation")))
    assert level == "read committed"
    assert services.run_sync(lambda s: s.connection().connection.driver_connection.autocommit) is False
