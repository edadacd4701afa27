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


def test_a_unit_change_nobody_told_is_caught_up_with_from_the_database_stamp(services: Services) -> None:
    from dispatch import catalogue, unit_admin
    from web.cli_db import cli_actor

    async def scenario() -> None:
        await services.refresh_catalogue()
        assert not await config_changes.catch_up(services)     # nothing changed since it was read
        entry = services.run_sync(lambda s: next(e for e in catalogue.current_entries(s) if e.unit_code == "gas"))

        def retire(session) -> None:  # type: ignore[no-untyped-def]
            gas = unit_admin.unit_row(session, unit_by_code(session, "gas").id)
            unit_admin.update_unit(session, cli_actor(), gas.id, name=gas.name, kind=gas.kind,
                                   parent_code=gas.parent_code, active=False)
        services.run_sync(retire)     # as the command line does it: the database alone knows
        assert services.router.catalogue.find(entry.code).unit_active   # type: ignore[union-attr]
        assert await config_changes.catch_up(services)
        assert not services.router.catalogue.find(entry.code).unit_active   # type: ignore[union-attr]
        assert not await config_changes.catch_up(services)

    asyncio.run(scenario())
