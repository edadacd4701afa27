"""Search by words on PostgreSQL without reading every ticket.

`title LIKE '%…%' OR body LIKE '%…%'` stays the one rule of what matches, on both databases;
on PostgreSQL one GIN index narrows the rows it is checked on (the LIKE rechecks every
candidate, so the index never changes the result):

- `ticket_pairs(title, body)`: every pair of neighbouring characters of the title and body, as
  a tsvector. A text holding a pattern holds every pair of the pattern, so any pattern of 2 or
  more characters (路灯, 安全隐患, A3区, 150) is served by the AND of its pairs. The pairs are cut
  by two regexps and split on a control character (\\x01) straight into an array: no text
  search parser, which made the former pair index's build 2-3 ms a ticket. A 1-character
  pattern, or one holding \\x01, is checked by LIKE alone.
- pg_trgm on the phone (a phone is searched by any part of it), and the ticket number's
  pattern operator class for a number typed by its beginning.

The function is declared STRICT, which keeps the planner from inlining its body (array_remove
is not strict), and costly (COST 100, a hundred LIKEs): inlined, it looked as cheap as a few regexps, and a
newest-first scan that computes the pairs of each row it reads could win over the index. (COST
10000, nearer its true cost, put the plans' estimates above jit_above_cost: 140 ms of JIT.) Migration 0031 installs these (0015 installed the former trigram
and pair indexes); change them only in a new migration. SQLite keeps plain LIKE.
"""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, text as sql
from sqlalchemy.dialects.postgresql import TSQUERY

from sqlalchemy.orm import Session

from dispatch.models import Ticket

PAIRS_INDEX = "ix_tickets_pairs"
PHONE_INDEX = "ix_tickets_phone_trgm"
# Ticket numbers by their beginning (`number LIKE '20260101%'`): the unique index's collation
# (C.UTF-8) cannot serve a prefix LIKE, the pattern operator class can.
NUMBER_PREFIX_INDEX = "ix_tickets_number_prefix"
INDEXES = (PAIRS_INDEX, PHONE_INDEX, NUMBER_PREFIX_INDEX)

SEPARATOR = "\x01"
# The pairs at even and at odd offsets, each followed by the separator, then split on it;
# a lone last character and empty pieces (next to a separator in the text) are left in or
# removed, neither matters: a pattern is looked up by its own pairs only.
PAIRS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_pairs(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(title || E'\n' || body, '..', E'\\&\x01', 'g') || E'\x01' ||
           regexp_replace(substr(title || E'\n' || body, 2), '..', E'\\&\x01', 'g'), E'\x01'), '')) $$"""


def create_statements(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY IF NOT EXISTS" if concurrently else "IF NOT EXISTS"
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", PAIRS_FUNCTION,
            f"CREATE INDEX {how} {PAIRS_INDEX} ON tickets USING gin (ticket_pairs(title, body))",
            f"CREATE INDEX {how} {PHONE_INDEX} ON tickets USING gin (phone gin_trgm_ops)",
            f"CREATE INDEX {how} {NUMBER_PREFIX_INDEX} ON tickets (number varchar_pattern_ops)"]


def pairs(text: str) -> list[str]:
    """The pairs of neighbouring characters of `text`, as ticket_pairs() cuts a ticket's."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


def pairs_query(text: str) -> str:
    """The tsquery text 'p1' & 'p2' & …: each pair quoted, so no character is an operator."""
    return " & ".join("'" + p.replace("\\", "\\\\").replace("'", "''") + "'" for p in pairs(text))


def words_match(text: str, dialect: str, *, indexed: bool = True) -> Any:
    """Tickets whose title or body holds `text`, with the pair index's help where it has some
    (not `indexed`: LIKE alone, for a scan of a few thousand rows)."""
    like = or_(Ticket.title.contains(text, autoescape=True), Ticket.body.contains(text, autoescape=True))
    if indexed and dialect == "postgresql" and len(text) >= 2 and SEPARATOR not in text:
        found = func.ticket_pairs(Ticket.title, Ticket.body).op("@@")(cast(literal(pairs_query(text), String()), TSQUERY))
        return and_(found, like)
    return like


# ANALYZE's most common pairs of the index and their shares of the tickets, per database, read
# again after STATS_SECONDS: (read at, {pair: share}, share of a pair not among them, tickets).
STATS_SECONDS = 600.0
_stats: dict[str, tuple[float, dict[str, float], float, float]] = {}


def estimated_matches(session: Session, text: str) -> float:
    """About how many tickets hold every pair of `text` (at most; 0 where nothing is known):
    the share of its rarest pair among the most common ones ANALYZE keeps."""
    if session.get_bind().dialect.name != "postgresql" or len(text) < 2:
        return 0.0
    key = str(session.get_bind().url)
    read = _stats.get(key)
    if read is None or time.monotonic() - read[0] > STATS_SECONDS:
        row = session.execute(sql(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_stats s JOIN pg_class c ON c.relname = 'tickets' AND c.relkind = 'r' "
            "AND c.relnamespace = to_regnamespace(s.schemaname) "
            "WHERE s.schemaname = current_schema() AND s.tablename = :index"), {"index": PAIRS_INDEX}).first()
        if row is None or row[0] is None:
            read = (time.monotonic(), {}, 0.0, 0.0)
        else:
            elems, freqs, tickets = row
            read = (time.monotonic(), dict(zip(elems, freqs)), float(freqs[len(elems)]), float(tickets))
        _stats[key] = read
    _, shares, floor, tickets = read
    return min(shares.get(p, floor) for p in pairs(text)) * max(tickets, 0.0)
