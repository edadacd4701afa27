"""indexes for a city's years of tickets: the consoles' queues and the figures read an index
in order, or only an index, instead of millions of ticket rows (bench/city.py)

- tickets (state, received_at): the operator's dispatch queue, oldest first;
- tickets (state, resolved_at, id): the follow-up queue (resolved, waiting for a call);
- tickets (unit_id, resolved_at): what a unit finished lately;
- tickets (received_at, channel, state): the figures per channel without reading the rows;
- ticket_events (ticket_id, action): how often each ticket of an inbox was chased.

Revision ID: 0027
Revises: 0026
"""
from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_state_received_at": ("tickets", ["state", "received_at"]),
    "ix_tickets_state_resolved_at": ("tickets", ["state", "resolved_at", "id"]),
    "ix_tickets_unit_id_resolved_at": ("tickets", ["unit_id", "resolved_at"]),
    "ix_tickets_received_at_channel_state": ("tickets", ["received_at", "channel", "state"]),
    "ix_ticket_events_ticket_id_action": ("ticket_events", ["ticket_id", "action"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
