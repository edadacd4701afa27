"""notices to units (near due, overdue, escalated, daily digest) and the units' duty phones

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("duty_phone", sa.String(length=40), nullable=True))
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_notices_unit_id_units")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_notices_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("unit_id", "key", name=op.f("uq_notices_unit_key")),
    )
    op.create_index(op.f("ix_notices_ticket_id"), "notices", ["ticket_id"])
    op.create_index("ix_notices_unit_id_id", "notices", ["unit_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_notices_unit_id_id", table_name="notices")
    op.drop_index(op.f("ix_notices_ticket_id"), table_name="notices")
    op.drop_table("notices")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("duty_phone")
