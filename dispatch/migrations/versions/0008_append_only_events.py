"""ticket events: hash chain per ticket, and triggers refusing UPDATE and DELETE

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dispatch import audit
from dispatch.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _seal_existing_events(op.get_bind())
    audit.install_guard(op.get_bind())


def _seal_existing_events(connection: sa.Connection) -> None:
    """Events written before the chain: sealed now, in id order per ticket, so that verify
    treats every row alike. What they said before today is taken on trust."""
    events = sa.table("ticket_events", sa.column("id", sa.Integer), sa.column("ticket_id", sa.Integer),
                      sa.column("at", UTCDateTime), sa.column("actor_id", sa.Integer),
                      sa.column("actor", sa.String), sa.column("action", sa.String),
                      sa.column("from_state", sa.String), sa.column("to_state", sa.String),
                      sa.column("unit_id", sa.Integer), sa.column("note", sa.Text),
                      sa.column("data", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("number", sa.String))
    rows = connection.execute(sa.select(events, tickets.c.number)
                              .join(tickets, tickets.c.id == events.c.ticket_id)
                              .order_by(events.c.ticket_id, events.c.id)).all()
    sealed: list[dict[str, object]] = []
    ticket_id, prev = None, None
    for row in rows:
        if row.ticket_id != ticket_id:
            ticket_id, prev = row.ticket_id, None
        digest = audit.event_hash(row.number, row, prev)
        sealed.append({"event_id": row.id, "prev_hash": prev, "hash": digest})
        prev = digest
    if sealed:
        connection.execute(events.update().where(events.c.id == sa.bindparam("event_id"))
                           .values(prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")), sealed)


def downgrade() -> None:
    audit.drop_guard(op.get_bind(), with_function=True)
    with op.batch_alter_table("ticket_events") as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
