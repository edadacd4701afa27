"""routing_examples: a first suggestion taken in manual triage is no correction

Until this revision, a ticket left to manual triage had no proposed unit to compare with, so
an operator who took its first suggestion wrote a training example as if they had corrected
the model (weighted three times in retraining, counted towards its trigger, possibly the one
correction its guard scored on). Such rows (no proposed unit, the example's unit the stored
proposal's first suggestion) are deleted; the other rows of triaged tickets get that first
suggestion as their proposed unit, as the lifecycle now writes them. The downgrade keeps it.

Revision ID: 0038
Revises: 0037
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("routing", sa.JSON))
examples = sa.table("routing_examples", sa.column("id", sa.Integer), sa.column("ticket_id", sa.Integer),
                    sa.column("unit_code", sa.String), sa.column("proposed_unit_code", sa.String))


def upgrade() -> None:
    mend(op.get_bind())


def downgrade() -> None:
    pass


def first_suggestion(routing: dict[str, Any] | None) -> str | None:
    """The unit of a triaged proposal's first suggestion, as dispatch/routing.py reads it at
    this revision; None for a proposal that named a unit or suggested none."""
    if not routing or routing.get("unit_code"):
        return None
    suggestions = routing.get("suggestions") or []
    return suggestions[0].get("unit_code") if suggestions else None


def mend(connection: sa.Connection) -> tuple[int, int]:
    """(rows deleted, rows given their proposed unit)."""
    rows = connection.execute(sa.select(examples.c.id, examples.c.unit_code, tickets.c.routing)
                              .join(tickets, tickets.c.id == examples.c.ticket_id)
                              .where(examples.c.proposed_unit_code.is_(None))).all()
    confirmed, proposed = [], []
    for row in rows:
        first = first_suggestion(row.routing)
        if first is None:
            continue
        if first == row.unit_code:
            confirmed.append(row.id)
        else:
            proposed.append({"row_id": row.id, "first": first})
    if confirmed:
        connection.execute(examples.delete().where(examples.c.id.in_(confirmed)))
    if proposed:
        connection.execute(examples.update().where(examples.c.id == sa.bindparam("row_id"))
                           .values(proposed_unit_code=sa.bindparam("first")), proposed)
    return len(confirmed), len(proposed)
