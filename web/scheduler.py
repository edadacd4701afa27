"""Work the app does by the clock: closing resolved tickets nobody rated in time, chasing
deadlines (near-due warnings, overdue notices, escalation, the units' daily digest), the
classifier's weekly guarded retrain (started in a thread of its own when a week has passed), and
making the daily, weekly and monthly reports, and removing the photos of tickets finished longer ago
than HOTLINE_ATTACHMENT_RETENTION_DAYS.

Each job is a function of (session, now), run in its own transaction, and idempotent:
running it twice (or in two processes) changes nothing the second time."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy.orm import Session

from dispatch import attachment_retention, chasing, follow_up, kb
from dispatch.clock import utcnow
from web import classification, report_files
from web.services import Services

log = logging.getLogger(__name__)

EVERY_SECONDS = 600.0

Job = Callable[[Session, dt.datetime], Any]


def jobs(services: Services) -> list[tuple[str, Job]]:
    """The scheduler's jobs, in the order they run."""
    policy = services.chase_policy()
    listed: list[tuple[str, Job]] = [
        ("auto_close_unrated", lambda s, now: follow_up.close_unrated_resolved(s, services.follow_up, now=now)),
        ("chase_deadlines", lambda s, now: chasing.chase(s, now, policy)),
        ("retrain_classifier", lambda s, now: classification.retrain_if_due(services, s, now)),
        ("kb_review_flags", kb.flag_stale),
    ]
    if services.settings.attachment_retention_days > 0:
        listed.append(("attachment_retention", lambda s, now: expire_photos(s, now, services)))
    if services.settings.reports:
        listed.append(("periodic_reports", lambda s, now: report_files.make_due(s, now, services)))
    return listed


def expire_photos(session: Session, now: dt.datetime, services: Services) -> dict[str, Any] | None:
    """One batch a run (a first run on an old database works through the backlog every 10
    minutes, or at once with `hotline attachments expire`); the log says how many are left."""
    days = services.settings.attachment_retention_days
    swept = attachment_retention.sweep(session, days, now=now, batch=PHOTO_BATCH)
    if not swept.photos:
        return None
    return {"removed": swept.photos, "tickets": len(swept.tickets),
            "left": attachment_retention.count_expired(session, days, now) if swept.more else 0}


PHOTO_BATCH = 500


async def close_unrated_once(services: Services) -> list[str]:
    closed = await services.run(lambda s: follow_up.close_unrated_resolved(s, services.follow_up))
    if closed:
        log.info("closed resolved tickets nobody rated", extra={"event": "auto_close_unrated",
                                                                "count": len(closed)})
    return closed


async def run_once(services: Services, now: dt.datetime | None = None) -> dict[str, Any]:
    """Every job once, each in its own transaction: one failing does not hold up the others."""
    results: dict[str, Any] = {}
    for name, job in jobs(services):
        at = now or utcnow()
        try:
            results[name] = result = await services.run(lambda s, job=job, at=at: job(s, at))  # type: ignore[misc]
        except Exception:  # a database hiccup must not end the scheduler
            log.exception("scheduled work failed", extra={"event": "scheduler_error", "job": name})
            continue
        if result:
            log.info("scheduled work done", extra={"event": name, "result": result})
    try:  # outside the jobs' transactions: chromium takes seconds
        if services.settings.reports:
            results["report_pdfs"] = await report_files.print_waiting(services)
    except Exception:
        log.exception("scheduled work failed", extra={"event": "scheduler_error", "job": "report_pdfs"})
    return results


Clock = Callable[[], dt.datetime]


async def _loop(services: Services, every: float, clock: Clock) -> None:
    while True:
        await run_once(services, clock())
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def running(services: Services, *, every: float = EVERY_SECONDS, clock: Clock = utcnow) -> AsyncIterator[None]:
    """Run the jobs every `every` seconds while the block lasts; `clock` says what time it
    is (a test moves a fake one on to see each job act once, whichever process runs it)."""
    task = asyncio.create_task(_loop(services, every, clock), name="scheduler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
