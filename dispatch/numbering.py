"""Ticket numbers a citizen can read out on the phone (20261123-0042) and 6-digit query codes."""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dispatch.clock import local_date
from dispatch.models import TicketSequence


def next_number(session: Session, received_at: dt.datetime) -> str:
    """Date (China time) + daily sequence; one atomic upsert, so concurrent intakes never
    share a number."""
    return next_numbers(session, received_at, 1)[0]


def next_numbers(session: Session, received_at: dt.datetime, count: int) -> list[str]:
    """`count` consecutive numbers of the day, taken by the same single upsert."""
    if count <= 0:
        return []
    day = local_date(received_at).strftime("%Y%m%d")
    # On the connection, not the session: a plain statement needs no ORM step (nor autoflush).
    connection = session.connection()
    last = connection.execute(_increment(connection.dialect.name), {"day": day, "count": count}).scalar_one()
    return [f"{day}-{sequence:04d}" for sequence in range(last - count + 1, last + 1)]


@functools.cache
def _increment(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketSequence.__table__
    statement = insert(table).values(day=bindparam("day"), last=bindparam("count"))
    return (statement.on_conflict_do_update(index_elements=[table.c.day],
                                            set_={"last": table.c.last + statement.excluded["last"]})
            .returning(table.c.last))


# A query code's length: what the lookup limits (limits.py) reckon a guesser's chances from.
QUERY_CODE_DIGITS = 6


def new_query_code() -> str:
    return f"{secrets.randbelow(10 ** QUERY_CODE_DIGITS):0{QUERY_CODE_DIGITS}d}"
