"""indexes for the daily pages on a city's years of tickets (bench/page_costs.py, bench/city.py)

- tickets (unit_id, state, deadline, received_at, id), in place of (unit_id, state): a
  unit's open tickets read in deadline order, a page at a time, instead of all of them
  sorted on every visit of the inbox;
- transfers (unit_id, role, outcome): the parts a unit owes (协办, 转派) without reading
  every transfer it ever had.

Revision ID: 0029
Revises: 0027
"""
from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_unit_id_state_deadline", "tickets",
                    ["unit_id", "state", "deadline", "received_at", "id"])
    op.drop_index("ix_tickets_unit_id_state", table_name="tickets")
    op.create_index("ix_transfers_unit_id_role_outcome", "transfers", ["unit_id", "role", "outcome"])


def downgrade() -> None:
    op.drop_index("ix_transfers_unit_id_role_outcome", table_name="transfers")
    op.create_index("ix_tickets_unit_id_state", "tickets", ["unit_id", "state"])
    op.drop_index("ix_tickets_unit_id_state_deadline", table_name="tickets")
