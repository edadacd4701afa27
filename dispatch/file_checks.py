"""Checking a JSON file people write by hand (a city file, the catalogue it names): its text
parsed with the line of a syntax error and the keys an object had twice, and each value of
the wrong kind, missing, empty or unknown collected as a problem that names where it is (the
section, the entry, the key) and what is wrong. web/messages.py words every one; collected,
not raised one by one, so that a file is mended in one go rather than one refusal at a time."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from dispatch.errors import InvalidInput, Reason

# Where a problem is: (section, entry, key); entry a name, or the item's number in a list.
Where = tuple[str, str | int | None, str | None]
SHOWN_CHARS = 80


class JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it had more than once (json keeps the last)."""

    repeated: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    found = JsonObject(pairs)
    found.repeated = tuple(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
    return found


def parse_json(text: str, name: str, field: str) -> Any:
    """The file's value; a blank file or a syntax error raises InvalidInput naming the file,
    the line and column, and the line itself."""
    if not text.strip():
        raise InvalidInput(field, Reason.FILE_EMPTY, name=name)
    try:
        return json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        shown = lines[exc.lineno - 1].strip() if 0 < exc.lineno <= len(lines) else ""
        raise InvalidInput(field, Reason.JSON_SYNTAX, name=name, line=exc.lineno, column=exc.colno, problem=exc.msg,
                           text=shown[:SHOWN_CHARS]) from None


def shown(value: Any) -> str:
    """A value as the file spells it, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


_KINDS = {"object": lambda v: isinstance(v, dict), "list": lambda v: isinstance(v, list),
          "text": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
          "texts": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
          "text_or_null": lambda v: v is None or isinstance(v, str),
          "positive_integer": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0}


class Findings:
    """The problems of one file, in the order found; `field` is what the file is to the
    words ("city", "catalogue")."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.problems: list[InvalidInput] = []

    def add(self, problem: InvalidInput) -> None:
        self.problems.append(problem)

    def kind(self, value: Any, expected: str, where: Where) -> bool:
        """Whether `value` is of the kind expected (a key of _KINDS); a problem if not."""
        if _KINDS[expected](value):
            return True
        self.add(InvalidInput(self.field, Reason.WRONG_TYPE, where=where, should_be=expected, got=shown(value)))
        return False

    def text(self, value: Any, where: Where) -> str | None:
        """A text that is not blank, stripped; None (and a problem) otherwise."""
        if not self.kind(value, "text", where):
            return None
        if not value.strip():
            self.add(InvalidInput(self.field, Reason.EMPTY_VALUE, where=where))
            return None
        return str(value.strip())

    def required(self, found: dict[str, Any], key: str, where: Where) -> Any:
        """found[key], or None and a problem when it is missing."""
        if found.get(key) is None:
            self.add(InvalidInput(self.field, Reason.FIELD_MISSING, where=where, key=key))
            return None
        return found[key]

    def known_keys(self, found: dict[str, Any], known: Collection[str], where: Where) -> None:
        """A key the file's reader does not know is a typo whose value would be ignored; "about"
        and keys starting with "_" are notes for the people who edit the file."""
        for key in found:
            if key not in known and key != "about" and not key.startswith("_"):
                self.add(InvalidInput(self.field, Reason.UNKNOWN_KEY, where=where, key=key, known="、".join(known)))

    def repeated(self, found: Any, where: Where) -> None:
        for key in getattr(found, "repeated", ()):
            self.add(InvalidInput(self.field, Reason.REPEATED_KEY, where=where, key=key))

    def extend(self, problems: Iterable[InvalidInput]) -> None:
        self.problems.extend(problems)
