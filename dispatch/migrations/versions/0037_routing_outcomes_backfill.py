"""routing_outcomes: rows for transferred tickets that have none

Until this revision a proposal whose unit a catalogue entry (派单目录) named got no outcome row,
so a city with a catalogue saw few of its proposals in the routing-quality figures. Rows are
written now for every transferred ticket whose stored proposal has a classifier category (not a
rule's answer) and has no row, from its lead transfers: the first gives the unit first sent to,
the last the final unit, any return sets `returned`; the final category is the ticket's
category now (a category changes only at a transfer). Then routing_rollup is filled again from
all rows, by 0033's statement. Nothing is written where rows exist; the downgrade keeps them.

Revision ID: 0037
Revises: 0036
"""
from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

rollup_0033 = importlib.import_module("dispatch.migrations.versions.0033_routing_rollup")

BATCH = 2000

tickets = sa.table("tickets", sa.column("id", sa.Integer), sa.column("received_at", sa.DateTime),
                   sa.column("routing", sa.JSON), sa.column("category", sa.String))
transfers = sa.table("transfers", sa.column("id", sa.Integer), sa.column("ticket_id", sa.Integer),
                     sa.column("unit_id", sa.Integer), sa.column("transferred_at", sa.DateTime),
                     sa.column("outcome", sa.String), sa.column("role", sa.String))
units = sa.table("units", sa.column("id", sa.Integer), sa.column("code", sa.String))
outcomes = sa.table("routing_outcomes", sa.column("ticket_id", sa.Integer), sa.column("received_at", sa.DateTime),
                    *(sa.column(name, sa.String) for name in ("proposed_category", "proposed_unit_code",
                                                              "first_unit_code", "final_unit_code", "final_category")),
                    *(sa.column(name, sa.Boolean) for name in ("automatic", "unit_accepted", "category_accepted",
                                                               "corrected", "returned")))


def upgrade() -> None:
    backfill(op.get_bind())


def downgrade() -> None:
    pass


def proposal_of(routing: dict[str, Any] | None) -> tuple[str, str | None, bool] | None:
    """(category, unit code, automatic), as dispatch/routing_feedback.py reads a proposal at
    this revision."""
    if not routing or not routing.get("category") or routing.get("source") == "rule":
        return None
    if routing.get("unit_code"):
        return routing["category"], routing["unit_code"], True
    suggestions = routing.get("suggestions") or []
    if not suggestions:
        return None
    return routing["category"], suggestions[0].get("unit_code"), False


def backfill(connection: sa.Connection) -> int:
    """Write the missing rows; the number written."""
    lead = sa.and_(transfers.c.ticket_id == tickets.c.id, transfers.c.role == "lead")
    missing = (sa.select(tickets.c.id, tickets.c.received_at, tickets.c.routing, tickets.c.category)
               .where(tickets.c.routing.is_not(None), sa.exists().where(lead),
                      ~sa.exists().where(outcomes.c.ticket_id == tickets.c.id))
               .order_by(tickets.c.id))
    written, after = 0, 0
    while True:
        batch = connection.execute(missing.where(tickets.c.id > after).limit(BATCH)).all()
        if not batch:
            break
        after = batch[-1].id
        proposed = {row.id: (row, proposal) for row in batch if (proposal := proposal_of(row.routing)) is not None}
        rows = [_row(row, proposal, sent) for row, proposal, sent in _with_transfers(connection, proposed)]
        if rows:
            connection.execute(outcomes.insert(), rows)
            written += len(rows)
    if written:
        connection.execute(sa.text("DELETE FROM routing_rollup"))
        rollup_0033.backfill(connection)
    return written


def _with_transfers(connection: sa.Connection, proposed: dict[int, tuple[Any, Any]]):  # type: ignore[no-untyped-def]
    if not proposed:
        return []
    sent: dict[int, list[tuple[str, bool]]] = {}
    for ticket_id, code, outcome in connection.execute(
            sa.select(transfers.c.ticket_id, units.c.code, transfers.c.outcome)
            .join(units, units.c.id == transfers.c.unit_id)
            .where(transfers.c.ticket_id.in_(list(proposed)), transfers.c.role == "lead")
            .order_by(transfers.c.ticket_id, transfers.c.transferred_at, transfers.c.id)):
        sent.setdefault(ticket_id, []).append((code, outcome == "returned"))
    return [(row, proposal, sent[ticket_id]) for ticket_id, (row, proposal) in proposed.items() if ticket_id in sent]


def _row(ticket: Any, proposal: tuple[str, str | None, bool], sent: list[tuple[str, bool]]) -> dict[str, Any]:
    category, proposed_unit, automatic = proposal
    first, final = sent[0][0], sent[-1][0]
    return {"ticket_id": ticket.id, "received_at": ticket.received_at, "proposed_category": category,
            "proposed_unit_code": proposed_unit, "automatic": automatic, "first_unit_code": first,
            "final_unit_code": final, "final_category": ticket.category, "unit_accepted": final == proposed_unit,
            "category_accepted": ticket.category == category, "corrected": first != proposed_unit,
            "returned": any(returned for _, returned in sent)}
