"""staff activity log (logins, account, unit and rule changes, exports, tokens), append-only

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dispatch import audit

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_activity")),
    )
    op.create_index(op.f("ix_staff_activity_at"), "staff_activity", ["at"])
    op.create_index(op.f("ix_staff_activity_kind"), "staff_activity", ["kind"])
    op.create_index(op.f("ix_staff_activity_actor"), "staff_activity", ["actor"])
    op.create_index(op.f("ix_staff_activity_target"), "staff_activity", ["target"])
    audit.install_guard(op.get_bind(), "staff_activity")


def downgrade() -> None:
    audit.drop_guard(op.get_bind(), with_function=True, table="staff_activity")
    op.drop_index(op.f("ix_staff_activity_target"), table_name="staff_activity")
    op.drop_index(op.f("ix_staff_activity_actor"), table_name="staff_activity")
    op.drop_index(op.f("ix_staff_activity_kind"), table_name="staff_activity")
    op.drop_index(op.f("ix_staff_activity_at"), table_name="staff_activity")
    op.drop_table("staff_activity")
