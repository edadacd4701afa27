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

from alembic import op

from dispatch import text_search

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

# 0031's, as it was: for the downgrade.
PAIRS_INDEX = "ix_tickets_pairs"
PAIRS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_pairs(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(title || E'\n' || body, '..', E'\\&\x01', 'g') || E'\x01' ||
           regexp_replace(substr(title || E'\n' || body, 2), '..', E'\\&\x01', 'g'), E'\x01'), '')) $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for statement in text_search.create_statements(concurrently=True):
            op.execute(statement)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PAIRS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_pairs(text, text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(PAIRS_FUNCTION)
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PAIRS_INDEX} ON tickets USING gin (ticket_pairs(title, body))")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {text_search.WORDS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_words(text, text, timestamp)")
