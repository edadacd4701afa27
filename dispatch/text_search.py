"""Search by words on PostgreSQL without reading every ticket.

`title LIKE '%…%' OR body LIKE '%…%'` stays the one rule of what matches, on both databases;
on PostgreSQL indexes narrow the rows it is checked on (the LIKE rechecks every candidate,
so the index never changes the result):

- pg_trgm GIN indexes on title, body and phone (a phone is searched by any part of it) serve any pattern of 3 or more characters
  (pg_trgm cuts Chinese into trigrams too under a UTF-8 ctype, but a 2-character pattern has
  no trigram and would read the whole table);
- a GIN index on the text's character pairs (`ticket_bigrams`, an immutable SQL function
  over title and body, so there is no column to fill) serves 2-character words such as 路灯,
  which is most of what people type in Chinese.

Migration 0015 installs them; change them only in a new migration. SQLite keeps plain LIKE.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, func, literal_column, or_

from dispatch.models import Ticket

TRIGRAM_INDEXES = {"ix_tickets_title_trgm": "title", "ix_tickets_body_trgm": "body",
                   "ix_tickets_phone_trgm": "phone"}
BIGRAM_INDEX = "ix_tickets_bigrams"
# Ticket numbers by their beginning (`number LIKE '20260101%'`): the unique index's collation
# (C.UTF-8) cannot serve a prefix LIKE, the pattern operator class can.
NUMBER_PREFIX_INDEX = "ix_tickets_number_prefix"
INDEXES = (*TRIGRAM_INDEXES, BIGRAM_INDEX, NUMBER_PREFIX_INDEX)

# Every pair of neighbouring characters, as words of the 'simple' configuration: the pairs
# at odd and at even offsets, each cut by one regexp (a per-character loop in SQL made the
# index build ~20 times slower).
BIGRAM_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_bigrams(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT to_tsvector('simple'::regconfig,
                          regexp_replace(title || ' ' || body, '(..)', '\1 ', 'g') || ' ' ||
                          regexp_replace(substr(title || ' ' || body, 2), '(..)', '\1 ', 'g')) $$"""

# Two Han characters: the 'simple' parser keeps such a pair as one word, as it was indexed.
# Other 2-character texts (rare) are checked by LIKE alone.
_PAIR = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}$")


def create_statements(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY IF NOT EXISTS" if concurrently else "IF NOT EXISTS"
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", BIGRAM_FUNCTION,
            *[f"CREATE INDEX {how} {name} ON tickets USING gin ({column} gin_trgm_ops)"
              for name, column in TRIGRAM_INDEXES.items()],
            f"CREATE INDEX {how} {BIGRAM_INDEX} ON tickets USING gin (ticket_bigrams(title, body))",
            f"CREATE INDEX {how} {NUMBER_PREFIX_INDEX} ON tickets (number varchar_pattern_ops)"]


def drop_statements() -> list[str]:
    return [*[f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
            "DROP FUNCTION IF EXISTS ticket_bigrams(text, text)"]


def words_match(text: str, dialect: str) -> Any:
    """Tickets whose title or body holds `text`, with the pair index's help where it has some."""
    like = or_(Ticket.title.contains(text, autoescape=True), Ticket.body.contains(text, autoescape=True))
    if dialect == "postgresql" and _PAIR.match(text):
        pairs = func.ticket_bigrams(Ticket.title, Ticket.body)
        return and_(pairs.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), text)), like)
    return like
