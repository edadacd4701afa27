"""A change told on the "config" topic (by another process, through the relay) is re-read here."""
from __future__ import annotations

import asyncio

from sqlalchemy import update

from dispatch.models import Unit
from dispatch.units import unit_by_code
from web import config_changes
from web.live import LiveHub
from web.relay import CONFIG_TOPIC, EVERYTHING
from web.services import Services


def _housing_name(services: Services) -> str:
    return services.run_sync(lambda s: services.units.names(s)[unit_by_code(s, "housing").id])


def _rename(services: Services, name: str) -> None:
    services.run_sync(lambda s: s.execute(update(Unit).where(Unit.code == "housing").values(name=name)))


def test_units_changed_in_another_process_are_read_again_here(services: Services) -> None:
    async def scenario() -> None:
        hub = LiveHub()
        async with config_changes.following_changes(services, hub):
            while not hub.subscribers(CONFIG_TOPIC):
                await asyncio.sleep(0.01)
            before = _housing_name(services)
            _rename(services, "住建局（别处改）")
            assert _housing_name(services) == before   # kept: nobody said anything yet
            hub.deliver(CONFIG_TOPIC, {"what": config_changes.UNITS})
            for _ in range(100):
                if _housing_name(services) != before:
                    break
                await asyncio.sleep(0.01)
            assert _housing_name(services) == "住建局（别处改）"
            _rename(services, "住建局（重连后）")
            hub.deliver(CONFIG_TOPIC, {"what": EVERYTHING})   # the relay reconnected: read everything
            for _ in range(100):
                if _housing_name(services) == "住建局（重连后）":
                    break
                await asyncio.sleep(0.01)
            assert _housing_name(services) == "住建局（重连后）"

    asyncio.run(scenario())
