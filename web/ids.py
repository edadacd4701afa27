"""`{name:id}` in a route's path: a row id of at most nine ASCII digits, so one that no
integer column can hold (PostgreSQL refuses 2147483648 with an error) matches no route and
is a plain 404, like any id that does not exist.

Starlette keeps its path convertors in one table for the process and looks a route's up
when the Route is built, at the import of its module: web/pages/__init__.py imports this first.
"""
from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from dispatch.numbers import MAX_ID_DIGITS


class IdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10 ** MAX_ID_DIGITS:
            raise ValueError(f"{value} is no id")
        return str(value)


register_url_convertor("id", IdConvertor())
