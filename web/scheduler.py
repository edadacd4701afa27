"""Work the app does by the clock: closing resolved tickets nobody rated in time."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from dispatch import follow_up
from web.services import Services

log = logging.getLogger(__name__)

EVERY_SECONDS = 600.0


async def close_unrated_once(services: Services) -> list[str]:
    closed = await services.run(lambda s: follow_up.close_unrated_resolved(s, services.follow_up))
    if closed:
        log.info("closed resolved tickets nobody rated", extra={"event": "auto_close_unrated",
                                                                "count": len(closed)})
    return closed


async def _loop(services: Services) -> None:
    while True:
        try:
            await close_unrated_once(services)
        except Exception:  # a database hiccup must not end the scheduler
            log.exception("scheduled work failed", extra={"event": "scheduler_error"})
        await asyncio.sleep(EVERY_SECONDS)


@contextlib.asynccontextmanager
async def running(services: Services) -> AsyncIterator[None]:
    task = asyncio.create_task(_loop(services), name="scheduler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
