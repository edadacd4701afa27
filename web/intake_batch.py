"""Intakes that arrive together are written together: one transaction for all the requests
waiting while the previous one committed, each request in a savepoint of its own.

Every intake bumps rows that every other intake bumps too (the day's ticket sequence, the
running totals of its day and category, the rate counter of its address), and each such
row stays locked until its transaction commits. One transaction per request queued every
intake behind the previous one's commit (a WAL flush on PostgreSQL): 49-75 a second. In a
batch those rows are locked once, the commit is paid once, and the requests still see each
other in order (a repeat joins the ticket filed just before it in the same batch).

A request that fails (invalid input, a rate limit, a bug) rolls back its savepoint only and
gets its own error; the others commit. If the commit itself fails, every request of the
batch gets that error, as each would have got it from its own commit. A deadlock with
another process's batch (they take the shared rows in request order) is retried once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_BATCH = 64
_RETRY_STATES = {"40P01", "40001"}  # deadlock detected, serialization failure


class IntakeBatcher:
    def __init__(self, services: Any) -> None:
        self._services = services
        self._waiting: list[tuple[Callable[[Session], Any], asyncio.Future[Any]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Session], T]) -> T:
        """work(session) inside the next batch's transaction; its result, or its exception."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_while_waiting(), name="intake-batch")
        return await future

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                outcomes = await self._services.off_loop(_write_retrying, self._services, [w for w, _ in batch])
            except BaseException as exc:  # the commit failed (or the task was cancelled): all of them
                outcomes = [(False, exc)] * len(batch)
                if not isinstance(exc, Exception):
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
            for (_, future), (ok, value) in zip(batch, outcomes):
                if future.done():  # the client went away
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _write_retrying(services: Any, works: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
    try:
        return _write(services, works)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _RETRY_STATES:
            raise
        log.info("intake batch retried after %s", exc.orig.sqlstate,  # type: ignore[union-attr]
                 extra={"event": "intake_batch_retry", "size": len(works)})
        return _write(services, works)


def _write(services: Any, works: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
    def every(session: Session) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for work in works:
            savepoint = session.begin_nested()
            try:
                value = work(session)
            except Exception as exc:
                if savepoint.is_active:
                    savepoint.rollback()
                if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_STATES:
                    raise  # the whole transaction is lost: retry the batch
                outcomes.append((False, exc))
            else:
                savepoint.commit()
                outcomes.append((True, value))
        return outcomes

    return services.run_sync(every)
