"""the scheduler's chasing passes read overdue tickets and owed parts from small indexes

Every ten minutes the passes list the tickets units hold by deadline (those past it, those
near it) and the parts still owed on them. On ten million tickets the tickets' list walked
(unit_id, state, deadline, ...) for every unit: 1.6 s; the parts' list read all 8 million
transfers, nearly all of them leads: 1.1 s; each twice a pass. Now:
- tickets (deadline, id, unit_id) WHERE state is one a unit holds: 4 ms for 34,862 overdue;
- transfers (unit_id, ticket_id) WHERE the part is still owed: a few rows, read in full.

Revision ID: 0034
Revises: 0033
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# As dispatch/models.py has them then (a migration keeps its own copy).
UNIT_HELD = "state IN ('transferred', 'in_progress', 'reopened')"
OWED_PART = "role IN ('co', 'forward') AND outcome IN ('pending', 'accepted') AND part_reply IS NULL"


def upgrade() -> None:
    op.create_index("ix_tickets_unit_held_deadline", "tickets", ["deadline", "id", "unit_id"],
                    postgresql_where=sa.text(UNIT_HELD), sqlite_where=sa.text(UNIT_HELD))
    op.create_index("ix_transfers_owed", "transfers", ["unit_id", "ticket_id"],
                    postgresql_where=sa.text(OWED_PART), sqlite_where=sa.text(OWED_PART))


def downgrade() -> None:
    op.drop_index("ix_transfers_owed", table_name="transfers")
    op.drop_index("ix_tickets_unit_held_deadline", table_name="tickets")
