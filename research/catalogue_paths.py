"""Which dispatch catalogue entry each shipped message falls under, to compare two versions
of the matching rule (the data has no level-3 labels, so this counts changes, not accuracy).

`python -m research.catalogue_paths write FILE` matches every shipped message under its
labelled level 1 with the demo city's catalogue and writes the entry paths (None: no term
found) as JSON. Run it on two checkouts, then `python -m research.catalogue_paths compare
OLD NEW`: how many entries changed, how many of those changed unit or deadline class, and
the commonest changes.
"""
from __future__ import annotations

import collections
import json
import sys

from classifier import shipped_examples
from dispatch import catalogue
from dispatch.units import DEMO_CITY, load_city


def write(path: str) -> None:
    entries = catalogue.from_city(load_city(DEMO_CITY))
    paths = []
    for example in shipped_examples():
        found = entries.match(example.title + "\n" + example.body, example.label)
        paths.append(found.item.path if found is not None and found.terms else None)
    with open(path, "w") as out:
        json.dump(paths, out, ensure_ascii=False)
    print(f"{len(paths)} messages, {sum(p is not None for p in paths)} under an entry found by its terms")


def compare(old_path: str, new_path: str) -> None:
    items = {item.path: item for item in catalogue.from_city(load_city(DEMO_CITY)).items}
    with open(old_path) as old_file, open(new_path) as new_file:
        pairs = [(a, b) for a, b in zip(json.load(old_file), json.load(new_file)) if a != b]
    moved = [(a, b) for a, b in pairs if a and b]
    print(f"{len(pairs)} changed; of those found both times, {len(moved)}: "
          f"{sum(items[a].unit_code != items[b].unit_code for a, b in moved)} to another unit, "
          f"{sum(items[a].deadline_class != items[b].deadline_class for a, b in moved)} to another deadline class")
    for (a, b), count in collections.Counter(pairs).most_common(8):
        print(f"{count:6}  {a} -> {b}")


if __name__ == "__main__":
    {"write": lambda: write(sys.argv[2]), "compare": lambda: compare(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
