"""Search by words on PostgreSQL without reading every ticket.

`title LIKE '%…%' OR body LIKE '%…%'` stays the one rule of what matches, on both databases;
on PostgreSQL one GIN index narrows the rows it is checked on (the LIKE rechecks every
candidate, so the index never changes the result):

- `ticket_words(title, body, received_at)`: every pair of neighbouring characters of the title
  and body, and the day the ticket was received (`#20791`, days since 1970-01-01 UTC), as a
  tsvector. A text holding a pattern holds every pair of the pattern, so any pattern of 2 or
  more characters (路灯, 安全隐患, A3区, 150) is served by the AND of its pairs; the day lets a
  search ask for the matches of its last days only (`'路灯' & ('#20790' | '#20791')`), which
  the index answers with those rows alone instead of every ticket holding the pair (路灯: tens
  of thousands on ten million tickets, a page of them sorted by time took seconds). A day
  lexeme never looks like a pair: it is longer than two characters. The pairs are cut by two
  regexps and split on a control character (\\x01) straight into an array: no text search
  parser. A 1-character pattern, or one holding \\x01, is checked by LIKE alone.
- pg_trgm on the phone (a phone is searched by any part of it), and the ticket number's
  pattern operator class for a number typed by its beginning.

The function is declared STRICT, which keeps the planner from inlining its body (array_remove
is not strict), and costly (COST 100, a hundred LIKEs): inlined, it looked as cheap as a few
regexps, and a newest-first scan that computes the pairs of each row it reads could win over
the index. (COST 10000, nearer its true cost, put the plans' estimates above jit_above_cost:
140 ms of JIT.) Migration 0035 installs these (0015 and 0031 installed the former ones); change
them only in a new migration. SQLite keeps plain LIKE.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_
from sqlalchemy.dialects.postgresql import TSQUERY

from dispatch.models import Ticket

WORDS_INDEX = "ix_tickets_words"
PHONE_INDEX = "ix_tickets_phone_trgm"
# Ticket numbers by their beginning (`number LIKE '20260101%'`): the unique index's collation
# (C.UTF-8) cannot serve a prefix LIKE, the pattern operator class can.
NUMBER_PREFIX_INDEX = "ix_tickets_number_prefix"
INDEXES = (WORDS_INDEX, PHONE_INDEX, NUMBER_PREFIX_INDEX)

SEPARATOR = "\x01"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# The pairs at even and at odd offsets, each followed by the separator, then the day, then
# split on the separator; a lone last character and empty pieces (next to a separator in the
# text) are left in or removed, neither matters: a pattern is looked up by its own pairs only.
# received_at is UTC without a time zone, so the day is an immutable function of it.
WORDS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_words(title text, body text, received_at timestamp)
    RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(title || E'\n' || body, '..', E'\\&\x01', 'g') || E'\x01' ||
           regexp_replace(substr(title || E'\n' || body, 2), '..', E'\\&\x01', 'g') || E'\x01#' ||
           floor(extract(epoch FROM received_at) / 86400)::int, E'\x01'), '')) $$"""


def create_statements(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY IF NOT EXISTS" if concurrently else "IF NOT EXISTS"
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", WORDS_FUNCTION,
            f"CREATE INDEX {how} {WORDS_INDEX} ON tickets USING gin (ticket_words(title, body, received_at))",
            f"CREATE INDEX {how} {PHONE_INDEX} ON tickets USING gin (phone gin_trgm_ops)",
            f"CREATE INDEX {how} {NUMBER_PREFIX_INDEX} ON tickets (number varchar_pattern_ops)"]


def day_of(moment: dt.datetime) -> int:
    """The day lexeme's number of a time (naive: UTC, as stored): whole days since 1970."""
    return (moment.replace(tzinfo=moment.tzinfo or dt.timezone.utc) - EPOCH).days


def day_start(day: int) -> dt.datetime:
    """The first moment of a day lexeme's day, in UTC."""
    return EPOCH + dt.timedelta(days=day)


def pairs(text: str) -> list[str]:
    """The pairs of neighbouring characters of `text`, as ticket_words() cuts a ticket's."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


def pairs_query(text: str) -> str:
    """The tsquery text 'p1' & 'p2' & …: each pair quoted, so no character is an operator."""
    return " & ".join("'" + p.replace("\\", "\\\\").replace("'", "''") + "'" for p in pairs(text))


def words_match(text: str, dialect: str, *, indexed: bool = True, days: range | None = None) -> Any:
    """Tickets whose title or body holds `text`, with the word index's help where it has some
    (not `indexed`: LIKE alone, for a scan of a few thousand rows). `days`: only the tickets
    received on those days match, as the index lists them (no received_at beside it: the
    planner could then read the days by time and compute every ticket's pairs)."""
    like = or_(Ticket.title.contains(text, autoescape=True), Ticket.body.contains(text, autoescape=True))
    if indexed and dialect == "postgresql" and indexable(text):
        query = pairs_query(text)
        if days:
            query += " & (" + " | ".join(f"'#{day}'" for day in days) + ")"
        found = func.ticket_words(Ticket.title, Ticket.body, Ticket.received_at).op("@@")(
            cast(literal(query, String()), TSQUERY))
        return and_(found, like)
    return like


def indexable(text: str) -> bool:
    """Whether the word index can narrow a search for `text` (else LIKE reads every row)."""
    return len(text) >= 2 and SEPARATOR not in text
