"""search by words through one index of character pairs (PostgreSQL)

Revision ID: 0031
Revises: 0030

Replaces 0015's title and body trigram indexes and its pair index (built through the text
search parser) by `ix_tickets_pairs` over `ticket_pairs(title, body)` (dispatch/text_search.py):
one index, several times cheaper to build. The phone trigram and number prefix indexes stay.

The new index is built CONCURRENTLY first, so search keeps its indexes meanwhile, then the old
ones are dropped (CONCURRENTLY: intake keeps writing). On the 1,000,000-ticket city
(bench/city.py) the build took the time README's "Search by words" section gives; a build that
fails leaves an invalid index: drop it and run the upgrade again. SQLite keeps LIKE.
"""
from __future__ import annotations

from alembic import op

from dispatch import text_search

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

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
        for statement in text_search.create_statements(concurrently=True):
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
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {text_search.PAIRS_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ticket_pairs(text, text)")
