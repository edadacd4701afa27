"""The township a ticket's words name, found once at intake and kept on the ticket
(tickets.township), so that the hotspots count tickets per township in SQL.

The place named in the location given, else in the title, else in the start of the text,
by the city's gazetteer (the router's); without one, by the township units' own names. A
ticket naming none keeps NULL: its township is then its unit's, when that unit is a township
(hotspots.township_column), which can change as it is transferred.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text as sql, update
from sqlalchemy.orm import Session

from dispatch.models import Ticket, Unit
from dispatch.routing import Gazetteer
from dispatch.vocabulary import UnitKind

PLACE_TEXT_CHARS = 300    # a place is looked for in the start of the body only
# Text -> the township unit codes it names, first named first.
Places = Callable[[str], Iterable[str]]

_ENDINGS = ("街道办事处", "街道", "镇人民政府", "乡人民政府", "镇", "乡")


def unit_names(connection: Connection | Session) -> dict[str, list[str]]:
    """The township units' names and the names without their 街道 / 镇 / 乡 ending
    ("沁园街道" and "沁园"), by unit code: a gazetteer for a city without one."""
    names: dict[str, list[str]] = {}
    for code, name in connection.execute(select(Unit.code, Unit.name).where(Unit.kind == UnitKind.TOWNSHIP.value)):
        short = name
        for ending in _ENDINGS:
            if name.endswith(ending) and len(name) - len(ending) >= 2:
                short = name[:-len(ending)]
                break
        names[code] = sorted({name, short})
    return names


def gazetteer_places(gazetteer: Gazetteer) -> Places:
    return lambda text: [code for _, code in gazetteer.find(text)]


def township_places(connection: Connection | Session) -> Places:
    return gazetteer_places(Gazetteer(unit_names(connection)))


_SESSION_KEY = "township_places"


def places_of_session(session: Session) -> Places:
    """The township units' names, read once per session (intake without a router: the demo,
    tests, scripts)."""
    places = session.info.get(_SESSION_KEY)
    if places is None:
        places = session.info[_SESSION_KEY] = township_places(session)
    return places


def township_of(places: Places, location: str | None, title: str | None, body: str | None) -> str | None:
    """The first township named in the location, else the title, else the body's start."""
    for text in (location, title, (body or "")[:PLACE_TEXT_CHARS]):
        if text:
            code = next(iter(places(text)), None)
            if code:
                return code
    return None


def backfill(connection: Connection, names: dict[str, list[str]], *, batch: int = 100_000,
             progress: Callable[[int], Any] | None = None) -> int:
    """Set tickets.township on every ticket that has none, from its words and the township
    names given (unit_names: code -> names), as township_of would (a migration, or a history
    loaded without intake). Returns how many were set.

    On PostgreSQL one UPDATE per `batch` ids matches every name at once with a regular
    expression (an alternation is greedy: the leftmost match, the longest there, as the
    Gazetteer); on SQLite, in Python. One UPDATE per ticket from Python took ~22 min a
    million tickets."""
    # As the Gazetteer's automaton: a name given twice belongs to the last unit that gives it.
    code_of = {name: code for code, several in names.items() for name in several if len(name) >= 2}
    if not code_of:
        return 0
    if connection.dialect.name == "postgresql":
        return _backfill_in_sql(connection, code_of, batch, progress)
    return _backfill_in_python(connection, gazetteer_places(Gazetteer(names)), progress)


def _backfill_in_sql(connection: Connection, code_of: dict[str, str], batch: int,
                     progress: Callable[[int], Any] | None) -> int:
    pattern = "|".join(re.escape(name) for name in sorted(code_of))
    places = json.dumps([{"name": name, "code": code} for name, code in code_of.items()], ensure_ascii=False)
    statement = sql(
        "WITH place AS (SELECT name, code FROM json_to_recordset(CAST(:places AS json)) AS p(name text, code text)), "
        "named AS MATERIALIZED (SELECT id, COALESCE(substring(location FROM :pattern), substring(title FROM :pattern), "
        f"  substring(substr(body, 1, {PLACE_TEXT_CHARS}) FROM :pattern)) AS name "
        "  FROM tickets WHERE id > :low AND id <= :high AND township IS NULL) "
        "UPDATE tickets SET township = place.code FROM named JOIN place ON place.name = named.name "
        "WHERE tickets.id = named.id")
    low, high = connection.execute(sql("SELECT MIN(id) - 1, MAX(id) FROM tickets WHERE township IS NULL")).one()
    found = 0
    while low is not None and low < high:
        found += connection.execute(statement, {"places": places, "pattern": pattern,
                                                "low": low, "high": low + batch}).rowcount
        low += batch
        if progress:
            progress(found)
    return found


def _backfill_in_python(connection: Connection, places: Places, progress: Callable[[int], Any] | None,
                        batch: int = 5000) -> int:
    table = Ticket.__table__
    change = (update(table).where(table.c.id == bindparam("ticket_id"))
              .values(township=bindparam("code")).execution_options(synchronize_session=False))
    last, found = 0, 0
    while True:
        rows = connection.execute(
            select(table.c.id, table.c.location, table.c.title, func.substr(table.c.body, 1, PLACE_TEXT_CHARS))
            .where(table.c.id > last, table.c.township.is_(None)).order_by(table.c.id).limit(batch)).all()
        if not rows:
            return found
        last = rows[-1][0]
        values = [{"ticket_id": tid, "code": code} for tid, location, title, body in rows
                  if (code := township_of(places, location, title, body))]
        if values:
            connection.execute(change, values)
            found += len(values)
        if progress:
            progress(found)
