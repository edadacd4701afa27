"""The dispatch catalogue in memory: which level-3 entry a text belongs to, and the search an
operator types into. Pure: built from the current entries (dispatch/catalogue.py) and
rebuilt when a supervisor saves a change.

Matching: the classifier gives level 1; the entries' own terms found in the text pick
level 2 and 3. An entry scores the characters of its terms the text contains (a longer
term says more). Within the model's level 1 any hit counts; an entry of another level 1
(the model knows 7 of the 15) must score twice as much and at least FOREIGN_MIN_SCORE.
Among equal scores, the entry whose own terms (not its level 2's) were found wins; with
none found (a level-2 word alone), the level 2's 其他 entry.
With no hit, the level 1's own 其他 entry stands for "level 1 only"."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

FOREIGN_MIN_SCORE = 3
OTHER = "其他"
MAX_SEARCH = 20


@dataclass(frozen=True)
class Item:
    """A current entry as routing, the console and other code read it."""

    code: str
    level1: str
    level2: str
    level3: str
    unit_code: str | None       # with `local`: the unit for a text that names no place
    unit_name: str | None
    local: bool
    deadline_class: str | None
    terms: tuple[str, ...]
    entry_id: int | None = None  # the database row (None for a catalogue read from the file alone)
    # False: the unit is retired (停用) and takes no new work; the entry must be given another.
    unit_active: bool = True

    @property
    def path(self) -> str:
        return f"{self.level1} / {self.level2} / {self.level3}"

    @property
    def description(self) -> str:
        where = "事发地镇街" if self.local else (self.unit_name or "") + ("，已停用" if not self.unit_active else "")
        return f"{self.path}（承办：{where}）；关键词：{'、'.join(self.terms)}"

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "level1": self.level1, "level2": self.level2, "level3": self.level3,
                "path": self.path, "unit": self.unit_code, "unit_name": self.unit_name,
                "unit_active": self.unit_active, "local": self.local,
                "deadline_class": self.deadline_class, "terms": list(self.terms), "description": self.description}


@dataclass(frozen=True)
class Match:
    item: Item
    terms: tuple[str, ...]       # the terms found in the text; empty: level 1 only
    score: float                 # characters of terms found; the probability for the model
    source: str = "terms"        # terms, or model: the level-3 model of the city's history

    @property
    def found(self) -> bool:
        """The entry itself was found (by its terms or the level-3 model), not level 1 alone."""
        return bool(self.terms) or self.source == "model"

    @property
    def level(self) -> int:
        """How deep the text itself says: 3 with a hit of the entry's own, 1 for level 1 only."""
        return 3 if self.found else 1


class Catalogue:
    def __init__(self, items: Iterable[Item], version: int | None = None) -> None:
        self.items: tuple[Item, ...] = tuple(items)
        self.version = version
        self.by_code = {i.code: i for i in self.items}
        self._by_path = {i.path.replace(" ", ""): i for i in self.items}
        self._fallback = {i.level1: i for i in self.items if i.level2 == OTHER and i.level3 == OTHER}
        owners: dict[str, list[int]] = {}
        for n, item in enumerate(self.items):
            for term in item.terms:
                if len(term) >= 2:
                    owners.setdefault(term, []).append(n)
        self._automaton = ahocorasick.Automaton()
        for term, indexes in owners.items():
            self._automaton.add_word(term, (term, tuple(indexes)))
        if owners:
            self._automaton.make_automaton()
        self._empty = not owners
        self._own = _own_terms(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def find(self, value: str) -> Item | None:
        """An entry by its code or its level path ("城乡建设/住房保障与房地产/物业服务", with
        "/", " / " or ">" between levels)."""
        value = (value or "").strip()
        if value in self.by_code:
            return self.by_code[value]
        return self._by_path.get(value.replace(" ", "").replace(">", "/"))

    def match(self, text: str, level1: str | None = None, *, foreign: bool = True) -> Match | None:
        """The entry the text belongs to under `level1`; with `foreign`, an entry of another
        level 1 may outweigh it (see the module's note)."""
        scores: dict[int, float] = {}
        found: dict[int, list[str]] = {}
        if not self._empty:
            for term, indexes in {t: ix for _, (t, ix) in self._automaton.iter(text)}.items():
                for n in indexes:
                    scores[n] = scores.get(n, 0) + len(term)
                    found.setdefault(n, []).append(term)
        best: tuple[float, int, int, int] | None = None
        for n, score in scores.items():
            item = self.items[n]
            if level1 is not None and item.level1 != level1:
                if not foreign or score < FOREIGN_MIN_SCORE:
                    continue
                score /= 2
            # Ties: the model's level 1, then the characters of the entry's own terms found (an
            # entry's terms include its level 2's, so a level-2 word alone ties every entry
            # under it), then the level 2's own 其他 (the level 2 is known, no entry under it
            # is), then the taxonomy's order.
            own = sum(len(term) for term in found[n] if term in self._own[n])
            key = (score, 1 if item.level1 == level1 else 0, own, 1 if item.level3 == OTHER else 0, -n)
            if best is None or key > best:
                best = key
        if best is not None:
            n = -best[-1]
            return Match(self.items[n], tuple(found[n]), best[0])
        fallback = self._fallback.get(level1 or "")
        return Match(fallback, (), 0.0) if fallback is not None else None

    def search(self, query: str, limit: int = MAX_SEARCH) -> list[Item]:
        """Level-3 search as the operator types: names first, then paths, then terms."""
        query = (query or "").strip()
        if not query:
            return []
        ranked: list[tuple[int, int, Item]] = []
        for n, item in enumerate(self.items):
            if item.code == query or item.level3.startswith(query):
                rank = 0
            elif query in item.level3:
                rank = 1
            elif query in item.level2 or query in item.level1:
                rank = 2
            elif any(query in term for term in item.terms):
                rank = 3
            else:
                continue
            ranked.append((rank, n, item))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [item for _, _, item in ranked[:limit]]

    def tree(self) -> list[dict[str, object]]:
        """level 1 -> level 2 -> entries, in the taxonomy's order."""
        level1s: dict[str, dict[str, list[Item]]] = {}
        for item in self.items:
            level1s.setdefault(item.level1, {}).setdefault(item.level2, []).append(item)
        return [{"name": l1, "children": [{"name": l2, "entries": entries} for l2, entries in l2s.items()]}
                for l1, l2s in level1s.items()]


def _own_terms(items: Sequence[Item]) -> list[frozenset[str]]:
    """Each entry's own terms, apart from those its level 2 gives every entry under it. The
    terms come own first, the level 2's last (catalogue_file.py): what an entry has beyond the
    longest tail of terms all its siblings share is its own, a level-2 word it also lists
    among its own (路灯 for 城市公共设施) included, since it then stands before that tail."""
    groups: dict[tuple[str, str], list[int]] = {}
    for n, item in enumerate(items):
        groups.setdefault((item.level1, item.level2), []).append(n)
    own: list[frozenset[str]] = [frozenset()] * len(items)
    for members in groups.values():
        if len(members) < 2:
            continue
        shared = frozenset.intersection(*(frozenset(items[n].terms) for n in members))
        for n in members:
            terms = items[n].terms
            tail = len(terms)
            while tail > 0 and terms[tail - 1] in shared:
                tail -= 1
            own[n] = frozenset(terms[:tail])
    return own


def unit_for(item: Item, places: Sequence[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(unit code, the place that decided it): the township named first for a local entry."""
    if item.local and places:
        name, township = places[0]
        return township, name
    return item.unit_code, None
