"""search by words: the word index holds each ticket's day beside its character pairs (PostgreSQL)

Revision ID: 0035
Revises: 0034

Replaces 0031's `ix_tickets_pairs` over `ticket_pairs(title, body)` by `ix_tickets_words` over
`ticket_words(title, body, received_at)` (dispatch/text_search.py): the same pairs and the
day the ticket was received, so that a search of a common word asks the index for its last
days' matches only. No column is added, nothing is backfilled.

The new index is built CONCURRENTLY first (intake keeps writing; search keeps the old index
meanwhile), then the old one and its function are dropped. On ten million tickets the build
takes the time README's "Search by words" section gives (PostgreSQL builds a GIN index in one
process); a build that fails leaves an invalid index: drop it and run the upgrade again.
SQLite keeps LIKE.
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

# 0031's pair index and function, as 0031 keeps them: for the downgrade.
pairs_0031 = importlib.import_module("dispatch.migrations.versions.0031_text_search_pairs")
PAIRS_INDEX = pairs_0031.PAIRS_INDEX

# This revision's index and function, as it installed them (0036 replaced them).
WORDS_INDEX = "ix_tickets_words"
WORDS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_words(title text, body text, received_at timestamp)
    RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(title || E'\n' || body, '..', E'\\&\x01', 'g') || E'\x01' ||
           regexp_replace(substr(title || E'\n' || body, 2), '..', E'\\&\x01', 'g') || E'\x01#' ||
           floor(extract(epoch FROM received_at) / 86400)::int, E'\x01'), '')) $$"""
WORDS_INDEX_STATEMENT = (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {WORDS_INDEX} ON tickets "
                         "USING gin (ticket_words(title, body, received_at))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(WORDS_FUNCTION)
        op.execute(WORDS_INDEX_STATEMENT)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PAIRS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_pairs(text, text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(pairs_0031.PAIRS_FUNCTION)
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PAIRS_INDEX} ON tickets USING gin (ticket_pairs(title, body))")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {WORDS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_words(text, text, timestamp)")
