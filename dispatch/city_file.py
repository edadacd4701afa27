"""The sections of a city file besides its units (dispatch/unit_admin.py checks those): city,
categories, local_categories, gazetteer, routing_rules and the catalogue it names. Each is
checked against what reads it (the router, the gazetteer, the catalogue's seeding), and every
mistake is named by its section, entry and what is wrong, all of them at once and before
anything is written: a value of the wrong kind would otherwise fail deep inside the hotline,
or be read wrong without a word (a place name written as one string is a list of its
characters to Python, and the gazetteer drops names of one character)."""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.catalogue_file import CatalogueFile, read_catalogue
from dispatch.errors import FileProblems, InvalidInput, Reason
from dispatch.file_checks import Findings

SECTIONS = ("city", "units", "categories", "local_categories", "gazetteer", "routing_rules", "catalogue")
RULE_KEYS = ("phrases", "unit")
# A routing rule's phrases, from the file as from the rules page (dispatch/routing_rules.py).
MAX_PHRASES = 20
PHRASE_CHARS = (2, 30)  # one character would match nearly every complaint
PLACE_CHARS = 2         # the gazetteer leaves shorter names out (dispatch/routing.py)
_FILE = ("file", None, None)


@dataclass(frozen=True)
class Sections:
    code: str
    name: str
    categories: dict[str, str]
    local_categories: frozenset[str]
    gazetteer: dict[str, tuple[str, ...]]
    routing_rules: tuple[dict[str, Any], ...]
    catalogue: CatalogueFile | None


def read_sections(raw: dict[str, Any], units: Collection[str], name: str,
                  catalogue_path: Callable[[str], Path]) -> Sections:
    """The sections of the city file `raw` (an object), its units' codes known; raises
    FileProblems naming every mistake. `catalogue_path` finds the file "catalogue" names."""
    found = Findings("city")
    found.repeated(raw, _FILE)
    found.known_keys(raw, SECTIONS, _FILE)
    code, city_name = _city(raw, found)
    categories = _categories(raw.get("categories", {}), units, found)
    # Named against the categories as written: one wrong category is told once, not twice.
    named = set(raw["categories"]) if isinstance(raw.get("categories"), dict) else None
    local = _local_categories(raw.get("local_categories", []), named, found)
    gazetteer = _gazetteer(raw.get("gazetteer", {}), units, found)
    rules = _routing_rules(raw.get("routing_rules", []), units, found)
    catalogue = None
    if raw.get("catalogue") is not None and found.text(raw["catalogue"], ("catalogue", None, None)):
        try:
            catalogue, problems = read_catalogue(catalogue_path(raw["catalogue"].strip()), units)
        except InvalidInput as unreadable:
            problems = [unreadable]
        found.extend(problems)
    if found.problems:
        raise FileProblems(name, found.problems)
    assert code is not None and city_name is not None
    return Sections(code, city_name, categories, local, gazetteer, rules, catalogue)


def _city(raw: dict[str, Any], found: Findings) -> tuple[str | None, str | None]:
    city = found.required(raw, "city", _FILE)
    if city is None or not found.kind(city, "object", ("city", None, None)):
        return None, None
    code, name = (found.required(city, key, ("city", None, None)) for key in ("code", "name"))
    if city.get("province") is not None:
        found.text(city["province"], ("city", None, "province"))
    return (found.text(code, ("city", None, "code")) if code is not None else None,
            found.text(name, ("city", None, "name")) if name is not None else None)


def _categories(raw: Any, units: Collection[str], found: Findings) -> dict[str, str]:
    """Category (the classifier's label) -> the unit that handles it."""
    categories: dict[str, str] = {}
    if not found.kind(raw, "object", ("categories", None, None)):
        return categories
    found.repeated(raw, ("categories", None, None))
    for category, code in raw.items():
        if not category.strip():
            found.add(InvalidInput("city", Reason.EMPTY_VALUE, where=("categories", category, None)))
            continue
        code = found.text(code, ("categories", category, None))
        if code is None:
            continue
        if code not in units:
            found.add(InvalidInput("city", Reason.CATEGORY_UNKNOWN_UNIT, category=category, code=code))
        categories[category] = code
    return categories


def _local_categories(raw: Any, categories: Collection[str] | None, found: Findings) -> frozenset[str]:
    """The categories township governments handle where it happened (属地)."""
    if not found.kind(raw, "texts", ("local_categories", None, None)):
        return frozenset()
    for category in raw:
        if categories is not None and category not in categories:
            found.add(InvalidInput("city", Reason.LOCAL_CATEGORY_UNKNOWN, category=category))
    return frozenset(raw)


def _gazetteer(raw: Any, units: Collection[str], found: Findings) -> dict[str, tuple[str, ...]]:
    """Unit code -> the place names that say a text is about its area. A name under two
    units would go to whichever the gazetteer read last: refused, not guessed."""
    gazetteer: dict[str, tuple[str, ...]] = {}
    if not found.kind(raw, "object", ("gazetteer", None, None)):
        return gazetteer
    found.repeated(raw, ("gazetteer", None, None))
    owner: dict[str, str] = {}
    for code, names in raw.items():
        if code not in units:
            found.add(InvalidInput("city", Reason.GAZETTEER_UNKNOWN_UNIT, code=code))
        if not found.kind(names, "texts", ("gazetteer", code, None)):
            continue
        if not names:
            found.add(InvalidInput("city", Reason.EMPTY_VALUE, where=("gazetteer", code, None)))
        for place in names:
            if len(place.strip()) < PLACE_CHARS:
                found.add(InvalidInput("city", Reason.PLACE_NAME_TOO_SHORT, code=code, name=place, low=PLACE_CHARS))
            elif owner.setdefault(place, code) != code:
                found.add(InvalidInput("city", Reason.PLACE_NAME_REPEATED, name=place, first=owner[place], second=code))
        gazetteer[code] = tuple(names)
    return gazetteer


def _routing_rules(raw: Any, units: Collection[str], found: Findings) -> tuple[dict[str, Any], ...]:
    """[{"phrases": [...], "unit": code}]: a text with any of the phrases goes to the unit."""
    if not found.kind(raw, "list", ("routing_rules", None, None)):
        return ()
    rules = []
    low, high = PHRASE_CHARS
    for number, rule in enumerate(raw, start=1):
        where = ("routing_rules", number, None)
        if not found.kind(rule, "object", where):
            continue
        found.known_keys(rule, RULE_KEYS, where)
        phrases, unit = (found.required(rule, key, where) for key in RULE_KEYS)
        if phrases is not None and found.kind(phrases, "texts", ("routing_rules", number, "phrases")):
            if not phrases:
                found.add(InvalidInput("city", Reason.EMPTY_VALUE, where=("routing_rules", number, "phrases")))
            if len(phrases) > MAX_PHRASES:
                found.add(InvalidInput("city", Reason.RULE_TOO_MANY_PHRASES, number=number, limit=MAX_PHRASES))
            for phrase in phrases:
                if not low <= len(phrase) <= high:
                    found.add(InvalidInput("city", Reason.RULE_PHRASE_LENGTH, number=number, phrase=phrase, low=low,
                                           high=high))
        if unit is not None and found.kind(unit, "text", ("routing_rules", number, "unit")) and unit not in units:
            found.add(InvalidInput("city", Reason.RULE_UNKNOWN_UNIT, number=number, code=unit))
        rules.append(dict(rule))
    return tuple(rules)
