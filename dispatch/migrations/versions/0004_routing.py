"""routing: the proposal kept on each ticket, and operators' corrections as examples

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("routing", sa.JSON(), nullable=True))
    op.create_table(
        "routing_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("proposed_unit_code", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_routing_examples_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_examples")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_routing_examples_ticket_id")),
    )


def downgrade() -> None:
    op.drop_table("routing_examples")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("routing")
