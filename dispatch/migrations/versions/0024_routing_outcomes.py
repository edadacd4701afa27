"""routing_outcomes: what became of each ticket's classifier proposal (accepted, corrected,
returned), for the supervisor's acceptance figures

Revision ID: 0024
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_outcomes",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("proposed_category", sa.String(length=50), nullable=False),
        sa.Column("proposed_unit_code", sa.String(length=64), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("first_unit_code", sa.String(length=64), nullable=False),
        sa.Column("final_unit_code", sa.String(length=64), nullable=False),
        sa.Column("final_category", sa.String(length=50), nullable=True),
        sa.Column("unit_accepted", sa.Boolean(), nullable=False),
        sa.Column("category_accepted", sa.Boolean(), nullable=False),
        sa.Column("corrected", sa.Boolean(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_routing_outcomes_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_routing_outcomes")),
    )
    op.create_index("ix_routing_outcomes_received_at", "routing_outcomes", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_routing_outcomes_received_at", table_name="routing_outcomes")
    op.drop_table("routing_outcomes")
