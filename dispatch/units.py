"""The directory of responsible units, loaded from a city file (JSON)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actors import Actor
from dispatch.catalogue_file import CatalogueFile, load_catalogue_file
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import Unit
from dispatch.text_files import read_text_file
from dispatch.unit_admin import (MAX_PROBLEMS, ImportedUnit, ImportPlan, UnitImportError, apply_import,
                                 parent_problems, parse_units, plan_import)
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
    line: int = 0                  # in the city file, for the import's words
    active: bool | None = None     # None: the file does not say


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
    """The city file, its units checked as the units page's import checks them (raises
    UnitImportError naming each problem's line and unit); other faults raise InvalidInput."""
    try:
        text = read_text_file(path)
    except OSError as exc:
        raise InvalidInput("city", Reason.FILE_UNREADABLE, path=str(path), error=repr(exc)) from exc
    found = parse_units(text, max_chars=None)
    problems = parent_problems(found, None)
    if problems:
        raise UnitImportError(problems[:MAX_PROBLEMS])
    units = tuple(UnitSpec(code=u.code, name=u.name, kind=UnitKind(u.kind), parent=u.parent,
                           duty_phone=u.duty_phone, line=u.line, active=u.active) for u in found)
    try:
        raw: dict[str, Any] = json.loads(text)
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
    """What refers to the units (load_city has checked the units themselves)."""
    known = {u.code for u in city.units}
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


def import_city_units(session: Session, actor: Actor, city: City) -> ImportPlan:
    """The city file's units imported as the units page imports them (`hotline units import`):
    checked against the stored units too (a name another unit keeps), all or nothing; a
    change of parent counts as a change; what the file does not say (active, duty_phone)
    stays as it is; each change goes to the staff activity log."""
    units = [ImportedUnit(u.line, u.code, u.name, u.kind.value, u.parent, u.active, u.duty_phone) for u in city.units]
    plan = plan_import(session, units)
    if not plan.empty:
        apply_import(session, actor, units, plan)
    return plan


def check_stored_units(session: Session, city: City, city_file: str) -> None:
    """Refuses a city file none of whose units the database has, when it has units: the
    units were imported from another city file, and serving with this one (the demo city
    when none is set) would show its name and places and propose units nobody has. A
    database without units yet is a city being set up."""
    stored = set(session.scalars(select(Unit.code)))
    if stored and not stored & {u.code for u in city.units}:
        raise InvalidInput("city", Reason.UNITS_FROM_ANOTHER_CITY, file=city_file, city=city.name)


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(Reason.UNIT_NOT_FOUND, code=code)
    return unit
