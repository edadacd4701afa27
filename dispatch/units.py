"""The directory of responsible units, loaded from a city file (JSON)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.actors import Actor
from dispatch.catalogue_file import CatalogueFile
from dispatch.city_file import read_sections
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.file_checks import parse_json, shown
from dispatch.models import Unit
from dispatch.text_files import read_named_file
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
    """The city file, every section checked before anything reads it: its units as the units
    page's import checks them (raises UnitImportError naming each problem's line and unit),
    the other sections and the catalogue by dispatch/city_file.py (raises FileProblems naming
    each one's section and entry); a file that cannot be read raises InvalidInput."""
    path = Path(path)
    text = read_named_file(path, "city")
    raw = parse_json(text, path.name, "city")
    if not isinstance(raw, dict):
        raise InvalidInput("city", Reason.WRONG_TYPE, where=("file", None, None), should_be="object", got=shown(raw))
    found = parse_units(text, max_chars=None)
    problems = parent_problems(found, None)
    if problems:
        raise UnitImportError(problems[:MAX_PROBLEMS])
    units = tuple(UnitSpec(code=u.code, name=u.name, kind=UnitKind(u.kind), parent=u.parent,
                           duty_phone=u.duty_phone, line=u.line, active=u.active) for u in found)
    sections = read_sections(raw, {u.code for u in units}, path.name, lambda name: _beside(path, name))
    return City(code=sections.code, name=sections.name, units=units, categories=sections.categories,
                local_categories=sections.local_categories, gazetteer=sections.gazetteer,
                routing_rules=sections.routing_rules, catalogue=sections.catalogue)


def _beside(city_file: Path, name: str) -> Path:
    """A file the city file names: next to it, else among the packaged cities (a copy of
    the demo city's file elsewhere keeps the demo's catalogue)."""
    here, packaged = city_file.parent / name, CITIES_DIR / name
    # Neither there: the refusal names the file beside the city file, where it was expected.
    return packaged if not here.exists() and not Path(name).is_absolute() and packaged.exists() else here


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
