"""ticket_events by action and time: the reports' escalations (督办) of a period without
reading every event

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_events_action_at", "ticket_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_events_action_at", table_name="ticket_events")
