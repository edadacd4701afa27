"""search by words through indexes on PostgreSQL (pg_trgm and character pairs)

Revision ID: 0015
Revises: 0014

The indexes are built CONCURRENTLY, outside the migration's transaction (autocommit block):
on a table of millions of tickets the build takes a long while (about 4 minutes per 300,000
tickets on two cores) and intake must keep writing meanwhile. A build that fails leaves an
invalid index: drop it and run the upgrade again. No column is added, so nothing to backfill.
SQLite keeps LIKE and gets nothing.
"""
from __future__ import annotations

from alembic import op

from dispatch import text_search

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for statement in text_search.create_statements(concurrently=True):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in text_search.drop_statements():
        op.execute(statement)
