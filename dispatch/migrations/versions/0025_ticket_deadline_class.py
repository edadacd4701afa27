"""tickets.deadline_class: the dispatch catalogue's deadline class (urgent, quick) that set
the ticket's deadline when it was dispatched; NULL under the normal class

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy of tickets on SQLite would drop
    # the table under the foreign keys that point at it.
    op.add_column("tickets", sa.Column("deadline_class", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "deadline_class")   # SQLite 3.35+
