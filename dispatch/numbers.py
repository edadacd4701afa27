"""Whole numbers typed by people or sent by programs (ids, page numbers, day counts), read
one way everywhere: ASCII digits only, and never more than the database can hold.

str.isdigit() is no test: it accepts "²" and "①", which int() refuses, and "١٢" or "１２",
which int() reads; and a number past PostgreSQL's integer (every id and count column) fails
in the database, where SQLite would have taken it.
"""
from __future__ import annotations

MAX_INT = 2_147_483_647   # PostgreSQL's integer
MIN_INT = -MAX_INT - 1
# Ids in paths and forms: nine digits are always below MAX_INT, so a longer one is no id.
MAX_ID_DIGITS = 9


def whole_number(raw: str, *, high: int = MAX_INT) -> int | None:
    """`raw` (spaces around allowed) as a number from 0 to `high`, or None when it is not
    ASCII digits or is larger."""
    text = raw.strip()
    # Length first: int() of thousands of digits is slow, and past 4,300 an error.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if number <= high else None


def signed_number(raw: str) -> int | None:
    """`raw` (spaces around allowed) as ASCII digits after an optional "-" or "+", or None.
    A number past what the database holds reads as just past it (MAX_INT + 1, MIN_INT - 1),
    so that a range check refuses it. "-3" is a number: out of a count's range, not "not
    an integer"."""
    text = raw.strip()
    sign, digits = (text[0], text[1:]) if text[:1] in ("-", "+") else ("", text)
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = whole_number(digits, high=MAX_INT + 1)   # -(MAX_INT + 1) is MIN_INT
    if sign == "-":
        return MIN_INT - 1 if number is None else -number
    return MAX_INT + 1 if number is None else number
