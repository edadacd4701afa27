"""search by words through indexes on PostgreSQL (pg_trgm and character pairs)

Revision ID: 0015
Revises: 0014

The indexes are built CONCURRENTLY, outside the migration's transaction (autocommit block):
on a table of millions of tickets the build takes a long while (about 4 minutes per 300,000
tickets on two cores) and intake must keep writing meanwhile. A build that fails leaves an
invalid index: drop it and run the upgrade again. No column is added, so nothing to backfill.
SQLite keeps LIKE and gets nothing. Migration 0031 replaces the title and body trigram
indexes and this pair index by one cheaper pair index: the statements are kept here as they
were, so that this revision stays what it was (dispatch/text_search.py describes today's).
"""
from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {"ix_tickets_title_trgm": "title", "ix_tickets_body_trgm": "body",
                   "ix_tickets_phone_trgm": "phone"}
BIGRAM_INDEX = "ix_tickets_bigrams"
NUMBER_PREFIX_INDEX = "ix_tickets_number_prefix"
BIGRAM_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_bigrams(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT to_tsvector('simple'::regconfig,
                          regexp_replace(title || ' ' || body, '(..)', '\1 ', 'g') || ' ' ||
                          regexp_replace(substr(title || ' ' || body, 2), '(..)', '\1 ', 'g')) $$"""


def create_statements(*, concurrently: bool = False) -> list[str]:
    how = "CONCURRENTLY IF NOT EXISTS" if concurrently else "IF NOT EXISTS"
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", BIGRAM_FUNCTION,
            *[f"CREATE INDEX {how} {name} ON tickets USING gin ({column} gin_trgm_ops)"
              for name, column in TRIGRAM_INDEXES.items()],
            f"CREATE INDEX {how} {BIGRAM_INDEX} ON tickets USING gin (ticket_bigrams(title, body))",
            f"CREATE INDEX {how} {NUMBER_PREFIX_INDEX} ON tickets (number varchar_pattern_ops)"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for statement in create_statements(concurrently=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in (*TRIGRAM_INDEXES, BIGRAM_INDEX, NUMBER_PREFIX_INDEX):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS ticket_bigrams(text, text)")
