"""tickets.township: the township unit code a ticket's words name (location, title, start of
text), found at intake, so that the hotspots count tickets per township in SQL; the tickets
already there are filled here from their words and the township units' names

Revision ID: 0031
Revises: 0027
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dispatch import townships

revision = "0031"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no batch copy of tickets on SQLite).
    op.add_column("tickets", sa.Column("township", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    townships.backfill(connection, townships.township_places(connection))


def downgrade() -> None:
    op.drop_column("tickets", "township")   # SQLite 3.35+
