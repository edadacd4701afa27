"""The dispatch catalogue (派单目录) in the database: seeded once from the city file, then
changed by supervisors one entry at a time. Every save is a new version: the entry's row
is retired and a new one written, so tickets keep the entry they were dispatched under and
new tickets take the new one.

`current_entries(session)` is what other code reads (the console's search, the Open311
service list): code, the three levels, the unit, the terms.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.actors import SUPERVISING_ROLES, Actor, require_role
from dispatch.catalogue_match import Catalogue, Item
from dispatch.clock import utcnow
from dispatch.errors import InvalidInput, NotFound, Reason
from dispatch.models import CatalogueEntry, CatalogueVersion, Unit
from dispatch.staff_activity import ActivityKind, record
from dispatch.units import City

MAX_TERMS = 60
TERM_CHARS = (2, 30)   # one character would match nearly every text
NOTE_MAX = 200
_SEPARATORS = re.compile(r"[,，、;；\s]+")


def seed(session: Session, city: City, *, now: dt.datetime | None = None) -> bool:
    """Write the city file's catalogue as version 1, once (units must be imported first).
    False when there is nothing to do: a catalogue is already there, or the city has none."""
    if city.catalogue is None or session.scalar(select(func.count(CatalogueVersion.id))):
        return False
    units: dict[str, int] = {code: id_ for code, id_ in session.execute(select(Unit.code, Unit.id))}
    if any(e.unit is not None and e.unit not in units for e in city.catalogue.entries):
        return False   # the city's units are not imported yet (`hotline units import`)
    version = CatalogueVersion(created_at=now or utcnow(), created_by="城市配置文件", note="按城市配置文件初始化")
    session.add(version)
    session.flush()
    session.add_all(CatalogueEntry(code=e.code, version_id=version.id, level1=e.level1, level2=e.level2,
                                   level3=e.level3, unit_id=units.get(e.unit) if e.unit else None, local=e.local,
                                   deadline_class=e.deadline_class, terms=list(e.terms))
                    for e in city.catalogue.entries)
    session.flush()
    return True


def current_entries(session: Session) -> list[Item]:
    """The entries new tickets are dispatched under, in the taxonomy's order."""
    units = {u.id: u for u in session.scalars(select(Unit))}
    rows = session.scalars(select(CatalogueEntry).where(CatalogueEntry.retired_version_id.is_(None))
                           .order_by(CatalogueEntry.code))
    return [item_of(row, units) for row in rows]


def item_of(row: CatalogueEntry, units: dict[int, Unit]) -> Item:
    unit = units.get(row.unit_id) if row.unit_id else None
    return Item(code=row.code, level1=row.level1, level2=row.level2, level3=row.level3,
                unit_code=unit.code if unit else None, unit_name=unit.name if unit else None, local=row.local,
                deadline_class=row.deadline_class, terms=tuple(row.terms or ()), entry_id=row.id,
                unit_active=unit.active if unit else True)


def latest_version(session: Session) -> int | None:
    return session.scalar(select(func.max(CatalogueVersion.id)))


def load(session: Session) -> Catalogue:
    """The current catalogue, for routing and the console's search."""
    return Catalogue(current_entries(session), version=latest_version(session))


def from_city(city: City) -> Catalogue:
    """The city file's catalogue without a database (benchmarks, a first start)."""
    names = {u.code: u.name for u in city.units}
    entries = city.catalogue.entries if city.catalogue else ()
    return Catalogue(Item(code=e.code, level1=e.level1, level2=e.level2, level3=e.level3, unit_code=e.unit,
                          unit_name=names.get(e.unit) if e.unit else None, local=e.local,
                          deadline_class=e.deadline_class, terms=e.terms) for e in entries)


def current_row(session: Session, code: str) -> CatalogueEntry:
    row = session.scalar(select(CatalogueEntry).where(CatalogueEntry.code == code,
                                                      CatalogueEntry.retired_version_id.is_(None)))
    if row is None:
        raise NotFound(Reason.CATALOGUE_ENTRY_NOT_FOUND, code=code)
    return row


def parse_terms(text: str) -> list[str]:
    """'燃气, 天然气、煤气' -> ['燃气', '天然气', '煤气'], checked."""
    terms = list(dict.fromkeys(t for t in _SEPARATORS.split(text or "") if t))
    if not terms:
        raise InvalidInput("terms", Reason.REQUIRED)
    if len(terms) > MAX_TERMS:
        raise InvalidInput("terms", Reason.TOO_MANY_TERMS, limit=MAX_TERMS)
    low, high = TERM_CHARS
    for term in terms:
        if not low <= len(term) <= high:
            raise InvalidInput("terms", Reason.PHRASE_LENGTH, phrase=term, low=low, high=high)
    return terms


@dataclass(frozen=True)
class EntryChange:
    """What a supervisor saves for one entry: the unit (None with `local` alone: the
    township where it happened, else the unit kept from before), the terms and the class."""

    unit_code: str | None
    local: bool
    terms_text: str
    deadline_class: str | None
    note: str | None = None


