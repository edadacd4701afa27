"""The directory of responsible units, loaded from a city file (JSON)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.catalogue_file import CatalogueFile, load_catalogue_file
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import Unit
from dispatch.phone import normalise_phone
from dispatch.vocabulary import UnitKind

CITIES_DIR = Path(__file__).parent / "cities"
DEMO_CITY = CITIES_DIR / "jiyuan.json"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: UnitKind
    parent: str | None
    # 值班电话: where chasing texts go; None sends none (the inbox still shows them).
    duty_phone: str | None = None


@dataclass(frozen=True)
class City:
    """A city file: its units, which unit handles each category, which categories the
    township governments handle locally, and place names for jurisdiction."""

    code: str
    name: str
    units: tuple[UnitSpec, ...]
    categories: dict[str, str]
    local_categories: frozenset[str]
    gazetteer: dict[str, tuple[str, ...]]
    # Explicit routing rules the city edits: [{"phrases": [...], "unit": code}], win over the model.
    routing_rules: tuple[dict[str, Any], ...] = ()
    # The dispatch catalogue (派单目录) the file names, seeded into the database once.
    catalogue: CatalogueFile | None = None


def load_city(path: Path) -> City:
    try:
        raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
        units = tuple(
            UnitSpec(code=str(u["code"]), name=str(u["name"]), kind=UnitKind(u.get("kind", "department")),
                     parent=u.get("parent"),
                     duty_phone=normalise_phone(str(u["duty_phone"])) if u.get("duty_phone") else None)
            for u in raw["units"]
        )
        city = City(code=raw["city"]["code"], name=raw["city"]["name"], units=units,
                    categories=dict(raw.get("categories", {})),
                    local_categories=frozenset(raw.get("local_categories", [])),
                    gazetteer={k: tuple(v) for k, v in raw.get("gazetteer", {}).items()},
                    routing_rules=tuple(raw.get("routing_rules", [])),
                    catalogue=load_catalogue_file(_beside(Path(path), str(raw["catalogue"])))
                    if raw.get("catalogue") else None)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("city", Reason.FILE_UNREADABLE, path=str(path), error=repr(exc)) from exc
    _check(city)
    return city


def _beside(city_file: Path, name: str) -> Path:
    """A file the city file names: next to it, else among the packaged cities (a copy of
    the demo city's file elsewhere keeps the demo's catalogue)."""
    here = city_file.parent / name
    return here if here.exists() or Path(name).is_absolute() else CITIES_DIR / name


def _check(city: City) -> None:
    codes = [u.code for u in city.units]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise InvalidInput("city", Reason.DUPLICATE_UNIT_CODES, codes=sorted(duplicates))
    known = set(codes)
    for unit in city.units:
        if unit.parent is not None and unit.parent not in known:
            raise InvalidInput("city", Reason.UNKNOWN_PARENT, unit=unit.code, parent=unit.parent)
    for category, code in city.categories.items():
        if code not in known:
            raise InvalidInput("city", Reason.CATEGORY_UNKNOWN_UNIT, category=category, code=code)
    for code in city.gazetteer:
        if code not in known:
            raise InvalidInput("city", Reason.GAZETTEER_UNKNOWN_UNIT, code=code)
    for rule in city.routing_rules:
        if not rule.get("phrases") or rule.get("unit") not in known:
            raise InvalidInput("city", Reason.BAD_ROUTING_RULE, rule=repr(rule))
    for entry in city.catalogue.entries if city.catalogue else ():
        if entry.unit is not None and entry.unit not in known:
            raise InvalidInput("city", Reason.CATALOGUE_UNKNOWN_UNIT, entry=entry.path, code=entry.unit)


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int


def import_units(session: Session, city: City) -> ImportSummary:
    """Add new units and update changed ones by code; units are never deleted (tickets
    point at them)."""
    existing = {u.code: u for u in session.scalars(select(Unit))}
    added = updated = 0
    for spec in city.units:
        unit = existing.get(spec.code)
        if unit is None:
            unit = Unit(code=spec.code, name=spec.name, kind=spec.kind.value, active=True,
                        duty_phone=spec.duty_phone)
            session.add(unit)
            existing[spec.code] = unit
            added += 1
        elif (unit.name, unit.kind, unit.duty_phone) != (spec.name, spec.kind.value, spec.duty_phone):
            unit.name, unit.kind, unit.duty_phone = spec.name, spec.kind.value, spec.duty_phone
            updated += 1
    session.flush()
    for spec in city.units:
        parent_id = existing[spec.parent].id if spec.parent else None
        if existing[spec.code].parent_id != parent_id:
            existing[spec.code].parent_id = parent_id
    session.flush()
    return ImportSummary(added=added, updated=updated)


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(Reason.UNIT_NOT_FOUND, code=code)
    return unit
