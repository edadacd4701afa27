"""search by words through one index of character pairs (PostgreSQL)

Revision ID: 0031
Revises: 0030

Replaces 0015's title and body trigram indexes and its pair index (built through the text
search parser) by `ix_tickets_pairs` over `ticket_pairs(title, body)` (dispatch/text_search.py):
one index, several times cheaper to build. The phone trigram and number prefix indexes stay.
Migration 0035 replaces this pair index in turn: the statements are kept here as they were.

The new index is built CONCURRENTLY first, so search keeps its indexes meanwhile, then the old
ones are dropped (CONCURRENTLY: intake keeps writing). On the 1,000,000-ticket city
(bench/city.py) the build took the time README's "Search by words" section gives; a build that
fails leaves an invalid index: drop it and run the upgrade again. SQLite keeps LIKE.
"""
from __future__ import annotations

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

PAIRS_INDEX = "ix_tickets_pairs"
PAIRS_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_pairs(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS
    $$ SELECT array_to_tsvector(array_remove(string_to_array(
           regexp_replace(title || E'\n' || body, '..', E'\\&\x01', 'g') || E'\x01' ||
           regexp_replace(substr(title || E'\n' || body, 2), '..', E'\\&\x01', 'g'), E'\x01'), '')) $$"""
CREATE_STATEMENTS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm", PAIRS_FUNCTION,
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {PAIRS_INDEX} ON tickets USING gin (ticket_pairs(title, body))",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_phone_trgm ON tickets USING gin (phone gin_trgm_ops)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_number_prefix ON tickets (number varchar_pattern_ops)")
FORMER_INDEXES = ("ix_tickets_title_trgm", "ix_tickets_body_trgm", "ix_tickets_bigrams")
FORMER_BIGRAM_FUNCTION = r"""CREATE OR REPLACE FUNCTION ticket_bigrams(title text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    $$ SELECT to_tsvector('simple'::regconfig,
                          regexp_replace(title || ' ' || body, '(..)', '\1 ', 'g') || ' ' ||
                          regexp_replace(substr(title || ' ' || body, 2), '(..)', '\1 ', 'g')) $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for statement in CREATE_STATEMENTS:
            op.execute(statement)
        for name in FORMER_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute("DROP FUNCTION IF EXISTS ticket_bigrams(text, text)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute(FORMER_BIGRAM_FUNCTION)
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_title_trgm ON tickets USING gin (title gin_trgm_ops)")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_body_trgm ON tickets USING gin (body gin_trgm_ops)")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_bigrams ON tickets "
                   "USING gin (ticket_bigrams(title, body))")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PAIRS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_pairs(text, text)")
