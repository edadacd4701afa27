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

from dispatch import text_search

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

# 0031's pair index and function, as 0031 keeps them: for the downgrade.
pairs_0031 = importlib.import_module("dispatch.migrations.versions.0031_text_search_pairs")
PAIRS_INDEX = pairs_0031.PAIRS_INDEX


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
        op.execute(pairs_0031.PAIRS_FUNCTION)
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PAIRS_INDEX} ON tickets USING gin (ticket_pairs(title, body))")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {text_search.WORDS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_words(text, text, timestamp)")
