"""shift_handovers: 交接班, an operator's note for the next shift with what was still waiting
when they handed over, and who took it over (dispatch/shift_handover.py); a partial index of
the ones not yet taken over, read on every console.

Revision ID: 0053
Revises: 0052
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None

NOT_ACKNOWLEDGED = "acknowledged_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "shift_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("staff_label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("shift_start", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("waiting_tickets", sa.Integer(), nullable=False),
        sa.Column("open_callbacks", sa.Integer(), nullable=False),
        sa.Column("unreached_callbacks", sa.Integer(), nullable=False),
        sa.Column("listed", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_label", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_shift_handovers_staff_id_staff_users")),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff_users.id"],
                                name=op.f("fk_shift_handovers_acknowledged_by_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_handovers")),
    )
    op.create_index("ix_shift_handovers_staff_id_created_at", "shift_handovers", ["staff_id", "created_at"])
    op.create_index("ix_shift_handovers_pending", "shift_handovers", ["id"],
                    postgresql_where=sa.text(NOT_ACKNOWLEDGED), sqlite_where=sa.text(NOT_ACKNOWLEDGED))


def downgrade() -> None:
    op.drop_index("ix_shift_handovers_pending", table_name="shift_handovers")
    op.drop_index("ix_shift_handovers_staff_id_created_at", table_name="shift_handovers")
    op.drop_table("shift_handovers")
