"""The dispatch catalogue (派单目录) as a city file names it: a three-level taxonomy (CSV:
level1, level2, level3) and the city's mapping of it (JSON): which unit handles each
category, or the township where it happened (属地), an optional deadline class, and the
terms that find it in a citizen's text. What a level leaves out it takes from the level
above; an entry's terms are its own, its level 2's and the words of both names."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.errors import FileProblems, InvalidInput, Reason
from dispatch.file_checks import Findings, parse_json
from dispatch.text_files import read_named_file

LOCAL = "属地"
LEVELS = ("level1", "level2", "level3")
SECTIONS = ("taxonomy", "deadline_classes", *LEVELS)
ENTRY_KEYS = ("unit", "local", "deadline_class", "terms")
CLASS_KEYS = ("name", "working_days")
# Words of a category's name that say nothing about where a text belongs.
_EMPTY_WORDS = frozenset({"其他", "管理", "问题", "政策", "服务", "建设", "事务", "工作", "其他补贴", "其他污染"})
_NAME_SPLIT = re.compile(r"[和与及、/]")


@dataclass(frozen=True)
class DeadlineClass:
    code: str
    name: str
    working_days: int


@dataclass(frozen=True)
class EntrySpec:
    """One level-3 entry as the city file describes it."""

    code: str                     # "010203": level 1, 2 and 3 by their order in the taxonomy
    level1: str
    level2: str
    level3: str
    unit: str | None              # a unit code; with `local`, the one for a text naming no place
    local: bool
    deadline_class: str | None
    terms: tuple[str, ...]

    @property
    def path(self) -> str:
        return path_of(self.level1, self.level2, self.level3)


def path_of(*levels: str) -> str:
    return " / ".join(levels)


def name_terms(name: str) -> list[str]:
    """'城镇居民医疗保险' -> itself; '失职渎职' -> itself; '宅基地纠纷和土地流转' -> its parts."""
    parts = [name] + [p for p in _NAME_SPLIT.split(name) if p != name]
    return [p for p in parts if len(p) >= 2 and p not in _EMPTY_WORDS]


@dataclass(frozen=True)
class CatalogueFile:
    entries: tuple[EntrySpec, ...]
    deadline_classes: dict[str, DeadlineClass]

    def without_unit(self) -> dict[str, int]:
        """Level 1 -> how many of its entries name no unit and are not 属地: tickets filed
        under them wait for someone to pick a unit. Worth a warning, not a refusal: a city
        may leave a category to the operators on purpose."""
        counts: dict[str, int] = {}
        for entry in self.entries:
            if entry.unit is None and not entry.local:
                counts[entry.level1] = counts.get(entry.level1, 0) + 1
        return counts


def load_catalogue_file(path: Path, units: Collection[str] | None = None) -> CatalogueFile:
    """The catalogue file at `path`, checked (against the city's unit codes when given):
    raises InvalidInput for a file that cannot be read, FileProblems naming every mistake
    in one that can."""
    catalogue, problems = read_catalogue(path, units)
    if catalogue is None:
        raise FileProblems(Path(path).name, problems)
    return catalogue


def read_catalogue(path: Path, units: Collection[str] | None = None) -> tuple[CatalogueFile | None, list[InvalidInput]]:
    """The catalogue, or None and every mistake found in it. A file, or a taxonomy CSV, that
    cannot be read raises its InvalidInput: nothing else can be checked without it."""
    path = Path(path)
    raw = parse_json(read_named_file(path, "catalogue"), path.name, "catalogue")
    found, top = Findings("catalogue"), ("catalogue_file", path.name, None)
    if not found.kind(raw, "object", top):
        return None, found.problems
    found.repeated(raw, top)
    found.known_keys(raw, SECTIONS, top)
    taxonomy = found.required(raw, "taxonomy", top)
    if taxonomy is None or found.text(taxonomy, ("catalogue_file", path.name, "taxonomy")) is None:
        return None, found.problems
    rows = read_taxonomy(path.parent / taxonomy.strip())
    classes = _deadline_classes(raw.get("deadline_classes", {}), found)
    # An entry may name a class whose own definition is wrong: that one mistake is told once.
    declared = set(raw["deadline_classes"]) if isinstance(raw.get("deadline_classes"), dict) else set(classes)
    layers = [_layers(raw.get(level, {}), level, rows, declared, units, found) for level in LEVELS]
    if found.problems:
        return None, found.problems
    return CatalogueFile(entries=_entries(rows, *layers), deadline_classes=classes), []


def _deadline_classes(raw: Any, found: Findings) -> dict[str, DeadlineClass]:
    classes: dict[str, DeadlineClass] = {}
    if not found.kind(raw, "object", ("deadline_classes", None, None)):
        return classes
    found.repeated(raw, ("deadline_classes", None, None))
    for code, spec in raw.items():
        if not found.kind(spec, "object", ("deadline_classes", code, None)):
            continue
        found.known_keys(spec, CLASS_KEYS, ("deadline_classes", code, None))
        name = found.required(spec, "name", ("deadline_classes", code, None))
        days = found.required(spec, "working_days", ("deadline_classes", code, None))
        name = found.text(name, ("deadline_classes", code, "name")) if name is not None else None
        if days is not None and found.kind(days, "positive_integer", ("deadline_classes", code, "working_days")) \
                and name is not None:
            classes[code] = DeadlineClass(code, name, days)
    return classes


def _layers(raw: Any, level: str, rows: list[tuple[str, str, str]], classes: Collection[str],
            units: Collection[str] | None, found: Findings) -> dict[str, Any]:
    """One level's mapping (its keys "level1", "level1/level2" or "level1/level2/level3"),
    each entry checked: a name the taxonomy lacks, a key of another meaning, a unit or
    deadline class that does not exist, a value of the wrong kind."""
    if not found.kind(raw, "object", (level, None, None)):
        return {}
    found.repeated(raw, (level, None, None))
    depth = LEVELS.index(level) + 1
    names = {"/".join(row[:depth]) for row in rows}
    for key, entry in raw.items():
        where = (level, key, None)
        if key not in names:
            found.add(InvalidInput("catalogue", Reason.CATALOGUE_UNKNOWN_CATEGORY, where=where, depth=depth))
        if not found.kind(entry, "object", where):
            continue
        found.known_keys(entry, ENTRY_KEYS, where)
        unit = entry.get("unit")
        if found.kind(unit, "text_or_null", (level, key, "unit")) and unit is not None \
                and units is not None and unit not in units:
            found.add(InvalidInput("catalogue", Reason.CATALOGUE_UNKNOWN_UNIT, where=where, code=unit))
        if "local" in entry:
            found.kind(entry["local"], "boolean", (level, key, "local"))
        if "terms" in entry:
            found.kind(entry["terms"], "texts", (level, key, "terms"))
        deadline_class = entry.get("deadline_class")
        if deadline_class is not None and found.kind(deadline_class, "text", (level, key, "deadline_class")) \
                and deadline_class not in classes:
            found.add(InvalidInput("catalogue", Reason.CATALOGUE_UNKNOWN_CLASS, where=where, code=deadline_class))
    return dict(raw)


def read_taxonomy(path: Path) -> list[tuple[str, str, str]]:
    """The taxonomy's rows (CSV with a header naming level1, level2 and level3, as Excel
    saves it too); a row that is not three names is refused by its line."""
    reader = csv.reader(io.StringIO(read_named_file(path, "taxonomy"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not set(LEVELS) <= set(header):
        raise InvalidInput("catalogue", Reason.TAXONOMY_HEADER, name=path.name, header=",".join(header))
    where = [header.index(level) for level in LEVELS]
    rows = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InvalidInput("catalogue", Reason.TAXONOMY_COLUMNS, name=path.name, line=reader.line_num,
                               expected=len(header), count=len(row))
        l1, l2, l3 = (row[i].strip() for i in where)
        for level, cell in zip(LEVELS, (l1, l2, l3)):
            if not cell:
                # A blank level would make an entry nobody can name or search for.
                raise InvalidInput("catalogue", Reason.TAXONOMY_EMPTY_CELL, name=path.name, line=reader.line_num,
                                   column=level)
        rows.append((l1, l2, l3))
    return rows


def _entries(rows: list[tuple[str, str, str]], level1: dict[str, Any], level2: dict[str, Any],
             level3: dict[str, Any]) -> tuple[EntrySpec, ...]:
    numbers: dict[tuple[str, ...], int] = {}
    children: dict[tuple[str, ...], int] = {}  # numbered so far under each parent

    def number(key: tuple[str, ...]) -> int:
        if key not in numbers:
            parent = key[:-1]
            children[parent] = numbers[key] = children.get(parent, 0) + 1
        return numbers[key]

    entries = []
    for l1, l2, l3 in dict.fromkeys(rows):
        code = f"{number((l1,)):02d}{number((l1, l2)):02d}{number((l1, l2, l3)):02d}"
        layers = [level1.get(l1, {}), level2.get(f"{l1}/{l2}", {}), level3.get(f"{l1}/{l2}/{l3}", {})]
        unit, local = None, False
        for layer in layers:   # the most specific level that names a unit (or 属地) wins
            if "unit" in layer or "local" in layer:
                local = bool(layer.get("local", False))
                # 属地 alone keeps the unit above: it takes a text that names no place.
                unit = layer.get("unit", unit)
        deadline_class = next((layer["deadline_class"] for layer in reversed(layers) if layer.get("deadline_class")),
                              None)
        terms = [*layers[2].get("terms", []), *name_terms(l3), *layers[1].get("terms", []), *name_terms(l2)]
        entries.append(EntrySpec(code=code, level1=l1, level2=l2, level3=l3, unit=unit, local=local,
                                 deadline_class=deadline_class, terms=tuple(dict.fromkeys(str(t) for t in terms))))
    return tuple(entries)
