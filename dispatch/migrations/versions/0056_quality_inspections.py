"""quality_inspections: 质检, a supervisor's checklist scores of one ticket an operator filed
(dispatch/quality.py); one per ticket.

Revision ID: 0056
Revises: 0055
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0056"
down_revision = "0055"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("operator_label", sa.String(length=200), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("inspector_label", sa.String(length=200), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_quality_inspections_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["operator_id"], ["staff_users.id"],
                                name=op.f("fk_quality_inspections_operator_id_staff_users")),
        sa.ForeignKeyConstraint(["inspector_id"], ["staff_users.id"],
                                name=op.f("fk_quality_inspections_inspector_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_inspections")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_quality_inspections_ticket_id")),
    )
    op.create_index("ix_quality_inspections_operator_id_created_at", "quality_inspections",
                    ["operator_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_quality_inspections_operator_id_created_at", table_name="quality_inspections")
    op.drop_table("quality_inspections")
