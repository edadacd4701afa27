"""search by words: each pair in the word index tagged with its ticket's 30-day bucket (PostgreSQL)

Revision ID: 0036
Revises: 0035

Replaces 0035's `ix_tickets_words` over `ticket_words(title, body, received_at)` by
`ix_tickets_month_words` over `ticket_month_words(title, body, received_at)`
(dispatch/text_search.py): each pair tagged with the ticket's 30-day bucket ('路灯@693'), and
the day as before, so that a search of a word's newest days goes through the word's month
instead of every ticket of those days. No column is added, nothing is backfilled.

As 0035: the new index is built CONCURRENTLY first (intake keeps writing, search keeps the old
index meanwhile), then the old one and its function are dropped. A build that fails leaves an
invalid index: drop it and run the upgrade again. SQLite keeps LIKE.
"""
from __future__ import annotations

import importlib

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

# 0035's index and function, as 0035 keeps them: for the downgrade.
days_0035 = importlib.import_module("dispatch.migrations.versions.0035_text_search_days")

# This revision's, written out here so that later changes of dispatch/text_search.py leave it
# as it was (a test checks they agree while they should).
WORDS_INDEX = "ix_tickets_month_words"
WORDS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_month_words(title text, body text, received_at timestamp)
    RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(x.t, '..', E'\\&@' || x.d / 30 || E'\x01', 'g') || E'\x01' ||
           regexp_replace(substr(x.t, 2), '..', E'\\&@' || x.d / 30 || E'\x01', 'g') || E'\x01#' || x.d, E'\x01'), ''))
       FROM (SELECT title || E'\n' || body AS t, floor(extract(epoch FROM received_at) / 86400)::int AS d) AS x $$"""
WORDS_INDEX_STATEMENT = (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {WORDS_INDEX} ON tickets "
                         "USING gin (ticket_month_words(title, body, received_at))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(WORDS_FUNCTION)
        op.execute(WORDS_INDEX_STATEMENT)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {days_0035.WORDS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_words(text, text, timestamp)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(days_0035.WORDS_FUNCTION)
        op.execute(days_0035.WORDS_INDEX_STATEMENT)
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {WORDS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_month_words(text, text, timestamp)")
