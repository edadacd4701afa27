"""Electing the one process that runs the PBX bridge, the SMS sender and the scheduler: two
contenders on their own connections to one PostgreSQL, one holds a role at a time, and when
the holder's connection dies (the process was killed) the other takes the role over."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, text

from dispatch import db
from web.leadership import NAMESPACE, SCHEDULER, Leadership, Lock, lock_key

RETRY = 0.2


def _postgres(engine: Engine) -> None:
    """PostgreSQL, with the scheduler's lock free: a server an earlier test started may still
    be letting go of it (its connection ends a moment after its process, later on a loaded
    machine)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; on SQLite one process holds every role "
                    "(test_on_sqlite_the_roles_are_simply_held)")
    deadline = time.monotonic() + 30
    while _holders(engine):
        assert time.monotonic() < deadline, "an earlier test's process still holds the scheduler's lock"
        time.sleep(0.2)


def _holders(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(
            "select count(*) from pg_locks where locktype = 'advisory' and granted"
            " and database = (select oid from pg_database where datname = current_database())"
            " and classid::text::bigint = :ns and objid::text::bigint = :key"),
            {"ns": NAMESPACE, "key": lock_key(SCHEDULER)}) or 0)


def test_only_one_connection_takes_a_roles_lock_until_it_lets_go(engine: Engine, database_url: str) -> None:
    _postgres(engine)
    other_engine = db.make_engine(database_url)
    first, second = Lock(engine, SCHEDULER), Lock(other_engine, SCHEDULER)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        assert first.still_held()
        first.release()
        assert second.try_acquire() is True
        assert first.try_acquire() is False
    finally:
        first.release()
        second.release()
        other_engine.dispose()


class Contender:
    """One process's Leadership and a record of when its work ran."""

    def __init__(self, name: str, engine: Engine) -> None:
        self.name = name
        self.leadership = Leadership(engine, retry_seconds=RETRY)
        self.running = False
        self.starts = 0

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        self.running, self.starts = True, self.starts + 1
        try:
            yield
        finally:
            self.running = False


def _backend_of_lock(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(
            # This database's lock: another suite on the same server may hold the same key in its own.
            "select pid from pg_locks where locktype = 'advisory' and granted"
            " and database = (select oid from pg_database where datname = current_database())"
            " and classid::text::bigint = :ns and objid::text::bigint = :key"),
            {"ns": NAMESPACE, "key": lock_key(SCHEDULER)}))


def test_when_the_holders_connection_dies_the_other_takes_the_role_over(engine: Engine,
                                                                        database_url: str) -> None:
    _postgres(engine)
    engines = [db.make_engine(database_url), db.make_engine(database_url)]

    async def story() -> tuple[list[bool], list[bool], float]:
        a, b = Contender("a", engines[0]), Contender("b", engines[1])
        async with a.leadership.role(SCHEDULER, a.work), b.leadership.role(SCHEDULER, b.work):
            await asyncio.sleep(3 * RETRY)
            before = [a.running, b.running]
            holder, other = (a, b) if a.running else (b, a)
            pid = _backend_of_lock(engine)
            # What PostgreSQL sees when the holding process dies: its connection ends.
            with engine.connect() as connection:
                assert connection.scalar(text("select pg_terminate_backend(:pid)"), {"pid": pid})
            killed = time.monotonic()
            while not other.running:
                assert time.monotonic() - killed < 10, "nobody took the role over"
                await asyncio.sleep(0.05)
            took = time.monotonic() - killed
            await asyncio.sleep(3 * RETRY)
            after = [holder.running, other.running]
            assert holder.starts == 1 and other.starts == 1
            assert holder.leadership.held[SCHEDULER] is False and other.leadership.held[SCHEDULER] is True
        return before, after, took

    try:
        before, after, took = asyncio.run(story())
    finally:
        for e in engines:
            e.dispose()
    assert sorted(before) == [False, True]  # exactly one ran the work
    assert after == [False, True]  # the killed one stopped, the other runs it now
    assert took < 3.0, f"the takeover took {took:.2f} s"


def test_a_role_held_ends_its_work_and_frees_the_lock_when_the_process_stops(engine: Engine,
                                                                            database_url: str) -> None:
    _postgres(engine)

    async def story() -> bool:
        a = Contender("a", engine)
        async with a.leadership.role(SCHEDULER, a.work):
            assert a.running  # the block begins once the first try is settled
        assert not a.running
        lock = Lock(engine, SCHEDULER)
        won = await asyncio.to_thread(lock.try_acquire)
        await asyncio.to_thread(lock.release)
        return won

    assert asyncio.run(story()) is True


def test_on_sqlite_the_roles_are_simply_held(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'one.db'}")

    async def story() -> tuple[bool, bool]:
        a = Contender("a", engine)
        async with a.leadership.role(SCHEDULER, a.work):
            held = a.running and a.leadership.held[SCHEDULER]
        return held, a.running

    try:
        assert asyncio.run(story()) == (True, False)
    finally:
        engine.dispose()