def edit_entry(session: Session, city: City, code: str, change: EntryChange, actor: Actor, *,
               now: dt.datetime | None = None) -> CatalogueEntry:
    """Save a change to one entry as a new catalogue version; returns the entry's new row."""
    require_role(actor, SUPERVISING_ROLES, "edit the dispatch catalogue")
    old = current_row(session, code)
    unit_id = None
    if change.unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == change.unit_code))
        if unit is None:
            raise InvalidInput("unit", Reason.UNKNOWN_UNIT, code=change.unit_code)
        if not unit.active:
            raise InvalidInput("unit", Reason.CATALOGUE_UNIT_RETIRED, unit=unit.name)
        unit_id = unit.id
    elif not change.local:
        raise InvalidInput("unit", Reason.UNIT_REQUIRED, what="unit")
    classes = city.catalogue.deadline_classes if city.catalogue else {}
    deadline_class = change.deadline_class or None
    if deadline_class is not None and deadline_class not in classes:
        raise InvalidInput("deadline_class", Reason.UNKNOWN_DEADLINE_CLASS, code=deadline_class)
    terms = parse_terms(change.terms_text)
    note = (change.note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise InvalidInput("note", Reason.TOO_LONG, limit=NOTE_MAX)
    now = now or utcnow()
    version = CatalogueVersion(created_at=now, created_by=actor.label, note=note)
    session.add(version)
    session.flush()
    old.retired_version_id = version.id
    new = CatalogueEntry(code=old.code, version_id=version.id, level1=old.level1, level2=old.level2,
                         level3=old.level3, unit_id=unit_id, local=change.local, deadline_class=deadline_class,
                         terms=terms)
    session.add(new)
    session.flush()
    record(session, ActivityKind.CATALOGUE_CHANGED, actor, target=f"catalogue:{old.code}", now=now,
           detail={"path": f"{old.level1}/{old.level2}/{old.level3}", "version": version.id,
                   "unit": change.unit_code, "local": change.local, "deadline_class": deadline_class,
                   "terms": "、".join(terms), "note": note})
    return new


def move_unit_entries(session: Session, actor: Actor, unit: Unit, successor: Unit, note: str, *,
                      now: dt.datetime | None = None) -> list[str]:
    """A retired unit's entries route to its successor (承接单位) from now on: one new version
    writes them all, each entry's change in the activity log as a supervisor's edit is."""
    rows = list(session.scalars(select(CatalogueEntry).where(CatalogueEntry.unit_id == unit.id,
                                                             CatalogueEntry.retired_version_id.is_(None))
                                .order_by(CatalogueEntry.code)))
    if not rows:
        return []
    now = now or utcnow()
    version = CatalogueVersion(created_at=now, created_by=actor.label, note=note[:NOTE_MAX])
    session.add(version)
    session.flush()
    for old in rows:
        old.retired_version_id = version.id
        session.add(CatalogueEntry(code=old.code, version_id=version.id, level1=old.level1, level2=old.level2,
                                   level3=old.level3, unit_id=successor.id, local=old.local,
                                   deadline_class=old.deadline_class, terms=list(old.terms or ())))
        record(session, ActivityKind.CATALOGUE_CHANGED, actor, target=f"catalogue:{old.code}", now=now,
               detail={"path": f"{old.level1}/{old.level2}/{old.level3}", "version": version.id,
                       "unit": [unit.code, successor.code], "note": note[:NOTE_MAX]})
    session.flush()
    return [row.code for row in rows]


@dataclass(frozen=True)
class VersionRow:
    id: int
    created_at: dt.datetime
    created_by: str
    note: str | None
    entries: int              # entries this version wrote
    codes: tuple[str, ...]    # the first few of them, for the page


def versions(session: Session, limit: int = 50) -> list[VersionRow]:
    """The newest versions first, with the entries each one wrote."""
    rows = list(session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.id.desc()).limit(limit)))
    counts: dict[int, int] = {version_id: n for version_id, n in session.execute(
        select(CatalogueEntry.version_id, func.count(CatalogueEntry.id))
        .where(CatalogueEntry.version_id.in_([r.id for r in rows])).group_by(CatalogueEntry.version_id))}
    result = []
    for row in rows:
        codes: tuple[str, ...] = ()
        if counts.get(row.id, 0) <= 5:
            codes = tuple(session.scalars(select(CatalogueEntry.code).where(CatalogueEntry.version_id == row.id)))
        result.append(VersionRow(row.id, row.created_at, row.created_by, row.note, counts.get(row.id, 0), codes))
    return result


def entry_history(session: Session, code: str) -> list[CatalogueEntry]:
    """Every row an entry has had, newest first."""
    return list(session.scalars(select(CatalogueEntry).where(CatalogueEntry.code == code)
                                .order_by(CatalogueEntry.id.desc())))


def find_current(session: Session, value: str) -> CatalogueEntry:
    """The current entry by its code ("010215") or its level path ("城乡建设/住房保障与房地产/物业服务",
    levels apart by "/" or ">"): what a transfer's `category` names."""
    value = (value or "").strip()
    levels = [part.strip() for part in re.split(r"[/>]", value)]
    if len(levels) == 3 and all(levels):
        condition = (CatalogueEntry.level1 == levels[0]) & (CatalogueEntry.level2 == levels[1]) \
            & (CatalogueEntry.level3 == levels[2])
    else:
        condition = CatalogueEntry.code == value
    row = session.scalar(select(CatalogueEntry).where(condition, CatalogueEntry.retired_version_id.is_(None)))
    if row is None:
        raise InvalidInput("category", Reason.UNKNOWN_CATEGORY, value=value[:60])
    return row
