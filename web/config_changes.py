"""What one process changes in the settings every process works from (the routing rules,
the dispatch catalogue, the units the pages list) reaches the others within moments: the changing process tells the "config" topic,
the relay carries it, and each process re-reads what changed. After the relay reconnects
it hears "*" and re-reads everything, since it may have missed a word meanwhile.

A process that tells nobody (the command line: `hotline units retire`, `hotline units
import`; or any process on SQLite, which has no relay) still leaves its mark in the
database (dispatch.unit_cache.stamp): every CHECK_SECONDS each process compares it with
the one its router's catalogue was read at, and re-reads the units and the catalogue when
they differ."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from dispatch import unit_cache
from web.live import LiveHub
from web.relay import CONFIG_TOPIC, EVERYTHING
from web.services import Services

log = logging.getLogger(__name__)

RULES = "rules"
CATALOGUE = "catalogue"
UNITS = "units"
CHECK_SECONDS = 2.0


def readers(services: Services) -> dict[str, Callable[[], Awaitable[None]]]:
    """What each kind of change makes a process re-read."""
    return {RULES: services.refresh_rules, CATALOGUE: services.refresh_catalogue, UNITS: services.forget_units}


def tell(hub: LiveHub, what: str) -> None:
    """This process changed `what` and re-read it already: the others should too."""
    hub.tell_others(CONFIG_TOPIC, {"what": what})


async def follow(services: Services, hub: LiveHub) -> None:
    reread = readers(services)
    async for message in hub.subscribe(CONFIG_TOPIC):
        what = message.get("what") if isinstance(message, dict) else None
        for name, read in reread.items():
            if what in (name, EVERYTHING):
                try:
                    await read()
                    log.info("settings re-read after a change elsewhere", extra={"event": "config_reread",
                                                                                "what": name})
                except Exception:  # a database hiccup: the next change or reconnect tries again
                    log.exception("could not re-read changed settings", extra={"event": "config_reread_error",
                                                                              "what": name})


async def catch_up(services: Services) -> bool:
    """Re-read the units and the catalogue if the database's stamp is not the one they were
    read at (a change by a process that told nobody); True if it did."""
    if await services.read(unit_cache.stamp) == services.catalogue_stamp:
        return False
    await services.forget_units()
    await services.refresh_catalogue()
    return True


async def watch(services: Services, every: float = CHECK_SECONDS) -> None:
    failing = False
    while True:
        await asyncio.sleep(every)
        try:
            if await catch_up(services):
                log.info("units or catalogue changed by another process: re-read",
                         extra={"event": "config_reread", "what": "stamp"})
            failing = False
        except Exception:  # a database hiccup: said once, tried again at the next check
            if not failing:
                log.exception("could not check for changes made elsewhere", extra={"event": "config_stamp_error"})
            failing = True


@contextlib.asynccontextmanager
async def following_changes(services: Services, hub: LiveHub, *,
                            every: float = CHECK_SECONDS) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(follow(services, hub), name="config-follower"),
             asyncio.create_task(watch(services, every), name="config-stamp-watcher")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
