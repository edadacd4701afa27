"""Intakes that arrive together are written together: one transaction for all the requests
waiting while the previous one committed, each request in a savepoint of its own.

Every intake bumps rows that every other intake bumps too (the day's ticket sequence, the
running totals of its day and category, the rate counter of its address), and each such
row stays locked until its transaction commits. One transaction per request queued every
intake behind the previous one's commit (a WAL flush on PostgreSQL): 49-75 a second. In a
batch those rows are locked once, the commit is paid once, and the requests still see each
other in order (a repeat joins the ticket filed just before it in the same batch).

The batch is written by dispatch.intake_many, with the statements of about one intake
whatever its size. Should that fail (a bug, a constraint), the batch is written again one
request at a time, each in a savepoint: a request that fails then rolls back its savepoint
only and gets its own error; the others commit. If the commit itself fails, every request of the
batch gets that error, as each would have got it from its own commit. A deadlock with
another process's batch (they take the shared rows in request order) is retried once.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dispatch.intake_many import Outcome, Submission
from web.batching import cancel, settle

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_BATCH = 64
_RETRY_STATES = {"40P01", "40001"}  # deadlock detected, serialization failure


WriteMany = Callable[[Session, list[Submission]], list[Outcome]]
WriteOne = Callable[[Session, Submission], Any]


class IntakeBatcher:
    def __init__(self, services: Any, write_many: WriteMany, write_one: WriteOne) -> None:
        """write_many(session, batch) writes a batch (dispatch.intake_many); write_one(session,
        submission) one request, for when the batch as a whole failed."""
        self._services = services
        self._write_many = write_many
        self._write_one = write_one
        self._waiting: list[tuple[Submission, asyncio.Future[Any]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def run(self, submission: Submission) -> Any:
        """The submission's result in the next batch's transaction, or its exception."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((submission, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_while_waiting(), name="intake-batch")
        return await future

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                outcomes = await self._services.off_loop(_write_retrying, self._services, self._write_many,
                                                         self._write_one, [s for s, _ in batch])
            except BaseException as exc:  # the commit failed (or the task was cancelled): all of them
                outcomes = [(False, exc)] * len(batch)
                if not isinstance(exc, Exception):
                    cancel(batch)
                    raise
            settle(batch, outcomes)


def _write_retrying(services: Any, write_many: WriteMany, write_one: WriteOne,
                    batch: list[Submission]) -> list[tuple[bool, Any]]:
    try:
        return _retrying(lambda: services.run_sync(lambda session: write_many(session, batch)), len(batch))
    except Exception as exc:
        if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_STATES:
            raise
        log.warning("intake batch written one by one after %s", type(exc).__name__,
                    extra={"event": "intake_batch_one_by_one", "size": len(batch), "error": type(exc).__name__})
    return _retrying(lambda: _write_one_by_one(services, write_one, batch), len(batch))


def _retrying(write: Callable[[], T], size: int) -> T:
    try:
        return write()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _RETRY_STATES:
            raise
        log.info("intake batch retried after %s", exc.orig.sqlstate,  # type: ignore[union-attr]
                 extra={"event": "intake_batch_retry", "size": size})
        return write()


def _write_one_by_one(services: Any, write_one: WriteOne, batch: list[Submission]) -> list[tuple[bool, Any]]:
    def every(session: Session) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        for submission in batch:
            savepoint = session.begin_nested()
            try:
                value = write_one(session, submission)
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
