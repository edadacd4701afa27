"""tickets.township: the township unit code a ticket's words name (location, title, start of
text), found at intake, so that the hotspots count tickets per township in SQL; the tickets
already there are filled here from their words and the township units' names; an index of
(received_at, category, township, unit_id, state) lets those counts read the index alone

It runs before 0031's index of character pairs: every ticket's row is rewritten here, and each
new row version enters every index of the table, a GIN of computed pairs too (~2 ms a ticket).

Revision ID: 0030
Revises: 0029
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dispatch import townships

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no batch copy of tickets on SQLite).
    op.add_column("tickets", sa.Column("township", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    townships.backfill(connection, townships.unit_names(connection))
    # After the backfill: built once rather than kept up through a million updates.
    op.create_index("ix_tickets_received_at_hotspot_cells", "tickets",
                    ["received_at", "category", "township", "unit_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_tickets_received_at_hotspot_cells", table_name="tickets")
    op.drop_column("tickets", "township")   # SQLite 3.35+
