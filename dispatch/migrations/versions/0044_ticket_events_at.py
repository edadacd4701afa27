"""ticket_events by time, with the ticket: the staff API's `updated_since` (an integrator's
sync) lists the tickets changed since a moment from the newest events alone, not by reading
every event of the city.

Revision ID: 0044
Revises: 0043
"""
from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_events_at_ticket_id", "ticket_events", ["at", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_at_ticket_id", table_name="ticket_events")
