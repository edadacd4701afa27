"""The dispatch catalogue (派单目录) as a city file names it: a three-level taxonomy (CSV:
level1, level2, level3) and the city's mapping of it (JSON): which unit handles each
category, or the township where it happened (属地), an optional deadline class, and the
terms that find it in a citizen's text. What a level leaves out it takes from the level
above; an entry's terms are its own, its level 2's and the words of both names."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.errors import InvalidInput, Reason
from dispatch.text_files import read_text_file

LOCAL = "属地"
LEVELS = ("level1", "level2", "level3")
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


def load_catalogue_file(path: Path) -> CatalogueFile:
    try:
        raw: dict[str, Any] = json.loads(read_text_file(path))
        rows = read_taxonomy(Path(path).parent / raw["taxonomy"])
        classes = {code: DeadlineClass(code, str(c["name"]), int(c["working_days"]))
                   for code, c in raw.get("deadline_classes", {}).items()}
        entries = _entries(rows, raw.get("level1", {}), raw.get("level2", {}), raw.get("level3", {}))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput("catalogue", Reason.FILE_UNREADABLE, path=str(path), error=repr(exc)) from exc
    for entry in entries:
        if entry.deadline_class is not None and entry.deadline_class not in classes:
            raise InvalidInput("catalogue", Reason.UNKNOWN_DEADLINE_CLASS, code=entry.deadline_class)
    return CatalogueFile(entries=entries, deadline_classes=classes)


def read_taxonomy(path: Path) -> list[tuple[str, str, str]]:
    """The taxonomy's rows (CSV with a header naming level1, level2 and level3, as Excel
    saves it too); a row that is not three names is refused by its line."""
    reader = csv.reader(io.StringIO(read_text_file(path), newline=""))
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
