"""The units as the pages list them, kept between requests for a short while."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from dispatch.models import Unit
from dispatch.unit_cache import TTL_SECONDS, UnitCache
from dispatch.units import City, unit_by_code


def _rename(session: Session, code: str, name: str) -> None:
    session.execute(update(Unit).where(Unit.code == code).values(name=name))
    session.flush()


def test_units_are_read_once_then_kept_until_cleared_or_too_old(session: Session, units: City) -> None:
    now = [100.0]
    cache = UnitCache(clock=lambda: now[0])
    housing = unit_by_code(session, "housing")
    assert cache.names(session)[housing.id] == housing.name
    active = cache.active(session)
    assert [u.code for u in active] == [u.code for u in sorted(active, key=lambda u: (u.kind, u.name))]
    assert housing.id in {u.id for u in active}

    _rename(session, "housing", "住建局（改）")
    now[0] += TTL_SECONDS - 1
    assert cache.names(session)[housing.id] != "住建局（改）"   # kept: not yet TTL_SECONDS old
    now[0] += 2
    assert cache.names(session)[housing.id] == "住建局（改）"   # too old: read again

    _rename(session, "housing", "住建局（再改）")
    cache.clear()   # the process that changed it clears at once
    assert {u.id: u.name for u in cache.active(session)}[housing.id] == "住建局（再改）"


def test_an_inactive_unit_is_named_but_not_offered(session: Session, units: City) -> None:
    cache = UnitCache()
    session.execute(update(Unit).where(Unit.code == "housing").values(active=False))
    housing = unit_by_code(session, "housing")
    assert housing.id in cache.names(session)
    assert housing.id not in {u.id for u in cache.active(session)}
