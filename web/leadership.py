"""Roles one process alone may play when several serve one database (the AMI bridge, the
SMS outbox sender, the scheduler, the units' webhook sender), elected through PostgreSQL advisory locks.

A process holds a role while it holds the role's session-level advisory lock, on a
connection of its own kept open for as long as it does the work. When the process dies its
connection closes, PostgreSQL frees the lock, and another process, trying every
RETRY_SECONDS, takes the role over. On SQLite there is one process: the roles are simply
held.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from typing import AsyncContextManager

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

PBX_BRIDGE, SCHEDULER, OUTBOX_SENDER = "pbx_bridge", "scheduler", "outbox_sender"
WEBHOOK_SENDER = "webhook_sender"
ROLES = (PBX_BRIDGE, SCHEDULER, OUTBOX_SENDER, WEBHOOK_SENDER)
# pg_try_advisory_lock(int, int): the first key marks the lock as the hotline's, so other
# users of advisory locks on the same database cannot collide with ours.
NAMESPACE = 12345
RETRY_SECONDS = 1.5

Work = Callable[[], AsyncContextManager[object]]
OnChange = Callable[[str, bool], None]


def lock_key(role: str) -> int:
    """A stable 31-bit key per role name (the same in every process and release)."""
    return zlib.crc32(role.encode()) & 0x7FFFFFFF


class Lock:
    """One role's advisory lock on a dedicated connection (blocking calls: run in a thread)."""

    def __init__(self, engine: Engine, role: str) -> None:
        self.engine, self.role = engine, role
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            won = bool(connection.scalar(text("select pg_try_advisory_lock(:ns, :key)"),
                                         {"ns": NAMESPACE, "key": lock_key(self.role)}))
        except Exception:
            connection.close()
            raise
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        """False once the lock's connection is gone (the server restarted, the link broke)."""
        if self._connection is None:
            return False
        try:
            self._connection.scalar(text("select 1"))
            return True
        except Exception:
            return False

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # a dead connection has released it already
            connection.scalar(text("select pg_advisory_unlock(:ns, :key)"),
                              {"ns": NAMESPACE, "key": lock_key(self.role)})
        with contextlib.suppress(Exception):
            connection.invalidate()  # never back to the pool: a pooled lock would outlive us
            connection.close()


class Leadership:
    """Which roles this process holds, and the tasks that try for them."""

    def __init__(self, engine: Engine, *, retry_seconds: float = RETRY_SECONDS,
                 on_change: OnChange | None = None) -> None:
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.elected = engine.dialect.name == "postgresql"
        self._on_change = on_change
        self.held: dict[str, bool] = {}

    @contextlib.asynccontextmanager
    async def role(self, role: str, work: Work) -> AsyncIterator[None]:
        """Do `work` (an async context manager) while this process holds `role`, for the
        lifetime of this block: started when won, stopped when lost or at the block's end.
        The block begins once the first try is settled (won and started, or lost)."""
        self.held[role] = False
        if not self.elected:
            async with self._holding(role), work():
                yield
            return
        settled = asyncio.Event()
        task = asyncio.create_task(self._hold(role, work, settled), name=f"leader-{role}")
        try:
            await settled.wait()
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _hold(self, role: str, work: Work, settled: asyncio.Event) -> None:
        lock = Lock(self.engine, role)
        while True:
            try:
                won = await asyncio.to_thread(lock.try_acquire)
            except Exception as exc:  # the database is down: keep trying, hold nothing
                log.warning("leader election failed", extra={"event": "leader_error", "role": role,
                                                             "error": type(exc).__name__})
                won = False
            if won:
                try:
                    async with self._holding(role), work():
                        settled.set()
                        while await asyncio.to_thread(lock.still_held):
                            await asyncio.sleep(self.retry_seconds)
                    log.warning("leader lost its lock's connection", extra={"event": "leader_lost", "role": role})
                except Exception:  # the work failed to start or stop: let another process try
                    log.exception("role's work failed", extra={"event": "leader_work_failed", "role": role})
                finally:
                    await asyncio.shield(asyncio.to_thread(lock.release))
            settled.set()
            await asyncio.sleep(self.retry_seconds)

    @contextlib.asynccontextmanager
    async def _holding(self, role: str) -> AsyncIterator[None]:
        self._mark(role, True)
        log.info("this process holds a role", extra={"event": "leader_won", "role": role})
        try:
            yield
        finally:
            self._mark(role, False)
            log.info("this process gave up a role", extra={"event": "leader_released", "role": role})

    def _mark(self, role: str, held: bool) -> None:
        self.held[role] = held
        if self._on_change is not None:
            self._on_change(role, held)
