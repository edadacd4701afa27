"""What one process changes in the settings every process works from (the routing rules,
the dispatch catalogue, the units the pages list) reaches the others within moments: the changing process tells the "config" topic,
the relay carries it, and each process re-reads what changed. After the relay reconnects
it hears "*" and re-reads everything, since it may have missed a word meanwhile."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from web.live import LiveHub
from web.relay import CONFIG_TOPIC, EVERYTHING
from web.services import Services

log = logging.getLogger(__name__)

RULES = "rules"
CATALOGUE = "catalogue"
UNITS = "units"


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


@contextlib.asynccontextmanager
async def following_changes(services: Services, hub: LiveHub) -> AsyncIterator[None]:
    task = asyncio.create_task(follow(services, hub), name="config-follower")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
